//! HTTP/1.x: requests and responses on any port. Confirmed by a request line (a known method,
//! a target, `HTTP/1.x`) or a status line; headers are parsed with `httparse` (zero copy).

use super::{id, Dissector, DissectorState, Inspect, ProtoState, Transports, Verdict};
use crate::attrs;
use crate::record::MetaValue;

attrs! {
    pub METHOD = "http.method", Str, Usage, "Request method (GET, POST, …)";
    pub HOST = "http.host", Str, Identifier, "Host header of the first request";
    pub URI = "http.uri", Str, Usage, "Request target of the first request";
    pub URL = "http.url", Str, Usage, "URL of the first request with a Host (host + target, or the absolute/authority target itself), at most 255 bytes as nDPI reports it";
    pub USER_AGENT = "http.user_agent", Str, Identifier, "User-Agent header of the first request";
    pub REFERER = "http.referer", Str, Usage, "Referer header of the first request";
    pub X_FORWARDED_FOR = "http.x_forwarded_for", Str, Identifier, "X-Forwarded-For header of the first request";
    pub REQUEST_CONTENT_TYPE = "http.request_content_type", Str, Content, "Content-Type of the first request with a body";
    pub STATUS_CODE = "http.status_code", Int, Service, "Status code of the first response";
    pub SERVER = "http.server", Str, Service, "Server header of the first response";
    pub CONTENT_TYPE = "http.content_type", Str, Content, "Media type of the first response's Content-Type (its parameters, such as charset, left out, as nDPI reports it)";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[
    &METHOD,
    &HOST,
    &URI,
    &URL,
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
    /// A protocol carried over HTTP has been named (the first one found stays).
    sub: bool,
    /// A request named the application (by its host, target or headers).
    app: bool,
    /// An HTTP/0.9 exchange: one request line, answered by the body alone.
    simple: bool,
    /// A CONNECT waits for its answer: a 2xx one opens a tunnel.
    connect: bool,
    /// The tunnel is open: the rest of the stream is not HTTP.
    tunnel: bool,
    /// A CONNECT was refused: the client may ask again (with credentials, after a 407),
    /// so the flow is followed until a tunnel opens.
    refused: bool,
    /// A damaged first request was an event already, when the server's status line
    /// confirmed it: reading its block again later (the client goes on) emits nothing.
    damaged_told: bool,
}

/// WebDAV's methods (RFC 4918 section 9), beyond those of HTTP itself.
const WEBDAV_METHODS: &[&str] = &[
    "PROPFIND",
    "PROPPATCH",
    "MKCOL",
    "COPY",
    "MOVE",
    "LOCK",
    "UNLOCK",
];

/// A protocol carried by a request: WebDAV by its methods, OCSP (RFC 6960 appendix A) and
/// IPP (RFC 8010) by their media types, MPEG-DASH by a first request for an MP4 file or
/// segment, Gnutella by its download paths.
fn request_sub_protocol(
    first: bool,
    method: &str,
    path: &str,
    content_type: Option<&str>,
) -> Option<crate::classify::ProtoId> {
    let ct = content_type.unwrap_or_default().to_ascii_lowercase();
    if WEBDAV_METHODS.contains(&method) {
        Some(id::WEBDAV)
    } else if ct.starts_with("application/ocsp-request") {
        Some(id::OCSP)
    } else if ct.starts_with("application/ipp") {
        Some(id::IPP)
    } else if path.starts_with("/uri-res/") || path.starts_with("/gnutella/") {
        Some(id::GNUTELLA)
    } else if first && (path.ends_with(".mp4") || path.ends_with(".m4s")) {
        Some(id::MPEGDASH)
    } else {
        None
    }
}

/// A protocol carried by a response, by its media type. MPEG-DASH is named from a response
/// only in a flow whose requests were not seen (a request names it by its target).
fn response_sub_protocol(first: bool, content_type: &str) -> Option<crate::classify::ProtoId> {
    let ct = content_type.trim().to_ascii_lowercase();
    if ct.starts_with("application/ocsp-response") {
        Some(id::OCSP)
    } else if first && ct.ends_with("video/mp4") {
        Some(id::MPEGDASH)
    } else {
        None
    }
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

/// What the first bytes a client sent say, before the flow is HTTP.
#[derive(Debug, PartialEq, Eq)]
enum ClientStart {
    /// A request line: a method token, a target and `HTTP/x.y` (RFC 9112 section 3; any
    /// method, as extension methods are allowed), or a known method and a version.
    Request,
    /// An HTTP/0.9 request (`GET /path`, nothing after the target): the whole request.
    SimpleRequest,
    /// The first line has not ended.
    Undecided,
    /// A damaged request line that still names an HTTP version (`GET/ HTTP/1.1`): the
    /// server's status line decides.
    AskServer,
    NotHttp,
}

/// Bytes a request line may hold: no control bytes but tabs (UTF-8 is allowed).
fn is_line_text(line: &[u8]) -> bool {
    line.iter().all(|&b| b >= 0x20 && b != 0x7f || b == b'\t')
}

/// A method token as servers accept them: letters, digits, `_` and `-`, starting with a
/// letter, at most 32 bytes.
fn is_method_token(m: &[u8]) -> bool {
    (1..=32).contains(&m.len())
        && m.first().is_some_and(u8::is_ascii_alphabetic)
        && m.iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// An HTTP/1.x version (`PRI * HTTP/2.0` is HTTP/2's connection preface, RFC 9113
/// section 3.4, not a request).
fn is_version_1(v: &[u8]) -> bool {
    matches!(v, [b'H', b'T', b'T', b'P', b'/', b'1', b'.', minor] if minor.is_ascii_digit())
}

/// An HTTP/0.9 request line (`GET /path`): a known method and a target from the root,
/// with no version after it. Returns the method and the target.
fn simple_request(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let space = line.iter().position(|&b| b == b' ')?;
    let (method, target) = (line.get(..space)?, line.get(space + 1..)?);
    let known = METHODS.iter().any(|m| m.strip_suffix(b" ") == Some(method));
    let ok =
        known && target.first() == Some(&b'/') && !target.contains(&b' ') && is_line_text(target);
    ok.then_some((method, target))
}

/// The length of the header block at the start of `data`, up to the empty line that ends
/// it (`\r\n\r\n` or a bare `\n\n`), within [`MAX_HEADER_BYTES`].
fn header_block_end(data: &[u8]) -> Option<usize> {
    let head = data.get(..MAX_HEADER_BYTES).unwrap_or(data);
    head.windows(2).enumerate().find_map(|(i, w)| match w {
        [b'\n', b'\n'] => Some(i + 2),
        [b'\n', b'\r'] if head.get(i + 2) == Some(&b'\n') => Some(i + 3),
        _ => None,
    })
}

/// An HTTP/0.9 request that is all of `data`: its line and nothing after it.
fn simple_request_alone(data: &[u8]) -> Option<(&[u8], &[u8])> {
    let line = data.strip_suffix(b"\n")?;
    if line.contains(&b'\n') {
        return None;
    }
    simple_request(line)
}

fn client_start(d: &[u8]) -> ClientStart {
    let known = starts_like_request(d);
    // One pass to the first control byte: the end of the line, or (at once, for binary
    // protocols) proof that this is no request line.
    let stop = d
        .iter()
        .position(|&b| (b < 0x20 && b != b'\t') || b == 0x7f);
    let line = match stop {
        Some(i) if d.get(i) == Some(&b'\n') => d.get(..i).unwrap_or_default(),
        Some(i) if d.get(i) == Some(&b'\r') && d.get(i + 1) == Some(&b'\n') => {
            d.get(..i).unwrap_or_default()
        }
        Some(i) if d.get(i) == Some(&b'\r') && i + 1 == d.len() => return undecided(d, known),
        Some(_) => return ClientStart::NotHttp,
        None => return undecided(d, known),
    };
    let mut parts = line.split(|&b| b == b' ');
    if let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    {
        if is_method_token(method) && !target.is_empty() && is_version_1(version) {
            return ClientStart::Request;
        }
    }
    if known == Some(true) {
        if line.windows(7).any(|w| w == b"HTTP/1.") || line.windows(6).any(|w| w == b"HTTP/0") {
            return ClientStart::Request;
        }
        if simple_request(line).is_some() {
            return ClientStart::SimpleRequest;
        }
    }
    // `OPTIONS` alone, or a line naming a version: damaged, but maybe HTTP's.
    let maybe_http = line.windows(5).any(|w| w == b"HTTP/")
        || METHODS.iter().any(|m| m.strip_suffix(b" ") == Some(line));
    if maybe_http {
        ClientStart::AskServer
    } else {
        ClientStart::NotHttp
    }
}

/// A client's first line that has not ended: a known method and its space are HTTP
/// already; other text may still become a request line if its first word is a method
/// token (so far) and it stays within a line's length.
fn undecided(d: &[u8], known: Option<bool>) -> ClientStart {
    let method_like = is_method_token(d.split(|&b| b == b' ').next().unwrap_or_default());
    match known {
        Some(true) if d.len() <= MAX_HEADER_BYTES => ClientStart::Request,
        Some(false) => ClientStart::Undecided,
        None if method_like && d.len() <= super::lines::MAX_LINE => ClientStart::Undecided,
        _ => ClientStart::NotHttp,
    }
}

fn starts_like_response(d: &[u8]) -> Option<bool> {
    const P: &[u8] = b"HTTP/1.";
    let n = P.len().min(d.len());
    (d.get(..n) == P.get(..n)).then_some(n == P.len())
}

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    if !matches!(st.state, ProtoState::Http(_)) {
        // Not confirmed yet: the first line of this direction must be HTTP's.
        if ins.to_server() {
            match client_start(ins.data) {
                ClientStart::Request | ClientStart::SimpleRequest => {}
                ClientStart::Undecided | ClientStart::AskServer => return Verdict::Continue,
                ClientStart::NotHttp => return Verdict::Exclude,
            }
        } else {
            match starts_like_response(ins.data) {
                None => return Verdict::Exclude,
                Some(false) => return Verdict::Continue,
                Some(true) => {}
            }
            // A status line: the version, a space and the status code's first digit.
            match ins.data.iter().position(|&b| b == b'\n') {
                Some(end) => {
                    let line = ins.data.get(..end).unwrap_or_default();
                    if !(line.get(8) == Some(&b' ') && line.get(9).is_some_and(u8::is_ascii_digit))
                    {
                        return Verdict::Exclude;
                    }
                }
                None if ins.data.len() > MAX_HEADER_BYTES => return Verdict::Exclude,
                None => {}
            }
        }
        ins.detect(id::HTTP);
        let [request, _] = ins.first_payload;
        let damaged = !ins.to_server() && client_start(request) == ClientStart::AskServer;
        if damaged {
            // Confirmed by the server's status line: what the damaged request says, and
            // its event.
            let mut event = RequestEvent::new(st.events);
            partial_request_metadata(request, st.meta, ins, &mut event);
            event.emit(st.events);
        }
        *st.state = ProtoState::Http(State {
            damaged_told: damaged,
            ..State::default()
        });
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
            parse_response(data, state, st.meta, st.events, ins)
        };
        match parsed {
            Some((header_len, body_len)) => {
                data = data.get(header_len..).unwrap_or_default();
                consumed += header_len;
                if state.tunnel {
                    break;
                }
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
    if state.simple && !ins.to_server() && starts_like_response(ins.data).is_none() {
        // An HTTP/0.9 answer: the body alone, with nothing more to learn.
        return Verdict::Done;
    }
    // A subscriber to the transactions gets every one of them.
    let transactional = st.events.wants(&REQUEST) || st.events.wants(&RESPONSE);
    let learned = state.requests >= MAX_TRANSACTIONS
        || (state.requests > 0
            && state.responses >= state.requests
            && state.responses > 0
            && all_metadata_seen(st.meta)
            && !state.refused);
    if learned && !transactional {
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
    let mut event = RequestEvent::new(events);
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut req = httparse::Request::new(&mut headers);
    // Obsolete line folding (a header continued on a line starting with SP/HT, RFC 9112
    // section 5.2) is rejected by httparse; such a block is parsed again with each fold
    // turned into spaces, which keeps every offset.
    let unfolded;
    let len = match req.parse(data) {
        Ok(httparse::Status::Complete(n)) => n,
        Err(_) if has_obs_fold(data) => {
            unfolded = unfold(data);
            req = httparse::Request::new(&mut headers);
            match req.parse(&unfolded) {
                Ok(httparse::Status::Complete(n)) => n,
                _ => return None,
            }
        }
        Err(_) if state.requests == 0 => {
            if let Some((method, target)) = simple_request_alone(data) {
                // HTTP/0.9: the request line alone, answered by the body alone.
                let (method, target) = (header_text(method), header_text(target));
                event.note(&METHOD, &method);
                event.note(&URI, &target);
                meta.set_str(&METHOD, method);
                meta.set_str(&URI, target);
                state.requests = 1;
                state.simple = true;
                event.emit(events);
                return Some((data.len(), 0));
            }
            // A damaged line: what the request's lines say is kept. Once its block has
            // ended it counts as the request, an event like any other, so that what
            // follows is read from its start (a damaged CONNECT's answer opens the
            // tunnel as well).
            partial_request_metadata(data, meta, ins, &mut event);
            let end = header_block_end(data)?;
            let first_word = data.split(|&b| b == b' ').find(|w| !w.is_empty());
            if first_word == Some(b"CONNECT") {
                ins.detect(id::HTTP_CONNECT);
                state.connect = true;
            }
            state.requests = 1;
            if !state.damaged_told {
                event.emit(events);
            }
            return Some((end, 0));
        }
        // A first request whose block has not ended: what its complete lines say is kept
        // (the flow is HTTP by its request line already).
        Ok(httparse::Status::Partial) if state.requests == 0 => {
            // Not yet a request's event: that comes when its block is whole.
            partial_request_metadata(data, meta, ins, &mut RequestEvent::unwanted());
            return None;
        }
        _ => return None,
    };
    state.requests = state.requests.saturating_add(1);
    // A proxy may refuse a CONNECT (407) and accept the next one, with credentials.
    state.connect = req.method == Some("CONNECT");
    if let Some(m) = req.method {
        event.note(&METHOD, m);
        meta.set_str(&METHOD, m);
    }
    if let Some(p) = req.path {
        event.note(&URI, p);
        meta.set_str(&URI, p);
    }
    let mut body = 0usize;
    let mut host_app = false;
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
                event.note(spec, &value);
            }
        }
        if h.name.eq_ignore_ascii_case("host") {
            if !meta.has(&HOST) {
                host_app = ins.app_from_host(&value);
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
    if state.requests == 1 {
        let method = req.method.unwrap_or_default();
        let path = req.path.unwrap_or_default();
        if method == "CONNECT" {
            // A tunnel through a proxy (RFC 9110 section 9.3.6).
            ins.detect(id::HTTP_CONNECT);
        } else if is_absolute(path) {
            // The absolute form is sent to proxies only (RFC 9112 section 3.2.2).
            ins.detect(id::HTTP_PROXY);
            if !host_app {
                if let Some(host) = url_host(path) {
                    host_app = ins.app_from_host(host);
                }
            }
        }
        if !host_app {
            // An HTTPDNS lookup names the host the client is about to reach.
            if let Some(name) = httpdns_name(path) {
                host_app = ins.app_from_host(name);
            }
        }
        let header = |name: &str| {
            req.headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case(name))
                .map(|h| header_text(h.value))
        };
        let content_type = header("content-type");
        if let Some(app) = request_app(
            path,
            header("soapaction").is_some(),
            content_type.as_deref(),
        ) {
            if let Some(id) = ins.sigs.app_by_name(app) {
                ins.set_app(id);
                host_app = true;
            }
        }
    }
    state.app |= host_app;
    if !host_app && state.requests == 1 {
        let agent = req
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case("user-agent"))
            .map(|h| header_text(h.value));
        if let Some(app) = agent.as_deref().and_then(agent_app) {
            if let Some(id) = ins.sigs.app_by_name(app) {
                ins.set_app(id);
            }
        }
    }
    if !state.sub {
        let content_type = req
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case("content-type"))
            .map(|h| header_text(h.value));
        let sub = request_sub_protocol(
            state.requests == 1,
            req.method.unwrap_or_default(),
            req.path.unwrap_or_default(),
            content_type.as_deref(),
        );
        if let Some(sub) = sub {
            ins.set_sub_protocol(sub);
            state.sub = true;
        }
    }
    if !meta.has(&URL) {
        if let Some(url) = request_url(req.method, req.path, req.headers) {
            meta.set_str(&URL, url);
        }
    }
    event.emit(events);
    Some((len, body))
}

/// A request's event as its values are read, collected only when someone wants it.
struct RequestEvent {
    wanted: bool,
    attributes: Vec<(&'static str, MetaValue)>,
}

impl RequestEvent {
    fn new(events: &crate::metadata::EventSink<'_>) -> RequestEvent {
        RequestEvent {
            wanted: events.wants(&REQUEST),
            attributes: Vec::new(),
        }
    }

    /// For lines that are not yet a request.
    fn unwanted() -> RequestEvent {
        RequestEvent {
            wanted: false,
            attributes: Vec::new(),
        }
    }

    fn note(&mut self, spec: &'static crate::metadata::AttrSpec, value: &str) {
        if self.wanted {
            self.attributes
                .push((spec.name, MetaValue::Str(value.to_string())));
        }
    }

    fn emit(self, events: &mut crate::metadata::EventSink<'_>) {
        events.emit(&REQUEST, self.attributes);
    }
}

/// The metadata of the complete lines of a first request whose header block has not ended
/// (it may never end: a damaged or endless header); the lines read are those a complete
/// parse would give, and every attribute keeps its first value. `event` gets each value
/// read.
fn partial_request_metadata(
    data: &[u8],
    meta: &mut crate::metadata::Metadata,
    ins: &mut Inspect<'_>,
    event: &mut RequestEvent,
) {
    let mut lines = super::lines::lines(data);
    let Some((request_line, _)) = lines.next() else {
        return;
    };
    // A damaged request line (`GET/ HTTP/1.1`, a method alone) names no method or target;
    // one without a target (`OPTIONS HTTP/1.1`) names its method. The headers are still
    // read.
    let mut words = request_line.split(|&b| b == b' ').filter(|w| !w.is_empty());
    let method = words.next().filter(|m| is_method_token(m));
    let second = words.next();
    let version_alone = second.is_some_and(|w| w.starts_with(b"HTTP/")) && words.next().is_none();
    let (method, target) = match (method, second) {
        (Some(m), Some(_)) if version_alone => (std::str::from_utf8(m).ok(), None),
        (Some(m), Some(t)) => (std::str::from_utf8(m).ok(), std::str::from_utf8(t).ok()),
        _ => (None, None),
    };
    let mut headers = Vec::new();
    for (line, _) in lines.take(64) {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            break;
        };
        let (Some(name), Some(value)) = (line.get(..colon), line.get(colon + 1..)) else {
            break;
        };
        let Ok(name) = std::str::from_utf8(name) else {
            break;
        };
        headers.push(httparse::Header { name, value });
    }
    if let Some(method) = method {
        event.note(&METHOD, method);
        meta.set_str(&METHOD, method);
    }
    if let Some(target) = target {
        event.note(&URI, target);
        meta.set_str(&URI, target);
    }
    for h in &headers {
        let spec = match header_attr(h.name) {
            Some(n) if n == HOST.name => &HOST,
            Some(n) if n == USER_AGENT.name => &USER_AGENT,
            Some(n) if n == REFERER.name => &REFERER,
            Some(n) if n == X_FORWARDED_FOR.name => &X_FORWARDED_FOR,
            Some(_) => &REQUEST_CONTENT_TYPE,
            None => continue,
        };
        let value = header_text(h.value);
        if spec.name == HOST.name && !meta.has(&HOST) {
            ins.app_from_host(&value);
        }
        event.note(spec, &value);
        meta.set_str(spec, value);
    }
    if !meta.has(&URL) {
        if let Some(url) = request_url(method, target, &headers) {
            meta.set_str(&URL, url);
        }
    }
}

/// The application a client names itself as in its User-Agent, for requests whose host
/// names none: Windows Update's agents (the update client and Delivery Optimization).
fn agent_app(agent: &str) -> Option<&'static str> {
    (agent.starts_with("Microsoft-Delivery-Optimization/")
        || agent.starts_with("Windows-Update-Agent"))
    .then_some("WindowsUpdate")
}

/// The application a first request names by what it asks for: a BitTorrent tracker's
/// announce or scrape (BEP 3, BEP 48: `info_hash` in the query) and a SOAP call (a
/// `SOAPAction` header, SOAP 1.1; the `application/soap+xml` type, SOAP 1.2) whatever the
/// host.
fn request_app(path: &str, soap_action: bool, content_type: Option<&str>) -> Option<&'static str> {
    let (target, query) = path.split_once('?').unwrap_or((path, ""));
    let target = target.rsplit('/').next().unwrap_or_default();
    let ct = content_type.unwrap_or_default().to_ascii_lowercase();
    if (target == "announce" || target == "scrape")
        && query.split('&').any(|kv| kv.starts_with("info_hash="))
    {
        Some("BitTorrent")
    } else if soap_action || ct.starts_with("application/soap+xml") {
        Some("SOAP")
    } else {
        None
    }
}

