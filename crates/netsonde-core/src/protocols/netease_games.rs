//! NetEase games over UDP (Lost Light, Badlanders, Naraka: Bladepoint). Three openings are
//! known, each confirmed by the server's answer:
//! - a 12-byte hello (0x01, a byte, 0x01D0 little-endian, a 4-byte token, 00 01 01 01)
//!   answered by 12 bytes carrying the same token;
//! - datagrams of at least 30 bytes starting 0xB3AF8DE8 in both directions;
//! - datagrams of more than 30 bytes starting 07 08 08 0C in both directions.

use super::wire::be32;
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::NETEASE_GAMES,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[],
    inspect,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Opening {
    Hello,
    LostLight,
    Naraka,
}

/// Which opening the client's first datagram is.
pub fn opening(d: &[u8]) -> Option<Opening> {
    if d.len() == 12
        && d.first() == Some(&1)
        && d.get(2..4) == Some(&[0xd0, 0x01][..])
        && d.get(8..12) == Some(&[0, 1, 1, 1][..])
    {
        return Some(Opening::Hello);
    }
    match be32(d, 0) {
        Some(0xb3af_8de8) if d.len() >= 30 => Some(Opening::LostLight),
        Some(0x0708_080c) if d.len() > 30 => Some(Opening::Naraka),
        _ => None,
    }
}

/// Whether `answer` answers the opening datagram `open`.
pub fn answers(open: &[u8], answer: &[u8]) -> bool {
    match opening(open) {
        Some(Opening::Hello) => {
            answer.len() == 12 && answer.first() == Some(&1) && answer.get(4..8) == open.get(4..8)
        }
        Some(Opening::LostLight) => answer.len() >= 30 && answer.get(..4) == open.get(..4),
        Some(Opening::Naraka) => answer.len() > 30 && answer.get(..4) == open.get(..4),
        None => false,
    }
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    let open = ins.first_payload[0];
    if opening(open).is_none() {
        return Verdict::Exclude;
    }
    if ins.to_server() {
        return if ins.dir_packets[1] == 0 && ins.dir_packets[0] <= 4 {
            Verdict::Continue
        } else {
            Verdict::Exclude
        };
    }
    if ins.dir_packets[1] == 1 && answers(open, ins.data) {
        ins.detect(id::NETEASE_GAMES);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::*;
    use crate::protocols::harness::Conv;

    const HELLO: [u8; 12] = [
        0x01, 0xb5, 0xd0, 0x01, 0x11, 0x2a, 0x3d, 0x03, 0x00, 0x01, 0x01, 0x01,
    ];
    const REPLY: [u8; 12] = [
        0x01, 0x14, 0xd3, 0x01, 0x11, 0x2a, 0x3d, 0x03, 0x48, 0x41, 0x17, 0x01,
    ];

    #[test]
    fn hello_exchange() {
        assert!(answers(&HELLO, &REPLY));
        let mut other = REPLY;
        other[5] = 0;
        assert!(!answers(&HELLO, &other));
        let mut c = Conv::udp(&DISSECTOR, 56588, 9000);
        c.client(&HELLO).server(&REPLY);
        assert_eq!(c.name(), "NetEaseGames");
    }

    #[test]
    fn magic_openings() {
        let mut a = vec![0x07, 0x08, 0x08, 0x0c];
        a.resize(82, 0x11);
        let mut b = vec![0x07, 0x08, 0x08, 0x0c];
        b.resize(290, 0x22);
        assert!(answers(&a, &b));
        assert!(!answers(&a, &b[..20]));
        let mut c = Conv::udp(&DISSECTOR, 58951, 9000);
        c.client(&a).server(&a[..16]);
        assert_eq!(c.name(), "Unknown");
    }
}
