//! Valve's Steam over UDP:
//! - In-Home Streaming discovery (broadcast, port 27036): 0xFFFFFFFF, the magic
//!   0xA05F4C21 (little-endian), a header length and a protobuf header, then a body length
//!   and a protobuf body, the lengths filling the datagram exactly ("Steam").
//! - Steam Datagram Relay pings: a message byte 0x01, a byte, then "sdping", padded
//!   ("SteamDatagramRelay").

use super::wire::le32;
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::STEAM,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[27036],
    inspect,
};

const DISCOVERY_MAGIC: [u8; 8] = [0xff, 0xff, 0xff, 0xff, 0x21, 0x4c, 0x5f, 0xa0];

/// Whether the datagram is a Steam discovery message.
pub fn is_discovery(d: &[u8]) -> bool {
    if d.get(..8) != Some(&DISCOVERY_MAGIC[..]) {
        return false;
    }
    let Some(header) = le32(d, 8).and_then(|n| usize::try_from(n).ok()) else {
        return false;
    };
    let body_at = 12usize.saturating_add(header);
    let Some(body) = le32(d, body_at).and_then(|n| usize::try_from(n).ok()) else {
        return false;
    };
    header > 0 && body_at.saturating_add(4).saturating_add(body) == d.len()
}

/// Whether the datagram is a Steam Datagram Relay ping.
pub fn is_relay_ping(d: &[u8]) -> bool {
    d.len() >= 16 && d.first() == Some(&0x01) && d.get(2..8) == Some(&b"sdping"[..])
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if is_discovery(ins.data) {
        ins.detect(id::STEAM);
        return Verdict::Done;
    }
    if is_relay_ping(ins.data) {
        ins.detect(id::STEAM_DATAGRAM_RELAY);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::*;
    use crate::protocols::harness::Conv;

    fn discovery() -> Vec<u8> {
        let mut d = DISCOVERY_MAGIC.to_vec();
        d.extend_from_slice(&4u32.to_le_bytes());
        d.extend_from_slice(&[0x08, 0x01, 0x10, 0x00]);
        d.extend_from_slice(&6u32.to_le_bytes());
        d.extend_from_slice(&[0x18, 0xaf, 0xca, 0x9b, 0xaa, 0xa0]);
        d
    }

    #[test]
    fn discovery_message() {
        assert!(is_discovery(&discovery()));
        let d = discovery();
        assert!(!is_discovery(&d[..d.len() - 1]));
        let mut c = Conv::udp(&DISSECTOR, 27036, 27036);
        c.client(&d);
        assert_eq!(c.name(), "Steam");
    }

    #[test]
    fn relay_ping() {
        let mut p = vec![0x01, 0x81];
        p.extend_from_slice(b"sdping");
        p.resize(100, 0x7e);
        assert!(is_relay_ping(&p));
        let mut c = Conv::udp(&DISSECTOR, 46604, 27045);
        c.client(&p);
        assert_eq!(c.name(), "SteamDatagramRelay");
        p[3] = b'x';
        assert!(!is_relay_ping(&p));
    }
}
