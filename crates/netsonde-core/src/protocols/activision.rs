//! Activision (Call of Duty) peer and server traffic over UDP. A session opens with a
//! 0x0d02 or 0x0c02 message whose answer carries the other of the two words and echoes
//! the rest of the message byte for byte; keep-alives follow as 0x28 requests and 0x29
//! replies.

use super::wire::be16;
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::ACTIVISION,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[3074],
    inspect,
};

fn opening_word(d: &[u8]) -> Option<u16> {
    be16(d, 0).filter(|w| d.len() >= 18 && matches!(w, 0x0c02 | 0x0d02))
}

/// Whether `answer` answers the opening `open`: the other word, the same body.
pub fn is_echo(open: &[u8], answer: &[u8]) -> bool {
    match (opening_word(open), opening_word(answer)) {
        (Some(a), Some(b)) => a != b && open.get(2..) == answer.get(2..),
        _ => false,
    }
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    let open = ins.first_payload[0];
    if opening_word(open).is_none() {
        return Verdict::Exclude;
    }
    if ins.to_server() {
        return if ins.dir_packets[0] == 1 {
            Verdict::Continue
        } else {
            Verdict::Exclude
        };
    }
    if is_echo(open, ins.data) {
        ins.detect(id::ACTIVISION);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::*;
    use crate::protocols::harness::Conv;

    const OPEN: [u8; 29] = [
        0x0d, 0x02, 0x00, 0xd3, 0xdd, 0xed, 0x03, 0x96, 0x16, 0x69, 0x98, 0x1a, 0x27, 0xaf, 0x4f,
        0x38, 0x1b, 0xc0, 0xa8, 0x00, 0x15, 0x02, 0x0c, 0x6c, 0x3d, 0xeb, 0x1f, 0xa1, 0x82,
    ];

    #[test]
    fn opening_exchange() {
        let mut ans = OPEN;
        ans[0] = 0x0c;
        assert!(is_echo(&OPEN, &ans));
        assert!(!is_echo(&OPEN, &OPEN));
        let mut c = Conv::udp(&DISSECTOR, 3074, 33441);
        c.client(&OPEN).server(&ans);
        assert_eq!(c.name(), "Activision");
    }

    #[test]
    fn rejects_others() {
        let mut ans = OPEN;
        ans[0] = 0x0c;
        ans[20] ^= 0xff;
        assert!(!is_echo(&OPEN, &ans));
        assert!(!is_echo(&OPEN[..10], &ans[..10]));
        let mut c = Conv::udp(&DISSECTOR, 3074, 33441);
        c.client(&OPEN).server(&[0x29; 27]);
        assert_eq!(c.name(), "Unknown");
    }
}
