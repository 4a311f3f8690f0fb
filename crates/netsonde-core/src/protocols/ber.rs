//! A minimal ASN.1 BER reader for the dissectors that need one (Kerberos, LDAP, SNMP-like
//! protocols): one tag-length-value at a time, definite lengths only, borrowed content.

/// Longest length field accepted (4 bytes: up to 4 GiB, far beyond any message here).
const MAX_LENGTH_BYTES: usize = 4;

/// One element: its identifier octet and content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tlv<'a> {
    pub tag: u8,
    pub content: &'a [u8],
}

/// The header of the element at the start of `d`: identifier, content length, header
/// size. Works on a prefix (the content need not have arrived).
pub fn header(d: &[u8]) -> Option<(u8, usize, usize)> {
    let tag = *d.first()?;
    // High tag numbers (0x1f) are not used by the protocols read here.
    if tag & 0x1f == 0x1f {
        return None;
    }
    let first = *d.get(1)?;
    if first & 0x80 == 0 {
        return Some((tag, usize::from(first), 2));
    }
    let n = usize::from(first & 0x7f);
    if n == 0 || n > MAX_LENGTH_BYTES {
        return None; // indefinite or too long
    }
    let mut len = 0usize;
    for i in 0..n {
        len = (len << 8) | usize::from(*d.get(2 + i)?);
    }
    Some((tag, len, 2 + n))
}

/// The element at the start of `d` and the bytes after it.
pub fn read(d: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    let (tag, len, hl) = header(d)?;
    let content = d.get(hl..hl.checked_add(len)?)?;
    Some((Tlv { tag, content }, d.get(hl + len..)?))
}

/// The elements inside a constructed element's content, in order (stops at the first
/// malformed one).
pub fn children(content: &[u8]) -> impl Iterator<Item = Tlv<'_>> {
    let mut rest = content;
    std::iter::from_fn(move || {
        let (tlv, next) = read(rest)?;
        rest = next;
        Some(tlv)
    })
}

/// The child with context tag `[n]` (constructed, 0xa0 + n).
pub fn context(content: &[u8], n: u8) -> Option<&[u8]> {
    children(content)
        .find(|t| t.tag == 0xa0 | n)
        .map(|t| t.content)
}

/// A small non-negative INTEGER.
pub fn integer(t: Tlv<'_>) -> Option<u64> {
    if t.tag != 0x02 || t.content.is_empty() || t.content.len() > 8 {
        return None;
    }
    if t.content.first().is_some_and(|b| b & 0x80 != 0) {
        return None;
    }
    Some(
        t.content
            .iter()
            .fold(0u64, |acc, &b| acc << 8 | u64::from(b)),
    )
}

/// The INTEGER inside an explicit context tag `[n]`.
pub fn context_integer(content: &[u8], n: u8) -> Option<u64> {
    let (t, _) = read(context(content, n)?)?;
    integer(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_lengths() {
        assert_eq!(header(&[0x30, 0x03]), Some((0x30, 3, 2)));
        assert_eq!(header(&[0x30, 0x82, 0x01, 0x00]), Some((0x30, 256, 4)));
        assert_eq!(header(&[0x30, 0x80]), None);
        assert_eq!(header(&[0x30, 0x85, 1, 1, 1, 1, 1]), None);
        assert_eq!(header(&[0x1f, 0x01]), None);
        let d = [0x30, 0x06, 0xa1, 0x03, 0x02, 0x01, 0x05, 0xff, 0x99];
        let (t, rest) = read(&d).expect("element");
        assert_eq!((t.tag, rest), (0x30, &[0x99][..]));
        assert_eq!(context_integer(t.content, 1), Some(5));
        assert_eq!(context_integer(t.content, 2), None);
        assert_eq!(read(&[0x30, 0x05, 0x00]), None);
        assert_eq!(
            integer(Tlv {
                tag: 0x02,
                content: &[0x80]
            }),
            None
        );
    }
}
