//! KCP, a reliable-ARQ protocol over UDP. A datagram is a run of segments, each a 24-byte
//! little-endian header — conversation id (32), command (81 push, 82 ack, 83 window probe,
//! 84 window size), fragment count, window (16), timestamp, sequence number, unacknowledged
//! number and data length (32 each) — and its data. Every segment must carry the same
//! conversation id and the run must end exactly at the datagram's end.

use super::wire::le32;
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static DISSECTOR: Dissector = Dissector {
    proto: id::KCP,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[],
    inspect,
};

const HEADER: usize = 24;

/// Whether the datagram is a run of KCP segments.
pub fn is_segments(d: &[u8]) -> bool {
    let Some(conv) = le32(d, 0) else {
        return false;
    };
    let mut at = 0;
    while at < d.len() {
        if le32(d, at) != Some(conv) || !matches!(d.get(at + 4), Some(81..=84)) {
            return false;
        }
        let Some(len) = le32(d, at + 20).and_then(|l| usize::try_from(l).ok()) else {
            return false;
        };
        if len > d.len() {
            return false;
        }
        at += HEADER + len;
    }
    at == d.len()
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if is_segments(ins.data) {
        ins.detect(id::KCP);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    fn seg(conv: u32, cmd: u8, data: &[u8]) -> Vec<u8> {
        let mut s = conv.to_le_bytes().to_vec();
        s.extend_from_slice(&[cmd, 0, 0x80, 0]);
        s.extend_from_slice(&[0x14, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0]);
        s.extend_from_slice(&(data.len() as u32).to_le_bytes());
        s.extend_from_slice(data);
        s
    }

    #[test]
    fn push_and_ack() {
        let mut c = Conv::udp(&DISSECTOR, 47356, 8000);
        c.client(&seg(10, 81, &[7; 1448]));
        assert_eq!(c.name(), "KCP");
        let mut two = seg(10, 82, &[]);
        two.extend_from_slice(&seg(10, 81, b"hi"));
        assert!(is_segments(&two));
    }

    #[test]
    fn rejects() {
        let mut p = seg(10, 81, b"hello");
        p.push(0);
        assert!(!is_segments(&p));
        let mut two = seg(10, 82, &[]);
        two.extend_from_slice(&seg(11, 81, b"hi"));
        assert!(!is_segments(&two));
        assert!(!is_segments(&seg(10, 80, b"x")));
        assert!(!is_segments(&[]));
    }
}
