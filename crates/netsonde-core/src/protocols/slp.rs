//! Service Location Protocol, versions 1 (RFC 2165) and 2 (RFC 2608): a fixed header whose
//! version, function, length and language fields must all agree with the datagram. Service
//! URLs of replies, registrations and agent adverts are kept.

use super::wire::{be16, be24, slice, u8_at};
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};
use crate::attrs;
use crate::record::MetaValue;

attrs! {
    pub VERSION = "slp.version", Int, Service, "SLP version of the first message (1 or 2)";
    pub FUNCTION = "slp.function", Int, Usage, "Function of the first message (1 = SrvRqst, 2 = SrvRply, 3 = SrvReg, …)";
    pub URLS = "slp.urls", StrList, Content, "Service URLs in replies, registrations and adverts";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[&VERSION, &FUNCTION, &URLS];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::SLP,
    transports: Transports::TCP_UDP,
    tcp_ports: &[427],
    udp_ports: &[427],
    inspect,
};

/// URLs kept per flow.
const MAX_URLS: usize = 16;

/// The header fields that matter once a message is recognised.
#[derive(Debug, PartialEq, Eq)]
pub struct Header {
    pub version: u8,
    pub function: u8,
    /// Length of the whole message, header included.
    pub length: usize,
    /// Offset of the function-specific body.
    pub body: usize,
}

fn lang_tag_ok(tag: &[u8]) -> bool {
    // RFC 1766 tags: letters, digits and '-', starting with a letter ("en", "en-US").
    !tag.is_empty()
        && tag.first().is_some_and(u8::is_ascii_alphabetic)
        && tag.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-')
}

/// Parses an SLP header. `d` may hold more than one message (TCP); the header's length must
/// fit in it.
pub fn parse_header(d: &[u8]) -> Option<Header> {
    let version = u8_at(d, 0)?;
    let function = u8_at(d, 1)?;
    if !(1..=11).contains(&function) {
        return None;
    }
    match version {
        2 => {
            let length = usize::try_from(be24(d, 2)?).ok()?;
            let flags = be16(d, 5)?;
            let next_ext = usize::try_from(be24(d, 7)?).ok()?;
            let lang_len = usize::from(be16(d, 12)?);
            let body = 14 + lang_len;
            // Only O, F and R flags are defined; the rest must be zero.
            if flags & 0x1FFF != 0 || length < body || length > d.len() {
                return None;
            }
            if next_ext != 0 && (next_ext < body || next_ext >= length) {
                return None;
            }
            if !lang_tag_ok(slice(d, 14, lang_len)?) {
                return None;
            }
            Some(Header {
                version,
                function,
                length,
                body,
            })
        }
        1 => {
            let length = usize::from(be16(d, 2)?);
            let flags = u8_at(d, 4)?;
            let dialect = u8_at(d, 5)?;
            let lang = slice(d, 6, 2)?;
            let encoding = be16(d, 8)?;
            // Reserved flag bits zero, dialect 0, a two-letter language, a known IANA
            // character set (MIBenum up to a few thousand).
            if flags & 0x07 != 0
                || dialect != 0
                || !lang.iter().all(u8::is_ascii_alphabetic)
                || encoding == 0
                || encoding > 3000
                || length < 12
                || length > d.len()
            {
                return None;
            }
            Some(Header {
                version,
                function,
                length,
                body: 12,
            })
        }
        _ => None,
    }
}

/// A v2 URL entry at `at`: reserved, lifetime, length, URL, authentication blocks.
fn url_entry(msg: &[u8], at: usize) -> Option<(String, usize)> {
    let len = usize::from(be16(msg, at + 3)?);
    let url = slice(msg, at + 5, len)?;
    let mut next = at + 5 + len;
    let auths = u8_at(msg, next)?;
    next += 1;
    for _ in 0..auths {
        // Authentication block: descriptor (2), length (2) covering the whole block.
        let block = usize::from(be16(msg, next + 2)?);
        if block < 4 {
            return None;
        }
        next += block;
    }
    Some((String::from_utf8_lossy(url).into_owned(), next))
}

/// Service URLs carried by a v2 message, by function.
pub fn urls_v2(msg: &[u8], h: &Header) -> Vec<String> {
    let mut out = Vec::new();
    let b = h.body;
    match h.function {
        // SrvRply: error code, URL entry count, URL entries.
        2 => {
            let count = be16(msg, b + 2).unwrap_or(0);
            let mut at = b + 4;
            for _ in 0..usize::from(count).min(MAX_URLS) {
                let Some((url, next)) = url_entry(msg, at) else {
                    break;
                };
                out.push(url);
                at = next;
            }
        }
        // SrvReg: URL entry first.
        3 => out.extend(url_entry(msg, b).map(|(u, _)| u)),
        // DAAdvert: error code, boot timestamp, URL.
        8 => out.extend(string_at(msg, b + 6)),
        // SAAdvert: URL.
        11 => out.extend(string_at(msg, b)),
        _ => {}
    }
    out.retain(|u| !u.is_empty());
    out
}

