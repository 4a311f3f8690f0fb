//! Nest (Google) devices' log sink uploads over TCP. Each message starts with its length
//! (16-bit little-endian, excluding these two bytes), a flags byte (0x00 or 0x10) and the
//! constant 0x13, then the two 8-byte device/session identifiers, swapped between the
//! directions. A flow is recognised once each direction opened with such a header and the
//! identifiers mirror each other.

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};
use crate::classify::Dir;

pub static DISSECTOR: Dissector = Dissector {
    proto: id::NEST_LOG_SINK,
    transports: Transports::TCP,
    tcp_ports: &[11095],
    udp_ports: &[],
    inspect,
};

const HEADER: usize = 24;

/// The two identifiers (bytes 8..16 and 16..24) when `d` starts with a log-sink header.
pub fn header_ids(d: &[u8]) -> Option<(&[u8], &[u8])> {
    let len = usize::from(u16::from_le_bytes([*d.first()?, *d.get(1)?]));
    if len + 2 < HEADER || !matches!(d.get(2), Some(0x00 | 0x10)) || d.get(3) != Some(&0x13) {
        return None;
    }
    Some((d.get(8..16)?, d.get(16..24)?))
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    let Some((a, b)) = header_ids(ins.data) else {
        return Verdict::Exclude;
    };
    let other = match ins.dir {
        Dir::ToServer => Dir::ToClient,
        Dir::ToClient => Dir::ToServer,
    };
    let first_other = ins
        .first_payload
        .get(other as usize)
        .copied()
        .unwrap_or_default();
    if first_other.is_empty() {
        return Verdict::Continue;
    }
    match header_ids(first_other) {
        Some((c, d)) if c == b && d == a => {
            ins.detect(id::NEST_LOG_SINK);
            Verdict::Done
        }
        _ => Verdict::Exclude,
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    fn msg(len: u16, flags: u8, a: [u8; 8], b: [u8; 8]) -> Vec<u8> {
        let mut m = len.to_le_bytes().to_vec();
        m.extend_from_slice(&[flags, 0x13, 0x08, 0x03, 0, 0]);
        m.extend_from_slice(&a);
        m.extend_from_slice(&b);
        m.resize(usize::from(len) + 2, 0x5a);
        m
    }

    const A: [u8; 8] = [0x36, 0x9e, 0x27, 0, 0, 0x30, 0xb4, 0x18];
    const B: [u8; 8] = [4, 0, 0, 0, 2, 0x30, 0xb4, 0x18];

    #[test]
    fn mirrored_identifiers() {
        let mut c = Conv::tcp(&DISSECTOR, 63342, 11095);
        c.client(&msg(529, 0, A, B));
        assert_eq!(c.name(), "Unknown");
        c.server(&msg(677, 0, B, A));
        assert_eq!(c.name(), "NestLogSink");
    }

    #[test]
    fn unrelated_reply_is_rejected() {
        let mut c = Conv::tcp(&DISSECTOR, 63342, 11095);
        c.client(&msg(529, 0, A, B)).server(&msg(677, 0, A, B));
        assert_eq!(c.name(), "Unknown");
        assert!(header_ids(&msg(529, 0x20, A, B)).is_none());
    }
}
