//! FIX (Financial Information eXchange) tag=value sessions: a message opens with
//! `8=<BeginString>`, `9=<BodyLength>`, `35=<MsgType>` fields separated by SOH, and its body
//! length points exactly at the `10=` checksum trailer (or, for compressed FIX variants
//! without a trailer, at the end of the message). Extracts the version, the first message
//! type and the sender and target CompIDs.

use super::lines::text;
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};
use crate::attrs;

attrs! {
    pub BEGIN_STRING = "fix.begin_string", Str, Service, "Protocol version (BeginString, tag 8) of the first message";
    pub MSG_TYPE = "fix.msg_type", Str, Usage, "Type (tag 35) of the first message";
    pub SENDER = "fix.sender_comp_id", Str, Identifier, "SenderCompID (tag 49) of the first message";
    pub TARGET = "fix.target_comp_id", Str, Identifier, "TargetCompID (tag 56) of the first message";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[&BEGIN_STRING, &MSG_TYPE, &SENDER, &TARGET];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::FIX,
    transports: Transports::TCP,
    tcp_ports: &[],
    udp_ports: &[],
    inspect,
};

const SOH: u8 = 0x01;
const MAX_BEGIN_STRING: usize = 16;
const MAX_BODY: usize = 1 << 20;

/// A field `tag=value` starting at `at`; returns the value and the offset after its SOH.
fn field<'a>(d: &'a [u8], at: usize, tag: &[u8]) -> Option<(&'a [u8], usize)> {
    let rest = d.get(at..)?;
    let rest = rest.strip_prefix(tag)?.strip_prefix(b"=")?;
    let end = rest.iter().position(|&b| b == SOH)?;
    Some((rest.get(..end)?, at + tag.len() + 1 + end + 1))
}

/// What the start of a stream says: `Some(true)` a FIX message, `Some(false)` not FIX,
/// `None` not enough bytes yet.
pub fn probe(d: &[u8]) -> Option<bool> {
    const START: &[u8] = b"8=";
    let n = d.len().min(START.len());
    if d.get(..n) != START.get(..n) {
        return Some(false);
    }
    let Some((begin, at)) = field(d, 0, b"8") else {
        // No SOH yet: wait while the BeginString can still be one.
        let ok = d.len() < 2 + MAX_BEGIN_STRING
            && d.get(2..)
                .unwrap_or_default()
                .iter()
                .all(u8::is_ascii_graphic);
        return if ok { None } else { Some(false) };
    };
    if begin.is_empty() || begin.len() > MAX_BEGIN_STRING || !begin.iter().all(u8::is_ascii_graphic)
    {
        return Some(false);
    }
    let Some((len, body_at)) = field(d, at, b"9") else {
        return if d.len() < at + 12 { None } else { Some(false) };
    };
    let Some(body_len) = std::str::from_utf8(len)
        .ok()
        .and_then(|s| s.parse::<usize>().ok())
    else {
        return Some(false);
    };
    if len.is_empty() || !len.iter().all(u8::is_ascii_digit) || body_len > MAX_BODY {
        return Some(false);
    }
    // The body opens with the message type.
    if d.len() >= body_at + 3 && d.get(body_at..body_at + 3) != Some(b"35=") {
        return Some(false);
    }
    let end = body_at + body_len;
    match d.get(end..) {
        None => None,
        // The message is all there is, or the checksum trailer / next message follows.
        Some([]) => Some(true),
        Some(rest) if rest.starts_with(b"10=") || rest.starts_with(b"8=") => Some(true),
        Some(rest) if rest.len() < 3 && (b"10=".starts_with(rest) || b"8=".starts_with(rest)) => {
            None
        }
        Some(_) => Some(false),
    }
}

/// The value of `tag` within the first message's header fields.
fn header_value(d: &[u8], tag: &[u8]) -> Option<String> {
    let mut at = 0;
    for _ in 0..32 {
        let rest = d.get(at..)?;
        let end = rest.iter().position(|&b| b == SOH)?;
        let f = rest.get(..end)?;
        if let Some(v) = f.strip_prefix(tag).and_then(|v| v.strip_prefix(b"=")) {
            return Some(text(v, 64));
        }
        if f.starts_with(b"10=") {
            return None;
        }
        at += end + 1;
    }
    None
}

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    match probe(ins.data) {
        Some(true) => {}
        Some(false) => return Verdict::Exclude,
        None => return Verdict::Continue,
    }
    ins.detect(id::FIX);
    for (spec, tag) in [
        (&BEGIN_STRING, &b"8"[..]),
        (&MSG_TYPE, b"35"),
        (&SENDER, b"49"),
        (&TARGET, b"56"),
    ] {
        if let Some(v) = header_value(ins.data, tag) {
            st.set_str(spec, v);
        }
    }
    Verdict::Done
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    const LOGON: &[u8] = b"8=FIX.4.1\x019=63\x0135=A\x0134=1\x0149=SENDER\x0152=20000426-12:05:06\x0156=TARGET\x0198=0\x01108=30\x0110=157\x01";

    #[test]
    fn logon() {
        assert_eq!(probe(LOGON), Some(true));
        let mut c = Conv::tcp(&DISSECTOR, 34962, 1024);
        c.client(LOGON);
        assert_eq!(c.name(), "FIX");
        assert_eq!(c.meta(&BEGIN_STRING).as_deref(), Some("FIX.4.1"));
        assert_eq!(c.meta(&MSG_TYPE).as_deref(), Some("A"));
        assert_eq!(c.meta(&SENDER).as_deref(), Some("SENDER"));
        assert_eq!(c.meta(&TARGET).as_deref(), Some("TARGET"));
    }

    #[test]
    fn partial_and_compressed() {
        assert_eq!(probe(b"8=FI"), None);
        assert_eq!(probe(LOGON.get(..40).unwrap_or_default()), None);
        // A message without a trailer that ends exactly at its body length.
        assert_eq!(probe(b"8=O\x019=0005\x0135=G\x01"), Some(true));
        // A body length that points into the middle of nowhere.
        assert_eq!(probe(b"8=FIX.4.2\x019=3\x0135=A\x0134=1\x01"), Some(false));
        assert_eq!(probe(b"8=FIX.4.2\x019=x\x0135=A\x01"), Some(false));
        assert_eq!(probe(b"GET / HTTP/1.1"), Some(false));
        assert_eq!(probe(b"8=FIX.4.2\x019=5\x0136=A\x01"), Some(false));
    }
}
