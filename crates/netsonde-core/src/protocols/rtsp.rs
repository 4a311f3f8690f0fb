//! RTSP 1.0/2.0 (RFC 2326, 7826): confirmed by a request line `METHOD rtsp://… RTSP/1.0`
//! (a known method, an rtsp/rtsps/`*` target) or a status line `RTSP/1.0 200 …`. Headers
//! are read from the first request and response: method, URL, User-Agent, Server.

use super::lines::{is_one_of, lines, next_line, split_word, starts_with_ci, text, FirstLine};
use super::{id, Dissector, DissectorState, Inspect, ProtoState, Transports, Verdict};
use crate::attrs;
use crate::record::MetaValue;

attrs! {
    pub METHOD = "rtsp.method", Str, Usage, "Method of the first request (OPTIONS, DESCRIBE, SETUP, PLAY, …)";
    pub URL = "rtsp.url", Str, Usage, "Target URL of the first request";
    pub USER_AGENT = "rtsp.user_agent", Str, Identifier, "User-Agent header of the first request";
    pub SERVER = "rtsp.server", Str, Service, "Server header of the first response";
    pub STATUS_CODE = "rtsp.status_code", Int, Service, "Status code of the first response";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] =
    &[&METHOD, &URL, &USER_AGENT, &SERVER, &STATUS_CODE];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::RTSP,
    transports: Transports::TCP,
    tcp_ports: &[554, 8554],
    udp_ports: &[],
    inspect,
};

const METHODS: &[&[u8]] = &[
    b"OPTIONS",
    b"DESCRIBE",
    b"SETUP",
    b"PLAY",
    b"PAUSE",
    b"TEARDOWN",
    b"GET_PARAMETER",
    b"SET_PARAMETER",
    b"ANNOUNCE",
    b"RECORD",
    b"REDIRECT",
    b"PLAY_NOTIFY",
];
const MAX_VALUE: usize = 256;
/// Messages (requests and responses) read per flow.
const MAX_MESSAGES: u16 = 8;

#[derive(Default, Debug)]
pub struct State {
    messages: u16,
}

fn is_request_line(line: &[u8]) -> bool {
    let (method, rest) = split_word(line);
    let (target, version) = split_word(rest);
    is_one_of(method, METHODS)
        && (starts_with_ci(target, b"rtsp://")
            || starts_with_ci(target, b"rtsps://")
            || starts_with_ci(target, b"rtspu://")
            || target == b"*")
        && (version == b"RTSP/1.0" || version == b"RTSP/2.0")
}

fn is_status_line(line: &[u8]) -> bool {
    let (version, rest) = split_word(line);
    let (code, _) = split_word(rest);
    matches!(version, b"RTSP/1.0" | b"RTSP/2.0")
        && code.len() == 3
        && code.iter().all(u8::is_ascii_digit)
}

