//! Bounds-checked reads of integers from packet bytes, shared by the dissectors.
//! Every read returns `None` past the end of the data: no dissector indexes into a packet.

pub fn u8_at(d: &[u8], at: usize) -> Option<u8> {
    d.get(at).copied()
}

pub fn be16(d: &[u8], at: usize) -> Option<u16> {
    let b = d.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([*b.first()?, *b.get(1)?]))
}

pub fn be24(d: &[u8], at: usize) -> Option<u32> {
    let b = d.get(at..at.checked_add(3)?)?;
    Some(u32::from_be_bytes([0, *b.first()?, *b.get(1)?, *b.get(2)?]))
}

pub fn be32(d: &[u8], at: usize) -> Option<u32> {
    let b: [u8; 4] = d.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_be_bytes(b))
}

pub fn le16(d: &[u8], at: usize) -> Option<u16> {
    let b = d.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([*b.first()?, *b.get(1)?]))
}

pub fn le32(d: &[u8], at: usize) -> Option<u32> {
    let b: [u8; 4] = d.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_le_bytes(b))
}

/// `len` bytes at `at`, if all are there.
pub fn slice(d: &[u8], at: usize, len: usize) -> Option<&[u8]> {
    d.get(at..at.checked_add(len)?)
}

/// Whether `d` starts with `prefix`, compared without regard to ASCII case.
pub fn starts_with_ci(d: &[u8], prefix: &[u8]) -> bool {
    d.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

/// For probes of a fixed opening: `Some(true)` when `d` starts with `magic`, `Some(false)`
/// while `d` is still a shorter prefix of it (the rest may arrive), `None` otherwise.
pub fn opening(d: &[u8], magic: &[u8]) -> Option<bool> {
    let n = d.len().min(magic.len());
    if d.get(..n) != magic.get(..n) {
        return None;
    }
    Some(n == magic.len())
}

/// [`opening`] with one more byte after `magic` that `next` must accept (a version digit,
/// a line end).
pub fn opening_then(d: &[u8], magic: &[u8], next: fn(u8) -> bool) -> Option<bool> {
    if !opening(d, magic)? {
        return Some(false);
    }
    match d.get(magic.len()) {
        None => Some(false),
        Some(&b) => next(b).then_some(true),
    }
}

/// The verdict of a probe by opening: `proto` on `Some(true)`, wait for more on
/// `Some(false)`, exclude on `None`.
pub fn opening_verdict(
    ins: &mut super::Inspect<'_>,
    proto: super::ProtoId,
    seen: Option<bool>,
) -> super::Verdict {
    match seen {
        Some(true) => {
            ins.detect(proto);
            super::Verdict::Done
        }
        Some(false) => super::Verdict::Continue,
        None => super::Verdict::Exclude,
    }
}

/// Text of bytes that should be printable: lossy UTF-8, control characters dropped.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b)
        .chars()
        .filter(|c| !c.is_control())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openings() {
        assert_eq!(opening(b"@RSYNCD: 31", b"@RSYNCD: "), Some(true));
        assert_eq!(opening(b"@RSY", b"@RSYNCD: "), Some(false));
        assert_eq!(opening(b"@RSX", b"@RSYNCD: "), None);
    }

    #[test]
    fn reads_stop_at_the_end() {
        let d = [1u8, 2, 3, 4];
        assert_eq!(be16(&d, 2), Some(0x0304));
        assert_eq!(be16(&d, 3), None);
        assert_eq!(be24(&d, 1), Some(0x020304));
        assert_eq!(be32(&d, 0), Some(0x01020304));
        assert_eq!(le32(&d, 0), Some(0x04030201));
        assert_eq!(be32(&d, 1), None);
        assert_eq!(be16(&d, usize::MAX), None);
        assert_eq!(slice(&d, 3, 2), None);
        assert!(starts_with_ci(b"NOTIFY * HTTP/1.1", b"notify "));
        assert_eq!(text(b"a\r\nb"), "ab");
    }
}
