//! i3D.net game-server voice relays (UDP). They use the IP-discovery exchange that Discord
//! voice servers use (74 bytes: type 1 or 2, length 70, an SSRC, a NUL-padded address, a
//! port), with the fixed SSRC 0x0003cfa8; their media follows as RTP with a one-byte
//! header extension (0xBEDE) and the SSRC 0x0003cfa8 or 0x0003cfa9. A discovery packet
//! with that SSRC is i3D's, not Discord's, so this dissector is tried first.

use super::wire::{be16, be32, u8_at};
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::I3D,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[],
    inspect,
};

const DISCOVERY_SSRC: u32 = 0x0003_cfa8;

/// Whether the datagram is an i3D IP-discovery packet.
pub fn is_discovery(d: &[u8]) -> bool {
    super::discord::discovery(d).is_some_and(|(_, ssrc, _, _)| ssrc == DISCOVERY_SSRC)
}

/// Whether the datagram is i3D media: RTP with an extension, one of the two SSRCs and a
/// one-byte extension header.
pub fn is_media(d: &[u8]) -> bool {
    d.len() >= 74
        && u8_at(d, 0) == Some(0x90)
        && be32(d, 8).is_some_and(|s| s == DISCOVERY_SSRC || s == DISCOVERY_SSRC + 1)
        && be16(d, 12) == Some(0xbede)
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if is_discovery(ins.data) || is_media(ins.data) {
        ins.detect(id::I3D);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::*;
    use crate::protocols::harness::Conv;

    fn discovery(ssrc: u32) -> Vec<u8> {
        let mut d = vec![0, 1, 0, 70];
        d.extend_from_slice(&ssrc.to_be_bytes());
        d.resize(74, 0);
        d
    }

    #[test]
    fn discovery_with_the_fixed_ssrc() {
        assert!(is_discovery(&discovery(0x0003_cfa8)));
        assert!(!is_discovery(&discovery(0x0000_ace3)));
        let mut c = Conv::all(17, 60476, 50004);
        c.client(&discovery(0x0003_cfa8));
        assert_eq!(c.name(), "i3D");
        // Another SSRC is Discord's.
        let mut c = Conv::all(17, 60476, 50004);
        c.client(&discovery(0x1234_5678));
        assert_eq!(c.name(), "Discord");
    }

    #[test]
    fn media() {
        let mut m = vec![
            0x90, 0x67, 0xf3, 0x9d, 0xee, 0xd8, 0x0b, 0x5c, 0, 3, 0xcf, 0xa9,
        ];
        m.extend_from_slice(&[0xbe, 0xde, 0, 3]);
        m.resize(200, 0x42);
        assert!(is_media(&m));
        m[11] = 0xaa;
        assert!(!is_media(&m));
    }
}
