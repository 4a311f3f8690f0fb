//! HTTP/1.x: requests and responses on any port. Confirmed by a request line (a known method,
//! a target, `HTTP/1.x`) or a status line; headers are parsed with `httparse` (zero copy).

use super::{id, Dissector, DissectorState, Inspect, ProtoState, Transports, Verdict};
use crate::attrs;
use crate::record::MetaValue;

attrs! {
    pub METHOD = "http.method", Str, Usage, "Request method (GET, POST, …)";
    pub HOST = "http.host", Str, Identifier, "Host header of the first request";
    pub URI = "http.uri", Str, Usage, "Request target of the first request";
    pub USER_AGENT = "http.user_agent", Str, Identifier, "User-Agent header of the first request";
    pub REFERER = "http.referer", Str, Usage, "Referer header of the first request";
    pub X_FORWARDED_FOR = "http.x_forwarded_for", Str, Identifier, "X-Forwarded-For header of the first request";
    pub REQUEST_CONTENT_TYPE = "http.request_content_type", Str, Content, "Content-Type of the first request with a body";
    pub STATUS_CODE = "http.status_code", Int, Service, "Status code of the first response";
    pub SERVER = "http.server", Str, Service, "Server header of the first response";
    pub CONTENT_TYPE = "http.content_type", Str, Content, "Content-Type of the first response";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[
    &METHOD,
    &HOST,
    &URI,
    &USER_AGENT,
    &REFERER,
    &X_FORWARDED_FOR,
    &REQUEST_CONTENT_TYPE,
    &STATUS_CODE,
    &SERVER,
    &CONTENT_TYPE,
];

crate::events! {
    pub REQUEST = "http.request", "Each request's header block", ["http.method", "http.host", "http.uri", "http.user_agent", "http.referer", "http.request_content_type"];
    pub RESPONSE = "http.response", "Each response's header block", ["http.status_code", "http.server", "http.content_type"];
}

pub static EVENTS: &[&crate::metadata::EventSpec] = &[&REQUEST, &RESPONSE];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::HTTP,
    transports: Transports::TCP,
    tcp_ports: &[80, 8080, 8000, 8008, 8888, 3128, 81],
    udp_ports: &[],
    inspect,
};

const METHODS: &[&[u8]] = &[
    b"GET ",
    b"POST ",
    b"HEAD ",
    b"PUT ",
    b"DELETE ",
    b"OPTIONS ",
    b"CONNECT ",
    b"PATCH ",
    b"TRACE ",
    b"PROPFIND ",
    b"PROPPATCH ",
    b"MKCOL ",
    b"COPY ",
    b"MOVE ",
    b"LOCK ",
    b"UNLOCK ",
    b"REPORT ",
    b"NOTIFY ",
    b"SUBSCRIBE ",
    b"UNSUBSCRIBE ",
    b"SEARCH ",
    b"M-SEARCH ",
];
/// Header blocks larger than this are not waited for.
const MAX_HEADER_BYTES: usize = 16 * 1024;
/// Transactions parsed per flow (each is an event) before the flow is left alone.
const MAX_TRANSACTIONS: u16 = 16;

#[derive(Default, Debug)]
pub struct State {
    requests: u16,
    responses: u16,
    /// Body bytes still to skip in each direction before the next header block.
    skip: [usize; 2],
}

fn starts_like_request(d: &[u8]) -> Option<bool> {
    for m in METHODS {
        let n = m.len().min(d.len());
        if d.get(..n) == m.get(..n) {
            return Some(n == m.len());
        }
    }
    None
}

fn starts_like_response(d: &[u8]) -> Option<bool> {
    const P: &[u8] = b"HTTP/1.";
    let n = P.len().min(d.len());
    (d.get(..n) == P.get(..n)).then_some(n == P.len())
}

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    if !matches!(st.state, ProtoState::Http(_)) {
        // Not confirmed yet: the first bytes of this direction must look like HTTP.
        let looks = if ins.to_server() {
            starts_like_request(ins.data)
        } else {
            starts_like_response(ins.data)
        };
        match looks {
            None => return Verdict::Exclude,
            Some(false) => return Verdict::Continue,
            Some(true) => {}
        }
        // A request line needs " HTTP/1." before its end; a response line needs a status.
        let line_end = ins.data.iter().position(|&b| b == b'\n');
        if let Some(end) = line_end {
            let line = ins.data.get(..end).unwrap_or_default();
            let ok = if ins.to_server() {
                line.windows(7).any(|w| w == b"HTTP/1.") || line.windows(6).any(|w| w == b"HTTP/0")
            } else {
                line.get(8) == Some(&b' ') && line.get(9).is_some_and(u8::is_ascii_digit)
            };
            if !ok {
                return Verdict::Exclude;
            }
        } else if ins.data.len() > MAX_HEADER_BYTES {
            return Verdict::Exclude;
        }
        ins.detect(id::HTTP);
        *st.state = ProtoState::Http(State::default());
    }
    let ProtoState::Http(state) = st.state else {
        return Verdict::Done;
    };
    let dir = ins.dir as usize;
    let mut data = ins.data;
    let mut consumed = 0;
    loop {
        let skip = state.skip.get(dir).copied().unwrap_or(0);
        if skip > 0 {
            let n = skip.min(data.len());
            data = data.get(n..).unwrap_or_default();
            consumed += n;
            if let Some(s) = state.skip.get_mut(dir) {
                *s -= n;
            }
            if data.is_empty() {
                break;
            }
        }
        let parsed = if ins.to_server() {
            parse_request(data, state, st.meta, st.events, ins)
        } else {
            parse_response(data, state, st.meta, st.events)
        };
        match parsed {
            Some((header_len, body_len)) => {
                data = data.get(header_len..).unwrap_or_default();
                consumed += header_len;
                if let Some(s) = state.skip.get_mut(dir) {
                    *s = body_len;
                }
                if data.is_empty() && body_len == 0 {
                    break;
                }
            }
            None => break,
        }
    }
    ins.consume(consumed);
    if state.requests >= MAX_TRANSACTIONS
        || (state.requests > 0
            && state.responses >= state.requests
            && state.responses > 0
            && all_metadata_seen(st.meta))
    {
        return Verdict::Done;
    }
    Verdict::Continue
}

