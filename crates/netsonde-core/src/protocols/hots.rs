//! Heroes of the Storm game traffic (UDP). Its datagrams carry a 16-bit header word of
//! 0x4000 (0x4010 on retransmissions) at offset 14, after either fourteen zero bytes
//! (the server's packets) or a session word and a 0x0300/0x3400 kind (the client's).
//! One datagram of that shape is weak evidence, so two in a flow confirm it.

use super::wire::be16;
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::HOTS,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[3724, 1119],
    inspect,
};

/// Whether the datagram has the game's header shape.
pub fn is_game_datagram(d: &[u8]) -> bool {
    let head = d.get(..14).unwrap_or_default();
    (20..=122).contains(&d.len())
        && be16(d, 14).is_some_and(|w| w & 0xffef == 0x4000)
        && (head.iter().all(|&b| b == 0) || matches!(be16(d, 2), Some(0x0300 | 0x3400)))
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if !is_game_datagram(ins.data) {
        return Verdict::Exclude;
    }
    if ins.packet_no >= 2 {
        ins.detect(id::HOTS);
        return Verdict::Done;
    }
    Verdict::Continue
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::*;
    use crate::protocols::harness::Conv;

    const CLIENT: [u8; 24] = [
        0xe6, 0x5d, 0x34, 0x00, 0x97, 0x27, 0x14, 0xf7, 0x3f, 0x95, 0xaa, 0xe0, 0x3e, 0x36, 0x40,
        0x00, 0x1a, 0xbc, 0x63, 0xb3, 0x2a, 0xc9, 0xfd, 0xa5,
    ];

    fn server() -> Vec<u8> {
        let mut p = vec![0u8; 14];
        p.extend_from_slice(&[0x40, 0x00, 0xbc, 0xb6, 0x4a, 0x77, 0xd8, 0xdd]);
        p
    }

    #[test]
    fn shapes() {
        assert!(is_game_datagram(&CLIENT));
        assert!(is_game_datagram(&server()));
        let mut p = CLIENT;
        p[14] = 0x41;
        assert!(!is_game_datagram(&p));
        let mut p = CLIENT;
        p[2] = 0x35;
        assert!(!is_game_datagram(&p));
        assert!(!is_game_datagram(&CLIENT[..18]));
    }

    #[test]
    fn two_datagrams_confirm() {
        let mut c = Conv::udp(&DISSECTOR, 54598, 3724);
        c.client(&CLIENT);
        assert_eq!(c.name(), "Unknown");
        c.server(&server());
        assert_eq!(c.name(), "Heroes_of_the_Storm");
        let mut c = Conv::udp(&DISSECTOR, 54598, 3724);
        c.client(&CLIENT).client(&[1; 40]).client(&CLIENT);
        assert_eq!(c.name(), "Unknown");
    }
}