fn probe(ins: &Inspect<'_>) -> Option<bool> {
    match FirstLine::of(ins.data) {
        FirstLine::Line(l) => Some(if ins.to_server() {
            is_request_line(l)
        } else {
            is_status_line(l)
        }),
        FirstLine::Partial => {
            // A method or the version must be on its way.
            let d = ins.data;
            let could = if ins.to_server() {
                METHODS.iter().any(|m| {
                    let n = d.len().min(m.len());
                    d.get(..n) == m.get(..n)
                })
            } else {
                let n = d.len().min(5);
                d.get(..n) == b"RTSP/".get(..n)
            };
            (!could).then_some(false)
        }
        FirstLine::Empty => None,
        FirstLine::NotText => Some(false),
    }
}

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    if !matches!(st.state, ProtoState::Rtsp(_)) {
        match probe(ins) {
            Some(true) => {}
            Some(false) => return Verdict::Exclude,
            None => return Verdict::Continue,
        }
        ins.detect(id::RTSP);
        *st.state = ProtoState::Rtsp(State::default());
    }
    let ProtoState::Rtsp(state) = st.state else {
        return Verdict::Done;
    };
    // Read whole header blocks; bodies (SDP) and interleaved media are skipped.
    let d = ins.data;
    let Some(end) = d.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4) else {
        return Verdict::Continue;
    };
    let block = d.get(..end).unwrap_or_default();
    let Some((first, _)) = next_line(block) else {
        return Verdict::Continue;
    };
    let mut body = 0usize;
    if is_request_line(first) {
        let (method, rest) = split_word(first);
        let (url, _) = split_word(rest);
        st.meta.set_str(&METHOD, text(method, 32));
        st.meta.set_str(&URL, text(url, MAX_VALUE));
    } else if is_status_line(first) {
        let (_, rest) = split_word(first);
        let (code, _) = split_word(rest);
        let code = code.iter().fold(0i64, |a, &b| a * 10 + i64::from(b - b'0'));
        st.meta.set(&STATUS_CODE, MetaValue::Int(code));
    }
    for (line, _) in lines(block).skip(1) {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (name, value) = (
            line.get(..colon).unwrap_or_default(),
            line.get(colon + 1..).unwrap_or_default(),
        );
        if name.eq_ignore_ascii_case(b"User-Agent") {
            st.meta.set_str(&USER_AGENT, text(value, MAX_VALUE));
        } else if name.eq_ignore_ascii_case(b"Server") {
            st.meta.set_str(&SERVER, text(value, MAX_VALUE));
        } else if name.eq_ignore_ascii_case(b"Content-Length") {
            body = text(value, 16).parse().unwrap_or(0);
        }
    }
    state.messages += 1;
    ins.consume(end + body.min(d.len() - end));
    if state.messages >= MAX_MESSAGES || (st.meta.has(&USER_AGENT) && st.meta.has(&STATUS_CODE)) {
        Verdict::Done
    } else {
        Verdict::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn options_exchange() {
        let mut c = Conv::tcp(&DISSECTOR, 52472, 8554);
        c.client(b"OPTIONS rtsp://10.2.2.2:8554/ RTSP/1.0\r\nCSeq: 2\r\nUser-Agent: LibVLC/3.0.16 (LIVE555 Streaming Media v2016.11.28)\r\n\r\n");
        assert_eq!(c.name(), "RTSP");
        c.server(b"RTSP/1.0 200 OK\r\nServer: VLC/3.0.12\r\nContent-Length: 0\r\nCseq: 2\r\n\r\n");
        assert_eq!(c.meta(&METHOD).as_deref(), Some("OPTIONS"));
        assert_eq!(c.meta(&URL).as_deref(), Some("rtsp://10.2.2.2:8554/"));
        assert_eq!(
            c.meta(&USER_AGENT).as_deref(),
            Some("LibVLC/3.0.16 (LIVE555 Streaming Media v2016.11.28)")
        );
        assert_eq!(c.meta(&SERVER).as_deref(), Some("VLC/3.0.12"));
        assert_eq!(c.meta(&STATUS_CODE).as_deref(), Some("200"));
        assert!(!c.open);
    }

    #[test]
    fn split_request_line() {
        let mut c = Conv::tcp(&DISSECTOR, 1, 554);
        c.client(b"DESCR");
        assert!(c.open);
        c.client(b"IBE rtsp://cam/stream RTSP/1.0\r\nCSeq: 1\r\n\r\n");
        assert_eq!(c.name(), "RTSP");
    }

    #[test]
    fn not_rtsp() {
        let mut c = Conv::tcp(&DISSECTOR, 1, 554);
        c.client(b"OPTIONS * HTTP/1.1\r\n\r\n");
        assert!(!c.open);
        let mut c = Conv::tcp(&DISSECTOR, 1, 554);
        c.server(b"HTTP/1.1 200 OK\r\n\r\n");
        assert!(!c.open);
    }
}