/// Whether a media type is an HLS playlist's (RFC 8216 section 4, and the older names).
fn is_hls_playlist(content_type: &str) -> bool {
    let ct = content_type.trim().to_ascii_lowercase();
    let ct = ct.split(';').next().unwrap_or_default().trim();
    matches!(
        ct,
        "application/vnd.apple.mpegurl"
            | "application/x-mpegurl"
            | "audio/mpegurl"
            | "audio/x-mpegurl"
    )
}

/// The name an HTTPDNS lookup resolves (DNS over plain HTTP GETs, used by mobile apps):
/// Alibaba Cloud's `/<account>/d?host=<name>` and signed `/<account>/sign_d?host=<name>&...`,
/// DNSPod's `/d?dn=<name>`.
fn httpdns_name(path: &str) -> Option<&str> {
    let (target, query) = path.split_once('?')?;
    let last = target.rsplit('/').next()?;
    let key = match last {
        "d" | "sign_d" => ["host=", "dn="],
        _ => return None,
    };
    let name = query
        .split('&')
        .find_map(|kv| key.iter().find_map(|k| kv.strip_prefix(k)))?;
    let ok = name.contains('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    ok.then_some(name)
}

/// Whether a request target is in absolute form (`http://host/path`).
fn is_absolute(path: &str) -> bool {
    path.get(..7)
        .is_some_and(|p| p.eq_ignore_ascii_case("http://"))
        || path
            .get(..8)
            .is_some_and(|p| p.eq_ignore_ascii_case("https://"))
}

/// The host of an absolute-form target, without user info or port.
fn url_host(path: &str) -> Option<&str> {
    let rest = path.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit('@').next()?;
    let host = host.split(':').next()?;
    (!host.is_empty()).then_some(host)
}

/// nDPI keeps at most this many bytes of a URL.
const MAX_URL_BYTES: usize = 255;

/// The URL a request asked for: the target itself when it is absolute (`http://h/p`, as sent
/// to a proxy) or an authority (`CONNECT h:443`), else the Host header followed by the
/// target. None without a Host for an origin-form target.
fn request_url(
    method: Option<&str>,
    path: Option<&str>,
    headers: &[httparse::Header<'_>],
) -> Option<String> {
    let path = path?;
    let absolute = method == Some("CONNECT") || is_absolute(path);
    let mut url = if absolute {
        path.to_string()
    } else {
        let host = headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case("host"))
            .map(|h| header_text(h.value))?;
        format!("{host}{path}")
    };
    if url.len() > MAX_URL_BYTES {
        let mut end = MAX_URL_BYTES;
        while !url.is_char_boundary(end) {
            end -= 1;
        }
        url.truncate(end);
    }
    Some(url)
}

/// Whether a header block (up to its blank line) holds a line folded onto the next.
fn has_obs_fold(data: &[u8]) -> bool {
    let end = data
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(data.len());
    data.get(..end).unwrap_or_default().windows(3).any(|w| {
        w.first() == Some(&b'\r')
            && w.get(1) == Some(&b'\n')
            && matches!(w.get(2), Some(b' ' | b'\t'))
    })
}

/// A copy of a header block with every fold (CRLF then SP/HT) replaced by spaces.
fn unfold(data: &[u8]) -> Vec<u8> {
    let end = data
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(data.len(), |p| p + 4);
    let mut out = data.get(..end).unwrap_or_default().to_vec();
    let mut i = 0;
    while i + 2 < out.len() {
        if out.get(i..i + 2) == Some(b"\r\n") && matches!(out.get(i + 2), Some(b' ' | b'\t')) {
            if let Some(s) = out.get_mut(i..i + 3) {
                s.fill(b' ');
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    out
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
    ins: &mut Inspect<'_>,
) -> Option<(usize, usize)> {
    let mut event: Vec<(&'static str, MetaValue)> = Vec::new();
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut resp = httparse::Response::new(&mut headers);
    let len = match resp.parse(data) {
        Ok(httparse::Status::Complete(n)) => n,
        _ => return None,
    };
    state.responses = state.responses.saturating_add(1);
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
        let mut value = header_text(h.value);
        if spec.name == CONTENT_TYPE.name {
            // The media type alone (RFC 9110 section 8.3.1): `text/html; charset=UTF-8`.
            if let Some(cut) = value.find(';') {
                value.truncate(cut);
                value.truncate(value.trim_end().len());
            }
        }
        if spec.name == CONTENT_TYPE.name && !state.app && is_hls_playlist(&value) {
            // An HLS playlist (RFC 8216 section 4) from a server no request named.
            if let Some(id) = ins.sigs.app_by_name("HLS") {
                ins.set_app(id);
                state.app = true;
            }
        }
        if spec.name == CONTENT_TYPE.name && !state.sub {
            let first = state.responses == 1 && state.requests == 0;
            if let Some(sub) = response_sub_protocol(first, &value) {
                ins.set_sub_protocol(sub);
                state.sub = true;
            }
        }
        event.push((spec.name, MetaValue::Str(value.clone())));
        meta.set_str(spec, value);
    }
    events.emit(&RESPONSE, event);
    if std::mem::take(&mut state.connect) {
        if resp.code.is_some_and(|c| (200..300).contains(&c)) {
            // The tunnel is open (RFC 9110 section 9.3.6: a 2xx answer to CONNECT has no
            // content): what follows is the carried protocol's, for the dissectors to judge.
            ins.reopen(0);
            state.tunnel = true;
            return Some((len, 0));
        }
        state.refused = true;
    }
    Some((len, body))
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn first_lines_of_clients() {
        use ClientStart::*;
        assert_eq!(client_start(b"GET / HTTP/1.1\r\n"), Request);
        assert_eq!(client_start(b"CCM_POST / HTTP/1.1\r\nHost: a\r\n"), Request);
        assert_eq!(client_start(b"BREW /pot HTTP/1.0\n"), Request);
        assert_eq!(client_start(b"GET /very/long/tar"), Request);
        assert_eq!(client_start(b"GE"), Undecided);
        assert_eq!(client_start(b"CCM_PO"), Undecided);
        assert_eq!(client_start(b"hello, world"), NotHttp);
        assert_eq!(client_start(b"GET /zeek.html\r\n"), SimpleRequest);
        assert_eq!(client_start(b"POST /x\n"), SimpleRequest);
        assert_eq!(client_start(b"GET/ HTTP/1.1\n"), AskServer);
        assert_eq!(client_start(b"OPTIONSHTTP/1.1\n"), AskServer);
        assert_eq!(client_start(b"GET \n"), NotHttp);
        assert_eq!(client_start(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), AskServer);
        assert_eq!(client_start(b"BREW /pot HTTP/3.0\r\n"), AskServer);
        assert_eq!(client_start(b"T /zeek.html\r\n"), NotHttp);
        assert_eq!(client_start(b"EHLO mail.example.org\r\n"), NotHttp);
        assert_eq!(client_start(b"USER anonymous HTTP\r\n"), NotHttp);
        assert_eq!(client_start(b"\x16\x03\x01\x02\x00"), NotHttp);
        assert_eq!(client_start(b"SSH-2.0-x\r\n"), NotHttp);
        assert_eq!(client_start(b"A\x00B"), NotHttp);
    }

    #[test]
    fn header_blocks_end_at_an_empty_line() {
        assert_eq!(
            header_block_end(b"GET / HTTP/1.1\r\nA: b\r\n\r\nrest"),
            Some(24)
        );
        assert_eq!(header_block_end(b"GET /\nA: b\n\nrest"), Some(12));
        assert_eq!(header_block_end(b"GET / HTTP/1.1\r\nA: b\r\n"), None);
    }

    #[test]
    fn an_http_09_request_is_named_and_read() {
        let mut c = Conv::tcp(&DISSECTOR, 40000, 8000);
        c.client(b"GET /zeek.html\r\n");
        assert_eq!(c.name(), "HTTP");
        assert_eq!(c.meta(&METHOD).as_deref(), Some("GET"));
        assert_eq!(c.meta(&URI).as_deref(), Some("/zeek.html"));
        c.server(b"<html>hello</html>\n");
        assert_eq!(c.meta(&STATUS_CODE), None);
    }

    #[test]
    fn an_extension_method_is_a_request() {
        let mut c = Conv::tcp(&DISSECTOR, 40000, 8000);
        c.client(b"CCM_POST /a HTTP/1.1\r\nHost: example.org\r\n\r\n");
        assert_eq!(c.name(), "HTTP");
        assert_eq!(c.meta(&METHOD).as_deref(), Some("CCM_POST"));
        assert_eq!(c.meta(&HOST).as_deref(), Some("example.org"));
    }

    #[test]
    fn a_damaged_request_is_http_when_the_server_answers_with_a_status() {
        let mut c = Conv::tcp(&DISSECTOR, 40000, 8000);
        c.client(b"GET/ HTTP/1.1\nHost: example.org\n\n");
        assert_eq!(c.name(), "Unknown");
        c.server(b"HTTP/1.0 400 Bad Request\r\nContent-Type: text/html\r\n\r\n");
        assert_eq!(c.name(), "HTTP");
        assert_eq!(c.meta(&STATUS_CODE).as_deref(), Some("400"));
        // Anything else from the server rules HTTP out.
        let mut c = Conv::tcp(&DISSECTOR, 40000, 8000);
        c.client(b"GET/ HTTP/1.1\nHost: example.org\n\n");
        c.server(b"220 ready\r\n");
        c.server(b"HTTP/1.0 400 Bad Request\r\n\r\n");
        assert_eq!(c.name(), "Unknown");
    }

    #[test]
    fn a_damaged_request_answered_by_a_status_is_one_request_event() {
        let request = |line: &[u8]| {
            let mut c = Conv::tcp(&DISSECTOR, 40000, 8000).subscribe(&[REQUEST.name]);
            c.client(&[line, b"\r\nHost: example.org\r\n\r\n"].concat());
            c.server(b"HTTP/1.0 400 Bad Request\r\n\r\n");
            assert_eq!(c.name(), "HTTP");
            let mut events = c.event_texts();
            assert_eq!(events.len(), 1, "{line:?}");
            events.pop().unwrap_or_default()
        };
        let host = ("http.host", "example.org".to_string());
        // No method or target is read from a damaged line; its headers are.
        assert_eq!(request(b"GET/ HTTP/1.1"), vec![host.clone()]);
        // A method without a target; a method and a target without a version.
        let method = ("http.method", "OPTIONS".to_string());
        assert_eq!(request(b"OPTIONS HTTP/1.1"), vec![method, host.clone()]);
        let (method, uri) = (
            ("http.method", "POST".to_string()),
            ("http.uri", "/HTTP/1.1".to_string()),
        );
        assert_eq!(request(b"POST /HTTP/1.1"), vec![method, uri, host]);
        // The next request on the connection is an event of its own; the damaged one is
        // not read again.
        let mut c = Conv::tcp(&DISSECTOR, 40000, 8000).subscribe(&[REQUEST.name]);
        c.client(b"GET/ HTTP/1.1\r\nHost: example.org\r\n\r\n");
        c.server(b"HTTP/1.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        c.client(b"GET /next HTTP/1.1\r\nHost: example.org\r\n\r\n");
        let uris: Vec<Option<String>> = c
            .event_texts()
            .into_iter()
            .map(|e| {
                e.into_iter()
                    .find(|(n, _)| *n == "http.uri")
                    .map(|(_, v)| v)
            })
            .collect();
        assert_eq!(uris, vec![None, Some("/next".to_string())]);
    }

    #[test]
    fn url_is_host_and_target() {
        let mut c = Conv::tcp(&DISSECTOR, 40000, 80);
        c.client(b"GET /a?b=1 HTTP/1.1\r\nHost: example.org:8080\r\n\r\n");
        assert_eq!(c.name(), "HTTP");
        assert_eq!(c.meta(&URL).as_deref(), Some("example.org:8080/a?b=1"));
    }

    #[test]
    fn url_of_absolute_and_connect_targets() {
        let mut c = Conv::tcp(&DISSECTOR, 40000, 3128);
        c.client(b"GET http://example.org/x HTTP/1.1\r\nHost: example.org\r\n\r\n");
        assert_eq!(c.meta(&URL).as_deref(), Some("http://example.org/x"));
        let mut c = Conv::tcp(&DISSECTOR, 40001, 3128);
        c.client(b"CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n\r\n");
        assert_eq!(c.meta(&URL).as_deref(), Some("example.org:443"));
    }

    #[test]
    fn proxy_requests_and_tunnels() {
        let mut c = Conv::tcp(&DISSECTOR, 40000, 8080);
        c.client(b"GET http://example.org/x HTTP/1.1\r\nHost: example.org\r\n\r\n");
        assert_eq!(c.name(), "HTTP_Proxy");
        // The application of the host asked for.
        let mut c = Conv::tcp(&DISSECTOR, 40000, 80);
        c.client(b"POST http://www.google.com/a HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(c.name(), "HTTP_Proxy.Google");
        let mut c = Conv::tcp(&DISSECTOR, 40000, 8080);
        c.client(b"CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n\r\n");
        c.server(b"HTTP/1.1 200 Connection established\r\n\r\n");
        assert_eq!(c.name(), "HTTP_Connect");
        // An origin-form request is plain HTTP.
        let mut c = Conv::tcp(&DISSECTOR, 40000, 8080);
        c.client(b"GET /http://x HTTP/1.1\r\nHost: example.org\r\n\r\n");
        assert_eq!(c.name(), "HTTP");
        assert_eq!(
            url_host("http://u:p@Host.example:81/p?q"),
            Some("Host.example")
        );
        assert_eq!(url_host("http:///p"), None);
    }

    #[test]
    fn httpdns_lookups_name_the_host_resolved() {
        let mut c = Conv::tcp(&DISSECTOR, 40000, 80);
        c.client(b"GET /164566/sign_d?host=appmarket.micloud.xiaomi.net&sdk=android_1.3.3&t=1 HTTP/1.1\r\nHost: 203.107.1.65\r\n\r\n");
        assert_eq!(c.name(), "HTTP.Xiaomi");
        assert_eq!(
            httpdns_name("/d?dn=www.google.com&ttl=1"),
            Some("www.google.com")
        );
        assert_eq!(httpdns_name("/x/d?host=a%20b.com"), None);
        assert_eq!(httpdns_name("/search?host=www.google.com"), None);
        assert_eq!(httpdns_name("/d"), None);
    }

    #[test]
    fn applications_named_by_the_request() {
        let mut c = Conv::tcp(&DISSECTOR, 40000, 80);
        c.client(b"GET /announce?info_hash=%aa7&peer_id=-TR2940-x&port=51413 HTTP/1.1\r\nHost: tracker.example\r\n\r\n");
        assert_eq!(c.name(), "HTTP.BitTorrent");
        let mut c = Conv::tcp(&DISSECTOR, 40000, 80);
        c.client(b"GET /announce?peer_id=x HTTP/1.1\r\nHost: tracker.example\r\n\r\n");
        assert_eq!(c.name(), "HTTP");
        let mut c = Conv::tcp(&DISSECTOR, 40000, 80);
        c.client(b"POST /svc HTTP/1.1\r\nSOAPAction: \"urn:x\"\r\nHost: go.microsoft.com\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(c.name(), "HTTP.SOAP");
        let mut c = Conv::tcp(&DISSECTOR, 40000, 80);
        c.client(b"POST /svc HTTP/1.1\r\nContent-Type: application/soap+xml; charset=utf-8\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(c.name(), "HTTP.SOAP");
        let mut c = Conv::tcp(&DISSECTOR, 40000, 8080);
        c.client(b"GET /live/output.m3u8 HTTP/1.1\r\nHost: 192.0.2.7:8080\r\n\r\n");
        assert_eq!(c.name(), "HTTP");
        c.server(b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.apple.mpegurl\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(c.name(), "HTTP.HLS");
        // Refused: no playlist.
        let mut c = Conv::tcp(&DISSECTOR, 40000, 8080);
        c.client(b"GET /live/output.m3u8 HTTP/1.1\r\nHost: 192.0.2.7:8080\r\n\r\n");
        c.server(b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/html\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(c.name(), "HTTP");
        // A known host keeps its application for a playlist.
        let mut c = Conv::tcp(&DISSECTOR, 40000, 80);
        c.client(b"GET /a.m3u8 HTTP/1.1\r\nHost: www.google.com\r\n\r\n");
        c.server(b"HTTP/1.1 200 OK\r\nContent-Type: audio/mpegurl; charset=utf-8\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(c.name(), "HTTP.Google");
    }

    #[test]
    fn long_url_is_cut_at_255_bytes() {
        let path = format!("/{}", "a".repeat(400));
        let req = format!("GET {path} HTTP/1.1\r\nHost: h.example\r\n\r\n");
        let mut c = Conv::tcp(&DISSECTOR, 40000, 80);
        c.client(req.as_bytes());
        assert_eq!(c.meta(&URL).map(|u| u.len()), Some(255));
        assert_eq!(c.meta(&URI).map(|u| u.len()), Some(401));
    }

    #[test]
    fn carried_protocols() {
        let mut c = Conv::tcp(&DISSECTOR, 40000, 80);
        c.client(b"PROPFIND /dav HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(c.name(), "HTTP.WebDAV");
        let mut c = Conv::tcp(&DISSECTOR, 40000, 80);
        c.client(b"POST / HTTP/1.1\r\nHost: ocsp.example\r\nContent-Type: application/ocsp-request\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(c.name(), "HTTP.OCSP");
        let mut c = Conv::tcp(&DISSECTOR, 40000, 80);
        c.client(b"GET /v/seg1.m4s HTTP/1.1\r\nHost: a\r\n\r\n");
        assert_eq!(c.name(), "HTTP.MpegDash");
        let mut c = Conv::tcp(&DISSECTOR, 40000, 80);
        c.client(b"GET /index.html HTTP/1.1\r\nHost: a\r\n\r\n");
        c.server(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(c.name(), "HTTP");
        c.client(b"GET /b.mp4 HTTP/1.1\r\nHost: a\r\n\r\n");
        assert_eq!(c.name(), "HTTP");
        let mut c = Conv::tcp(&DISSECTOR, 40000, 80);
        c.client(b"GET /v?id=1 HTTP/1.1\r\nHost: a\r\n\r\n");
        c.server(b"HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(c.name(), "HTTP");
        let mut c = Conv::tcp(&DISSECTOR, 40000, 80);
        c.server(b"HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(c.name(), "HTTP.MpegDash");
    }

    #[test]
    fn response_media_type_without_parameters() {
        let mut c = Conv::tcp(&DISSECTOR, 40000, 80);
        c.client(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        c.server(b"HTTP/1.1 200 OK\r\nContent-Type: text/html ; charset=UTF-8\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(c.meta(&CONTENT_TYPE).as_deref(), Some("text/html"));
        let mut c = Conv::tcp(&DISSECTOR, 40000, 80);
        c.client(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        c.server(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(c.meta(&CONTENT_TYPE).as_deref(), Some("application/json"));
    }

    #[test]
    fn unended_first_request_still_gives_its_lines() {
        let mut c = Conv::tcp(&DISSECTOR, 40000, 80);
        c.client(b"GET /m?id=1 HTTP/1.1\r\nHost: 10.0.0.2\r\nOpt: \"\xaa\xaa");
        assert_eq!(c.name(), "HTTP");
        assert_eq!(c.meta(&HOST).as_deref(), Some("10.0.0.2"));
        assert_eq!(c.meta(&URL).as_deref(), Some("10.0.0.2/m?id=1"));
        let mut c = Conv::tcp(&DISSECTOR, 40000, 80);
        c.client(b"GET /m HTTP/1.1\r\nUser-Agent: x\r\nHo");
        assert_eq!(c.meta(&URL), None);
        assert_eq!(c.meta(&HOST), None);
        let mut c = Conv::tcp(&DISSECTOR, 40000, 80);
        c.client(b"GET /m HTTP/1.1\r\nHost: h.example\r\nCache-Contr\xaal: x\r\n\r\n");
        assert_eq!(c.meta(&URL).as_deref(), Some("h.example/m"));
    }

    #[test]
    fn windows_update_agent_to_an_address() {
        let mut c = Conv::tcp(&DISSECTOR, 40000, 80);
        c.client(b"GET /f HTTP/1.1\r\nUser-Agent: Microsoft-Delivery-Optimization/10.0\r\nHost: 192.0.2.1\r\n\r\n");
        assert_eq!(c.name(), "HTTP.WindowsUpdate");
        let mut c = Conv::tcp(&DISSECTOR, 40000, 80);
        c.client(b"GET /f HTTP/1.1\r\nUser-Agent: curl/8.0\r\nHost: 192.0.2.1\r\n\r\n");
        assert_eq!(c.name(), "HTTP");
    }

    #[test]
    fn folded_header_lines_are_accepted() {
        let mut c = Conv::tcp(&DISSECTOR, 40000, 6346);
        c.client(b"GET /x HTTP/1.1\r\nX-Info: a;\r\n\tb; c\r\nHost: 10.0.0.1:6346\r\n\r\n");
        assert_eq!(c.meta(&HOST).as_deref(), Some("10.0.0.1:6346"));
        assert_eq!(c.meta(&URL).as_deref(), Some("10.0.0.1:6346/x"));
        assert!(!has_obs_fold(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n\tbody"));
    }
}
