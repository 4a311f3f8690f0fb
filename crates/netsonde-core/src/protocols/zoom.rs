//! Zoom's peer-to-peer media (UDP): packets open with type 0x1F, and the session packets
//! describe the peer: at offset 22 a 16-bit port (one of the flow's), then a 32-bit length
//! and that many bytes of the peer's dotted IPv4 address in ASCII. Confirmed by that
//! description alone, which no other packet layout fits by chance.

use super::wire::{be16, be32};
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::ZOOM,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[],
    inspect,
};

const P2P_TYPE: u8 = 0x1f;

/// The port and address described by a Zoom P2P packet.
pub fn p2p_peer(d: &[u8]) -> Option<(u16, std::net::Ipv4Addr)> {
    if d.first() != Some(&P2P_TYPE) {
        return None;
    }
    let port = be16(d, 22)?;
    let len = usize::try_from(be32(d, 24)?).ok()?;
    if !(7..=15).contains(&len) {
        return None;
    }
    let text = std::str::from_utf8(d.get(28..28 + len)?).ok()?;
    Some((port, text.parse().ok()?))
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    match p2p_peer(ins.data) {
        Some((port, _)) if port == ins.flow.client_port || port == ins.flow.server_port => {
            ins.detect(id::ZOOM);
            Verdict::Done
        }
        _ => Verdict::Exclude,
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::*;

    fn packet(ip: &[u8]) -> Vec<u8> {
        let mut d = vec![0x1f, 2, 1, 0, 8, 0, 1, 0, 4, 0, 0x4e, 0x15, 0x0e, 0xf8];
        d.extend_from_slice(&[0, 0, 0, 7, 0, 0, 0, 0x63]);
        d.extend_from_slice(&46757u16.to_be_bytes());
        d.extend_from_slice(&(ip.len() as u32).to_be_bytes());
        d.extend_from_slice(ip);
        d.extend_from_slice(&[0, 0, 0, 0x24]);
        d
    }

    #[test]
    fn peer_description() {
        let d = packet(b"192.168.1.226");
        assert_eq!(
            p2p_peer(&d),
            Some((46757, std::net::Ipv4Addr::new(192, 168, 1, 226)))
        );
        assert!(p2p_peer(&packet(b"192.168.1.x26")).is_none());
        let mut t = d.clone();
        t[0] = 0x1e;
        assert!(p2p_peer(&t).is_none());
        assert!(p2p_peer(&d[..30]).is_none());
    }
}
