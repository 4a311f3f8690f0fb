//! SSDP (UPnP discovery): HTTP-formatted datagrams. A request line `M-SEARCH * HTTP/1.1` or
//! `NOTIFY * HTTP/1.1`, or a `HTTP/1.1 200 OK` answer carrying the discovery headers (ST or
//! USN), confirms it. Host, User-Agent, Server, Location and the searched or notified type
//! are kept.

use super::wire::{starts_with_ci, text};
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};
use crate::attrs;

attrs! {
    pub METHOD = "ssdp.method", Str, Usage, "M-SEARCH, NOTIFY, or RESPONSE for a search answer";
    pub HOST = "ssdp.host", Str, Identifier, "Host header (the multicast group and port)";
    pub USER_AGENT = "ssdp.user_agent", Str, Identifier, "User-Agent header of a search";
    pub SERVER = "ssdp.server", Str, Service, "Server header of a notification or answer";
    pub LOCATION = "ssdp.location", Str, Content, "Location header: URL of the device description";
    pub TARGET = "ssdp.target", Str, Usage, "Searched (ST) or notified (NT) service type";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] =
    &[&METHOD, &HOST, &USER_AGENT, &SERVER, &LOCATION, &TARGET];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::SSDP,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[1900],
    inspect,
};

/// Header lines read per datagram.
const MAX_LINES: usize = 32;

/// The kind of SSDP message a datagram starts with.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum Kind {
    Search,
    Notify,
    Response,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Search => "M-SEARCH",
            Kind::Notify => "NOTIFY",
            Kind::Response => "RESPONSE",
        }
    }
}

/// Header lines as (name, value) pairs, trimmed.
pub type Headers<'a> = Vec<(&'a [u8], &'a [u8])>;

/// The message kind and its headers.
pub fn parse(d: &[u8]) -> Option<(Kind, Headers<'_>)> {
    let kind = if starts_with_ci(d, b"M-SEARCH * HTTP/1.") {
        Kind::Search
    } else if starts_with_ci(d, b"NOTIFY * HTTP/1.") {
        Kind::Notify
    } else if starts_with_ci(d, b"HTTP/1.1 200") || starts_with_ci(d, b"HTTP/1.0 200") {
        Kind::Response
    } else {
        return None;
    };
    let mut lines = d.split(|&b| b == b'\n');
    lines.next();
    let mut headers = Vec::new();
    for line in lines.take(MAX_LINES) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        if let Some(colon) = line.iter().position(|&b| b == b':') {
            let (name, value) = line.split_at(colon);
            let value = value.get(1..).unwrap_or_default();
            headers.push((name.trim_ascii(), value.trim_ascii()));
        }
    }
    // An answer is only SSDP when it carries the discovery headers.
    if kind == Kind::Response
        && !headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(b"st") || n.eq_ignore_ascii_case(b"usn"))
    {
        return None;
    }
    Some((kind, headers))
}

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    let Some((kind, headers)) = parse(ins.data) else {
        return Verdict::Exclude;
    };
    ins.detect(id::SSDP);
    st.set_str(&METHOD, kind.name());
    for (name, value) in headers {
        let spec = match name.to_ascii_lowercase().as_slice() {
            b"host" => &HOST,
            b"user-agent" => &USER_AGENT,
            b"server" => &SERVER,
            b"location" => &LOCATION,
            b"st" | b"nt" => &TARGET,
            _ => continue,
        };
        let v = text(value);
        if !v.is_empty() {
            st.set_str(spec, v);
        }
    }
    Verdict::Done
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::*;

    #[test]
    fn search_and_answer() {
        let req = b"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\nST: urn:dial-multiscreen-org:service:dial:1\r\nUSER-AGENT: Google Chrome/77.0 Mac OS X\r\n\r\n";
        let (kind, h) = parse(req).expect("search");
        assert_eq!(kind, Kind::Search);
        assert!(h.contains(&(&b"HOST"[..], &b"239.255.255.250:1900"[..])));
        assert!(h.contains(&(&b"USER-AGENT"[..], &b"Google Chrome/77.0 Mac OS X"[..])));
        let answer =
            b"HTTP/1.1 200 OK\r\nST: upnp:rootdevice\r\nUSN: uuid:1::upnp:rootdevice\r\n\r\n";
        assert_eq!(parse(answer).map(|p| p.0), Some(Kind::Response));
        // A plain HTTP answer is not SSDP.
        assert!(parse(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").is_none());
        assert!(parse(b"GET / HTTP/1.1\r\n").is_none());
    }
}