fn string_at(msg: &[u8], at: usize) -> Option<String> {
    let len = usize::from(be16(msg, at)?);
    slice(msg, at + 2, len).map(|s| String::from_utf8_lossy(s).into_owned())
}

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    let tcp = ins.flow.l4 == 6;
    let Some(h) = parse_header(ins.data) else {
        // Over TCP a header may still be arriving.
        if tcp && ins.data.len() < 16 && matches!(ins.data.first(), Some(1 | 2)) {
            return Verdict::Continue;
        }
        return Verdict::Exclude;
    };
    // A datagram is exactly one message.
    if !tcp && h.length != ins.data.len() {
        return Verdict::Exclude;
    }
    ins.detect(id::SLP);
    if tcp {
        ins.consume(h.length);
    }
    st.set(&VERSION, MetaValue::Int(i64::from(h.version)));
    st.set(&FUNCTION, MetaValue::Int(i64::from(h.function)));
    if h.version == 2 {
        let msg = ins.data.get(..h.length).unwrap_or_default();
        let urls = urls_v2(msg, &h);
        if !urls.is_empty() {
            let mut all = match st.meta.get(&URLS) {
                Some(MetaValue::List(l)) => l.clone(),
                _ => Vec::new(),
            };
            for u in urls {
                if all.len() < MAX_URLS && !all.contains(&u) {
                    all.push(u);
                }
            }
            st.meta.replace(&URLS, MetaValue::List(all));
        }
    }
    if ins.packet_no >= 4 {
        return Verdict::Done;
    }
    Verdict::Continue
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::*;

    /// SrvRqst, v2: "service:printer" in scope DEFAULT, language "en".
    fn srv_rqst_v2() -> Vec<u8> {
        let mut m = vec![
            2u8, 1, 0, 0, 0, 0x00, 0x00, 0, 0, 0, 0x12, 0x34, 0, 2, b'e', b'n',
        ];
        m.extend_from_slice(&[0, 0]); // previous responders
        m.extend_from_slice(&[0, 15]);
        m.extend_from_slice(b"service:printer");
        m.extend_from_slice(&[0, 7]);
        m.extend_from_slice(b"DEFAULT");
        m.extend_from_slice(&[0, 0, 0, 0]); // predicate, SPI
        let len = m.len();
        m[4] = len as u8;
        m
    }

    #[test]
    fn v2_request_header() {
        let m = srv_rqst_v2();
        let h = parse_header(&m).expect("valid");
        assert_eq!(
            h,
            Header {
                version: 2,
                function: 1,
                length: m.len(),
                body: 16
            }
        );
        // A wrong length, version, function or language is refused.
        let mut bad = m.clone();
        bad[4] += 1;
        assert!(parse_header(&bad).is_none());
        let mut bad = m.clone();
        bad[0] = 3;
        assert!(parse_header(&bad).is_none());
        let mut bad = m.clone();
        bad[1] = 12;
        assert!(parse_header(&bad).is_none());
        let mut bad = m.clone();
        bad[14] = 0;
        assert!(parse_header(&bad).is_none());
        for n in 0..m.len() {
            assert!(parse_header(&m[..n]).is_none());
        }
    }

    #[test]
    fn v2_registration_url() {
        let url = b"slpTest://test:31337/";
        let mut m = vec![2u8, 3, 0, 0, 0, 0x40, 0x00, 0, 0, 0, 0, 1, 0, 2, b'e', b'n'];
        m.extend_from_slice(&[0, 0, 60, 0, url.len() as u8]);
        m.extend_from_slice(url);
        m.push(0); // no authentication blocks
        m.extend_from_slice(&[0, 7]);
        m.extend_from_slice(b"slpTest");
        let len = m.len();
        m[4] = len as u8;
        let h = parse_header(&m).expect("valid");
        assert_eq!(urls_v2(&m, &h), vec!["slpTest://test:31337/".to_string()]);
    }

    #[test]
    fn v1_attribute_request() {
        let mut m = vec![1u8, 6, 0, 0, 0, 0, b'e', b'n', 0, 3, 0x1e, 0xf7];
        m.extend_from_slice(&[0, 0, 0, 4]);
        m.extend_from_slice(b"svc:");
        m.extend_from_slice(&[0, 0, 0, 0]);
        let len = m.len();
        m[3] = len as u8;
        let h = parse_header(&m).expect("valid");
        assert_eq!((h.version, h.function, h.body), (1, 6, 12));
        let mut bad = m.clone();
        bad[5] = 1; // dialect
        assert!(parse_header(&bad).is_none());
    }
}
