//! Elasticsearch's node-to-node transport protocol (port 9300): every message starts with
//! `ES` and a 32-bit big-endian size of what follows (-1 for a ping), then a request id,
//! a status byte and the sender's version. Confirmed by a header whose size matches the
//! message and whose status byte has no unknown bits; the action name of a request is
//! extracted when readable.

use super::lines::text;
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};
use crate::attrs;

attrs! {
    pub ACTION = "elasticsearch.action", Str, Usage, "Action of the first transport request (e.g. internal:tcp/handshake)";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[&ACTION];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::ELASTICSEARCH,
    transports: Transports::TCP,
    tcp_ports: &[9300],
    udp_ports: &[],
    inspect,
};

const MAX_MESSAGE: usize = 100 << 20;
/// Status bits: request/response, error, compressed, handshake.
const STATUS_BITS: u8 = 0x0f;

/// The header of the message at the start of `d`: total length (None for a ping) and
/// whether it is a request.
fn header(d: &[u8]) -> Option<(Option<usize>, bool)> {
    if d.get(..2)? != b"ES" {
        return None;
    }
    let size = i32::from_be_bytes(d.get(2..6)?.try_into().ok()?);
    if size == -1 {
        return Some((None, false));
    }
    let size = usize::try_from(size).ok()?;
    // request id (8), status (1), version (4), at least.
    if !(13..=MAX_MESSAGE).contains(&size) {
        return None;
    }
    let status = *d.get(14)?;
    if status & !STATUS_BITS != 0 {
        return None;
    }
    Some((Some(6 + size), status & 0x01 == 0))
}

/// The first printable run of `min` or more bytes after the fixed header: the action name
/// of a request sits there, after the variable header's length.
fn action(msg: &[u8]) -> Option<String> {
    let body = msg.get(19..)?;
    let mut start = None;
    for (i, &b) in body.iter().enumerate() {
        let ok = b.is_ascii_alphanumeric() || b":/_-.[]".contains(&b);
        match (ok, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) if i - s >= 8 => {
                let run = body.get(s..i)?;
                return run.contains(&b':').then(|| text(run, 128));
            }
            (false, Some(_)) => start = None,
            _ => {}
        }
    }
    None
}

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    let d = ins.data;
    if d.len() < 15 {
        let n = d.len().min(2);
        return if d.get(..n) == b"ES".get(..n) {
            Verdict::Continue
        } else {
            Verdict::Exclude
        };
    }
    let Some((len, request)) = header(d) else {
        return Verdict::Exclude;
    };
    if let Some(len) = len {
        match d.len().cmp(&len) {
            std::cmp::Ordering::Less => return Verdict::Continue,
            // Another message may follow; it must start with the marker too.
            std::cmp::Ordering::Greater if d.get(len..len + 2).is_some_and(|m| m != b"ES") => {
                return Verdict::Exclude
            }
            _ => {}
        }
    }
    ins.detect(id::ELASTICSEARCH);
    if request {
        if let Some(a) = len.and_then(|l| d.get(..l)).and_then(action) {
            st.set_str(&ACTION, a);
        }
    }
    Verdict::Done
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    fn msg(status: u8, body: &[u8]) -> Vec<u8> {
        let mut m = b"ES".to_vec();
        m.extend_from_slice(&((13 + body.len()) as i32).to_be_bytes());
        m.extend_from_slice(&[0; 8]);
        m.push(status);
        m.extend_from_slice(&[0x08, 0x00, 0x5c, 0xc6]);
        m.extend_from_slice(body);
        m
    }

    #[test]
    fn handshake_request() {
        let mut body = vec![0x00, 0x00, 0x01, 0x06, b'x', b'-'];
        body.extend_from_slice(b"\x16internal:tcp/handshake\x00\x04");
        let mut c = Conv::tcp(&DISSECTOR, 40282, 9300);
        c.client(&msg(0x08, &body));
        assert_eq!(c.name(), "Elasticsearch");
        assert_eq!(c.meta(&ACTION).as_deref(), Some("internal:tcp/handshake"));
    }

    #[test]
    fn rejects() {
        assert_eq!(header(&msg(0x40, b"")), None);
        assert_eq!(header(b"ES\x00\x00\x00\x01xxxxxxxxxxxx"), None);
        let mut c = Conv::tcp(&DISSECTOR, 1, 9300);
        c.client(b"ESC[0m not elastic");
        assert!(!c.open);
        let mut c = Conv::tcp(&DISSECTOR, 1, 9300);
        let mut two = msg(0x00, b"abc");
        two.extend_from_slice(b"XX");
        c.client(&two);
        assert!(!c.open);
    }
}
