//! Roughtime (authenticated coarse time, UDP 2002): a message is a tag-value map — the tag
//! count (little-endian 32-bit), count-1 value offsets (ascending multiples of 4), the tags
//! (four bytes each, ascending: `NONC`, `PAD\xff`, `SIG\0`, `SREP`, …) and the values. IETF
//! drafts put the `ROUGHTIM` magic and a length before the map. Confirmed by a well-formed
//! map header whose values fit in the datagram.

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::ROUGHTIME,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[2002],
    inspect,
};

const MAGIC: &[u8] = b"ROUGHTIM";
/// More tags than any Roughtime message uses (requests carry at least a nonce and padding).
const MAX_TAGS: usize = 64;

fn le32(d: &[u8], at: usize) -> Option<usize> {
    usize::try_from(u32::from_le_bytes(d.get(at..at + 4)?.try_into().ok()?)).ok()
}

/// A tag byte: upper-case letters, digits, NUL and 0xFF (padding) are used.
fn tag_byte(b: u8) -> bool {
    b.is_ascii_uppercase() || b.is_ascii_digit() || b == 0 || b == 0xff
}

/// A well-formed tag-value map filling `d`: its tag count.
pub fn map(d: &[u8]) -> Option<usize> {
    let n = le32(d, 0)?;
    if !(2..=MAX_TAGS).contains(&n) {
        return None;
    }
    let header = 4 * (2 * n);
    let values = d.len().checked_sub(header)?;
    let mut prev_off = 0;
    for i in 1..n {
        let off = le32(d, 4 * i)?;
        if off % 4 != 0 || off < prev_off || off > values {
            return None;
        }
        prev_off = off;
    }
    let tags = d.get(4 * n..header)?;
    let mut prev_tag = None;
    for t in tags.chunks_exact(4) {
        // The first byte of a tag is a letter.
        if !t.first().is_some_and(u8::is_ascii_uppercase) || !t.iter().all(|&b| tag_byte(b)) {
            return None;
        }
        let v = u32::from_le_bytes(t.try_into().ok()?);
        if prev_tag.is_some_and(|p| v <= p) {
            return None;
        }
        prev_tag = Some(v);
    }
    Some(n)
}

/// A Roughtime message, with or without the IETF framing.
pub fn is_roughtime(d: &[u8]) -> bool {
    match d.strip_prefix(MAGIC) {
        Some(rest) => {
            let body = rest.get(4..).unwrap_or_default();
            le32(rest, 0) == Some(body.len()) && map(body).is_some()
        }
        None => map(d).is_some(),
    }
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if is_roughtime(ins.data) {
        ins.detect(id::ROUGHTIME);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    fn request() -> Vec<u8> {
        let mut m = b"\x02\x00\x00\x00\x40\x00\x00\x00NONCPAD\xff".to_vec();
        m.resize(1024, 0);
        m
    }

    #[test]
    fn google_request() {
        assert_eq!(map(&request()), Some(2));
        let mut c = Conv::udp(&DISSECTOR, 36225, 2002);
        c.client(&request());
        assert_eq!(c.name(), "Roughtime");
    }

    #[test]
    fn response_and_ietf_framing() {
        let mut r = b"\x05\x00\x00\x00\x40\x00\x00\x00\x40\x00\x00\x00\xa4\x00\x00\x00\x3c\x01\x00\x00SIG\x00PATHSREPCERTINDX".to_vec();
        r.resize(360, 7);
        assert_eq!(map(&r), Some(5));
        let body = request();
        let mut framed = MAGIC.to_vec();
        framed.extend_from_slice(&(body.len() as u32).to_le_bytes());
        framed.extend_from_slice(&body);
        assert!(is_roughtime(&framed));
    }

    #[test]
    fn rejects_others() {
        // Tags out of order.
        let mut m = b"\x02\x00\x00\x00\x40\x00\x00\x00PAD\xffNONC".to_vec();
        m.resize(1024, 0);
        assert_eq!(map(&m), None);
        // Offset past the end.
        let m = b"\x02\x00\x00\x00\x40\x00\x00\x00NONCPAD\xff";
        assert_eq!(map(m), None);
        assert_eq!(map(b"\x00\x00\x00\x00"), None);
        assert_eq!(map(b"\x01\x00\x00\x00NONC"), None);
    }
}
