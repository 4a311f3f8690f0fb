//! Viber's TCP signalling (ports 4244, 5242 and others): messages start with their total
//! length, little-endian, and the client's opening message carries the marker 0xFC 0xFF
//! at offset 6, after the length and a 32-bit session field, ahead of flag bytes.
//! Recognised from the client's first message alone.
//!
//! Viber's UDP relays (ports 7985, 7987): every datagram starts with a 16-bit session word
//! shared by both directions and a 16-bit little-endian message type; most messages carry
//! the caller's 8-byte peer id (after the type for 0x19/0x1A, after a 16-bit field for
//! 0x01/0x0C, after 8 bytes for 0x09/0x0B). A relay answer with the client's session word
//! and peer id confirms.

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::VIBER,
    transports: Transports::TCP_UDP,
    tcp_ports: &[4244, 5242],
    udp_ports: &[7985, 7987],
    inspect,
};

/// Smallest opening message: length, session field, marker, flags.
const MIN_LEN: usize = 12;
const MARKER: [u8; 2] = [0xFC, 0xFF];

/// Whether `d` starts with a Viber opening message filling the first `segment` bytes.
pub fn opening(d: &[u8]) -> bool {
    let (Some(&lo), Some(&hi)) = (d.first(), d.get(1)) else {
        return false;
    };
    let len = usize::from(lo) | usize::from(hi) << 8;
    len >= MIN_LEN && len == d.len() && d.get(6..8) == Some(&MARKER[..])
}

/// The session word, message type and peer id of a relay datagram.
pub fn relay_message(d: &[u8]) -> Option<(u16, u16, &[u8])> {
    let session = u16::from_be_bytes(d.get(..2)?.try_into().ok()?);
    let kind = u16::from_le_bytes(d.get(2..4)?.try_into().ok()?);
    let at = match kind {
        0x19 | 0x1a => 4,
        0x01 | 0x0c => 6,
        0x09 | 0x0b => 12,
        _ => return None,
    };
    Some((session, kind, d.get(at..at + 8)?))
}

/// Whether `answer` is a relay's answer to the client's datagram `open`.
pub fn relay_answers(open: &[u8], answer: &[u8]) -> bool {
    match (relay_message(open), relay_message(answer)) {
        (Some((s1, _, id1)), Some((s2, _, id2))) => {
            s1 == s2 && id1 == id2 && id1.iter().any(|&b| b != 0)
        }
        _ => false,
    }
}

fn inspect_udp(ins: &mut Inspect<'_>) -> Verdict {
    let open = ins.first_payload[0];
    if relay_message(open).is_none() {
        return Verdict::Exclude;
    }
    if ins.to_server() {
        return if ins.dir_packets[1] == 0 && ins.dir_packets[0] <= 4 {
            Verdict::Continue
        } else {
            Verdict::Exclude
        };
    }
    if relay_answers(open, ins.data) {
        ins.detect(id::VIBER);
        return Verdict::Done;
    }
    Verdict::Exclude
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if ins.flow.l4 == 17 {
        return inspect_udp(ins);
    }
    if ins.to_server() && ins.dir_packets[0] == 1 && opening(ins.first_payload[0]) {
        ins.detect(id::VIBER);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::*;

    #[test]
    fn opening_message() {
        let d = [
            0x18, 0, 0, 0, 0, 0, 0xfc, 0xff, 0x05, 0x80, 0x09, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x33, 0,
            0, 0,
        ];
        assert!(opening(&d));
        // The length must cover exactly the message.
        assert!(!opening(&d[..23]));
        let mut more = d.to_vec();
        more.push(0);
        assert!(!opening(&more));
        let mut nomark = d;
        nomark[7] = 0;
        assert!(!opening(&nomark));
        assert!(!opening(&[0x02, 0]));
    }

    #[test]
    fn relay_exchange() {
        use crate::protocols::harness::Conv;
        let peer = [0xac, 0x19, 0x35, 0x8c, 0x8f, 0x64, 0xe4, 0x47];
        let mut open = vec![0xed, 0xf6, 0x01, 0x00, 0x05, 0x00];
        open.extend_from_slice(&peer);
        open.resize(257, 0x11);
        let mut answer = vec![0xed, 0xf6, 0x0c, 0x00, 0x01, 0x00];
        answer.extend_from_slice(&peer);
        answer.resize(76, 0x22);
        assert!(relay_answers(&open, &answer));
        let mut c = Conv::udp(&DISSECTOR, 47171, 7985);
        c.client(&open).server(&answer);
        assert_eq!(c.name(), "Viber");
        let mut other = answer.clone();
        other[0] = 0x05;
        assert!(!relay_answers(&open, &other));
        let mut c = Conv::udp(&DISSECTOR, 47171, 7985);
        c.client(&open).server(&other);
        assert_eq!(c.name(), "Unknown");
    }
}
