//! SIP (RFC 3261) over UDP or TCP: a request line `METHOD sip:… SIP/2.0` with a known
//! method, or a status line `SIP/2.0 NNN`. Method, User-Agent (or Server), From and To are
//! kept.

use super::wire::{starts_with_ci, text};
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};
use crate::attrs;

attrs! {
    pub METHOD = "sip.method", Str, Usage, "Method of the first request (INVITE, REGISTER, …)";
    pub USER_AGENT = "sip.user_agent", Str, Identifier, "User-Agent (or Server) header";
    pub FROM = "sip.from", Str, Identifier, "From header of the first request";
    pub TO = "sip.to", Str, Identifier, "To header of the first request";
    pub STATUS_CODE = "sip.status_code", Int, Service, "Status code of the first response";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[&METHOD, &USER_AGENT, &FROM, &TO, &STATUS_CODE];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::SIP,
    transports: Transports::TCP_UDP,
    tcp_ports: &[5060, 5061],
    udp_ports: &[5060, 5061, 5062],
    inspect,
};

const METHODS: [&[u8]; 14] = [
    b"INVITE",
    b"ACK",
    b"BYE",
    b"CANCEL",
    b"REGISTER",
    b"OPTIONS",
    b"PRACK",
    b"SUBSCRIBE",
    b"NOTIFY",
    b"PUBLISH",
    b"INFO",
    b"REFER",
    b"MESSAGE",
    b"UPDATE",
];
/// Header lines read per message.
const MAX_LINES: usize = 48;

/// The first line of a SIP message.
#[derive(Debug, PartialEq, Eq)]
pub enum StartLine<'a> {
    Request(&'a [u8]),
    Response(u16),
}

/// Parses the start line; `None` when the bytes are not SIP.
pub fn start_line(d: &[u8]) -> Option<StartLine<'_>> {
    let end = d.iter().position(|&b| b == b'\n')?;
    let line = d.get(..end)?;
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if starts_with_ci(line, b"SIP/2.0 ") {
        let code = line.get(8..11)?;
        if !code.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let code = code
            .iter()
            .fold(0u16, |acc, &b| acc * 10 + u16::from(b - b'0'));
        return (100..700)
            .contains(&code)
            .then_some(StartLine::Response(code));
    }
    let sp = line.iter().position(|&b| b == b' ')?;
    let method = line.get(..sp)?;
    if !METHODS.contains(&method) {
        return None;
    }
    let rest = line.get(sp + 1..)?;
    let uri_ok = starts_with_ci(rest, b"sip:")
        || starts_with_ci(rest, b"sips:")
        || starts_with_ci(rest, b"tel:");
    (uri_ok && line.ends_with(b" SIP/2.0")).then_some(StartLine::Request(method))
}

fn header<'a>(d: &'a [u8], names: &[&[u8]]) -> Option<&'a [u8]> {
    for line in d.split(|&b| b == b'\n').skip(1).take(MAX_LINES) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        let colon = line.iter().position(|&b| b == b':')?;
        let (name, value) = line.split_at(colon);
        if names
            .iter()
            .any(|n| name.trim_ascii().eq_ignore_ascii_case(n))
        {
            return Some(value.get(1..).unwrap_or_default().trim_ascii());
        }
    }
    None
}

/// Headers of a SIP message: a SIP `Via` (`SIP/2.0/<transport>`) and a `Call-ID` or `CSeq`,
/// the headers every message must have.
pub fn damaged_message(d: &[u8]) -> bool {
    let (mut via, mut dialog) = (false, false);
    for line in d.split(|&b| b == b'\n').skip(1).take(MAX_LINES) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (name, value) = line.split_at(colon);
        let name = name.trim_ascii();
        let value = value.get(1..).unwrap_or_default().trim_ascii();
        if name.eq_ignore_ascii_case(b"via") || name.eq_ignore_ascii_case(b"v") {
            via |= starts_with_ci(value, b"SIP/2.0/");
        } else if ["call-id", "i", "cseq"]
            .iter()
            .any(|n| name.eq_ignore_ascii_case(n.as_bytes()))
        {
            dialog |= !value.is_empty();
        }
    }
    via && dialog
}

/// The first word of a start line: a known method and a space, or `SIP/2.0 `.
fn intact_opening(d: &[u8]) -> bool {
    starts_with_ci(d, b"SIP/2.0 ")
        || METHODS
            .iter()
            .any(|m| d.starts_with(m) && d.get(m.len()) == Some(&b' '))
}

