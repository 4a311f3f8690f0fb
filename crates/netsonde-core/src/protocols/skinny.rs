//! Cisco Skinny Client Control Protocol (SCCP, TCP 2000): every message has a 12-byte
//! little-endian header (data length counted from the message id on, a header version,
//! the message id) and its data. Confirmed when the stream so far is whole messages with a
//! known header version and message ids in SCCP's ranges.

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::CISCO_SKINNY,
    transports: Transports::TCP,
    tcp_ports: &[2000],
    udp_ports: &[],
    inspect,
};

/// Largest message accepted.
const MAX_LEN: usize = 4096;

fn le32(d: &[u8], at: usize) -> Option<u32> {
    let b: [u8; 4] = d.get(at..at + 4)?.try_into().ok()?;
    Some(u32::from_le_bytes(b))
}

/// Header versions seen in SCCP (basic 0, then the CallManager releases' versions).
fn known_version(v: u32) -> bool {
    v == 0 || (0x11..=0x17).contains(&v)
}

/// Station-to-CallManager ids sit below 0x200, CallManager-to-station ones from 0x8000.
fn known_message(id: u32) -> bool {
    id < 0x200 || (0x8000..0x8200).contains(&id)
}

/// How many whole messages `d` starts with, and whether they fill it exactly; `None` when
/// a header does not fit SCCP.
pub fn messages(d: &[u8]) -> Option<(usize, bool)> {
    let mut at = 0;
    let mut n = 0;
    while at + 12 <= d.len() {
        let len = usize::try_from(le32(d, at)?).ok()?;
        if !(4..=MAX_LEN).contains(&len)
            || !known_version(le32(d, at + 4)?)
            || !known_message(le32(d, at + 8)?)
        {
            return None;
        }
        let end = at + 8 + len;
        if end > d.len() {
            break;
        }
        at = end;
        n += 1;
    }
    Some((n, at == d.len()))
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    match messages(ins.data) {
        Some((n, true)) if n > 0 => {
            ins.detect(id::CISCO_SKINNY);
            Verdict::Done
        }
        Some(_) if ins.data.len() < 12 + MAX_LEN => Verdict::Continue,
        _ => Verdict::Exclude,
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::*;

    #[test]
    fn register_and_ack() {
        // KeepAlive-like message: length 4, version 0x14, id 0x0026, then more.
        let m1 = [
            0x10, 0, 0, 0, 0x14, 0, 0, 0, 0x26, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        assert_eq!(messages(&m1), Some((1, true)));
        assert_eq!(messages(&m1[..20]), Some((0, false)));
        let m2 = [
            0x08,
            0,
            0,
            0,
            0x14,
            0,
            0,
            0,
            0x88,
            0,
            0,
            0x80 - 0x80,
            1,
            0,
            0,
            0,
        ];
        let mut both = m1.to_vec();
        both.extend_from_slice(&m2);
        assert_eq!(messages(&both), Some((2, true)));
        assert_eq!(messages(&both[..30]), Some((1, false)));
        let mut bad = m1;
        bad[4] = 0x40;
        assert_eq!(messages(&bad), None);
        let mut bad_id = m1;
        bad_id[10] = 0x10;
        assert_eq!(messages(&bad_id), None);
        assert_eq!(messages(b"GET / HTTP/1.1\r\n"), None);
    }
}