fn all_metadata_seen(meta: &crate::metadata::Metadata) -> bool {
    meta.has(&HOST) && meta.has(&STATUS_CODE)
}

fn header_text(v: &[u8]) -> String {
    String::from_utf8_lossy(v).trim().to_string()
}

/// Parses one request header block; returns (header length, body length to skip).
fn parse_request(
    data: &[u8],
    state: &mut State,
    meta: &mut crate::metadata::Metadata,
    events: &mut crate::metadata::EventSink<'_>,
    ins: &mut Inspect<'_>,
) -> Option<(usize, usize)> {
    let mut event: Vec<(&'static str, MetaValue)> = Vec::new();
    let wanted = events.wants(&REQUEST);
    let mut note = |spec: &'static crate::metadata::AttrSpec, v: &str| {
        if wanted {
            event.push((spec.name, MetaValue::Str(v.to_string())));
        }
    };
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut req = httparse::Request::new(&mut headers);
    let len = match req.parse(data) {
        Ok(httparse::Status::Complete(n)) => n,
        _ => return None,
    };
    state.requests += 1;
    if let Some(m) = req.method {
        note(&METHOD, m);
        meta.set_str(&METHOD, m);
    }
    if let Some(p) = req.path {
        note(&URI, p);
        meta.set_str(&URI, p);
    }
    let mut body = 0usize;
    for h in req.headers.iter() {
        let value = header_text(h.value);
        for spec in [
            &HOST,
            &USER_AGENT,
            &REFERER,
            &X_FORWARDED_FOR,
            &REQUEST_CONTENT_TYPE,
        ] {
            if header_attr(h.name) == Some(spec.name) {
                note(spec, &value);
            }
        }
        if h.name.eq_ignore_ascii_case("host") {
            if !meta.has(&HOST) {
                ins.app_from_host(&value);
            }
            meta.set_str(&HOST, value);
        } else if h.name.eq_ignore_ascii_case("user-agent") {
            meta.set_str(&USER_AGENT, value);
        } else if h.name.eq_ignore_ascii_case("referer") {
            meta.set_str(&REFERER, value);
        } else if h.name.eq_ignore_ascii_case("x-forwarded-for") {
            meta.set_str(&X_FORWARDED_FOR, value);
        } else if h.name.eq_ignore_ascii_case("content-type") {
            meta.set_str(&REQUEST_CONTENT_TYPE, value);
        } else if h.name.eq_ignore_ascii_case("content-length") {
            body = value.parse().unwrap_or(0);
        }
    }
    events.emit(&REQUEST, event);
    Some((len, body))
}

/// The attribute a request header feeds.
fn header_attr(name: &str) -> Option<&'static str> {
    [
        ("host", &HOST),
        ("user-agent", &USER_AGENT),
        ("referer", &REFERER),
        ("x-forwarded-for", &X_FORWARDED_FOR),
        ("content-type", &REQUEST_CONTENT_TYPE),
    ]
    .iter()
    .find(|(h, _)| name.eq_ignore_ascii_case(h))
    .map(|(_, spec)| spec.name)
}

fn parse_response(
    data: &[u8],
    state: &mut State,
    meta: &mut crate::metadata::Metadata,
    events: &mut crate::metadata::EventSink<'_>,
) -> Option<(usize, usize)> {
    let mut event: Vec<(&'static str, MetaValue)> = Vec::new();
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut resp = httparse::Response::new(&mut headers);
    let len = match resp.parse(data) {
        Ok(httparse::Status::Complete(n)) => n,
        _ => return None,
    };
    state.responses += 1;
    if let Some(code) = resp.code {
        meta.set(&STATUS_CODE, MetaValue::Int(i64::from(code)));
        event.push((STATUS_CODE.name, MetaValue::Int(i64::from(code))));
    }
    let mut body = 0usize;
    for h in resp.headers.iter() {
        let spec = if h.name.eq_ignore_ascii_case("server") {
            &SERVER
        } else if h.name.eq_ignore_ascii_case("content-type") {
            &CONTENT_TYPE
        } else {
            if h.name.eq_ignore_ascii_case("content-length") {
                body = header_text(h.value).parse().unwrap_or(0);
            }
            continue;
        };
        let value = header_text(h.value);
        event.push((spec.name, MetaValue::Str(value.clone())));
        meta.set_str(spec, value);
    }
    events.emit(&RESPONSE, event);
    Some((len, body))
}