/// A keep-alive datagram sent before or between messages: CRLFs (RFC 5626), zero bytes, or
/// a short word such as `hello`. It neither confirms nor rules out SIP.
fn keep_alive(d: &[u8]) -> bool {
    !d.is_empty()
        && d.len() <= 8
        && (d.iter().all(|&b| matches!(b, b'\r' | b'\n' | 0))
            || d.iter().all(u8::is_ascii_alphabetic))
}

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    let Some(first) = start_line(ins.data) else {
        // TCP: the first line may still be arriving.
        if ins.flow.l4 == 6 && !ins.data.contains(&b'\n') && ins.data.len() < 256 {
            return Verdict::Continue;
        }
        if ins.flow.l4 == 17 && keep_alive(ins.data) {
            return Verdict::Continue;
        }
        if damaged_message(ins.data) {
            // A start line damaged after its method (or the status line's `SIP/2.0 `)
            // over SIP's headers is SIP; with the start line gone altogether, the next
            // message may still be whole.
            if intact_opening(ins.data) {
                ins.detect(id::SIP);
            }
            return Verdict::Continue;
        }
        return Verdict::Exclude;
    };
    ins.detect(id::SIP);
    match first {
        StartLine::Request(m) => {
            st.set_str(&METHOD, text(m));
            if let Some(v) = header(ins.data, &[b"from", b"f"]) {
                st.set_str(&FROM, text(v));
            }
            if let Some(v) = header(ins.data, &[b"to", b"t"]) {
                st.set_str(&TO, text(v));
            }
        }
        StartLine::Response(code) => {
            st.set(&STATUS_CODE, crate::record::MetaValue::Int(i64::from(code)));
        }
    }
    if let Some(v) = header(ins.data, &[b"user-agent", b"server"]) {
        st.set_str(&USER_AGENT, text(v));
    }
    if ins.flow.l4 == 6 {
        ins.consume(ins.data.len());
    }
    if st.meta.has(&USER_AGENT) && st.meta.has(&STATUS_CODE) || ins.packet_no >= 6 {
        Verdict::Done
    } else {
        Verdict::Continue
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::*;

    #[test]
    fn request_and_response_lines() {
        let req = b"INVITE sip:bob@example.com SIP/2.0\r\nFrom: <sip:alice@example.com>;tag=1\r\nUser-Agent: X-Lite\r\n\r\n";
        assert_eq!(start_line(req), Some(StartLine::Request(b"INVITE")));
        assert_eq!(header(req, &[b"user-agent"]), Some(&b"X-Lite"[..]));
        assert_eq!(
            header(req, &[b"from", b"f"]),
            Some(&b"<sip:alice@example.com>;tag=1"[..])
        );
        assert_eq!(
            start_line(b"SIP/2.0 180 Ringing\r\n"),
            Some(StartLine::Response(180))
        );
        assert_eq!(start_line(b"SIP/2.0 099 x\r\n"), None);
        assert_eq!(start_line(b"GET / HTTP/1.1\r\n"), None);
        assert_eq!(start_line(b"INVITE http://x SIP/2.0\r\n"), None);
        assert_eq!(start_line(b"INVITE sip:x SIP/2.0"), None);
    }

    const REGISTER: &[u8] = b"REGISTER sip:10.0.0.4 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.9:5060\r\n\
Call-ID: 1@10.0.0.9\r\nCSeq: 1 REGISTER\r\n\r\n";

    #[test]
    fn keep_alives_before_the_first_message() {
        let mut c = super::super::harness::Conv::udp(&DISSECTOR, 5060, 5060);
        c.client(b"hello");
        c.server(b"\r\n\r\n");
        assert_eq!(c.name(), "Unknown");
        assert!(c.open);
        c.client(REGISTER);
        assert_eq!(c.name(), "SIP");
        // Longer or binary datagrams are not keep-alives.
        let mut c = super::super::harness::Conv::udp(&DISSECTOR, 5060, 5060);
        c.client(b"\x01\x02hello");
        assert!(!c.open);
    }

    #[test]
    fn damaged_start_line_with_sip_headers() {
        let mut m = b"INVITE sip:x@example.net SIP/a.0\x84\n".to_vec();
        m.extend_from_slice(REGISTER.get(31..).unwrap_or_default());
        assert_eq!(start_line(&m), None);
        assert!(damaged_message(&m));
        let mut c = super::super::harness::Conv::udp(&DISSECTOR, 5060, 5060);
        c.client(&m);
        assert_eq!(c.name(), "SIP");
        // With the method damaged too, the headers alone keep SIP waiting for a whole message.
        let mut m = b"INVITEKsip:x@example.net SIP/2.0\r\n".to_vec();
        m.extend_from_slice(REGISTER.get(31..).unwrap_or_default());
        let mut c = super::super::harness::Conv::udp(&DISSECTOR, 5060, 5060);
        c.client(&m);
        assert_eq!(c.name(), "Unknown");
        assert!(c.open);
        c.client(REGISTER);
        assert_eq!(c.name(), "SIP");
        // A Via that is not SIP's, or no Call-ID/CSeq, is not enough.
        assert!(!damaged_message(
            b"X\r\nVia: 1.1 proxy\r\nCSeq: 1 A\r\n\r\n"
        ));
        assert!(!damaged_message(b"X\r\nVia: SIP/2.0/UDP h\r\n\r\n"));
    }
}
