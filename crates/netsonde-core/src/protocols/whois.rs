//! WHOIS (RFC 3912, TCP 43) and its domain availability variant (DAS, TCP 4343): the client
//! sends one line, the query (a domain, an address or a handle, optionally with flags),
//! ended by CRLF; the server answers with text and closes. A query line says little by
//! itself, so the service port is required as well: confirmed on those ports by a single
//! printable query line answered by printable text.

use super::wire::text;
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};
use crate::attrs;

attrs! {
    pub QUERY = "whois.query", Str, Identifier, "The query line (domain, address or handle)";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[&QUERY];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::WHOIS_DAS,
    transports: Transports::TCP,
    tcp_ports: &[43, 4343],
    udp_ports: &[],
    inspect,
};

const MAX_QUERY: usize = 256;

/// The query of a whole query line: printable, not empty, CRLF once at its end.
pub fn query(d: &[u8]) -> Option<Option<&[u8]>> {
    let printable = |b: &u8| b.is_ascii_graphic() || *b == b' ';
    match d.iter().position(|&b| b == b'\r' || b == b'\n') {
        None => (d.len() < MAX_QUERY && d.iter().all(printable)).then_some(None),
        Some(end) => {
            let q = d.get(..end)?;
            let whole = d.get(end..)? == b"\r\n";
            (whole && !q.is_empty() && q.len() <= MAX_QUERY && q.iter().all(printable))
                .then_some(Some(q))
        }
    }
}

/// The start of an answer: text lines (printable, tabs and line ends).
fn answer(d: &[u8]) -> bool {
    let head = d.get(..d.len().min(256)).unwrap_or(d);
    !head.is_empty()
        && head
            .iter()
            .all(|&b| b.is_ascii_graphic() || matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
}

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    if !DISSECTOR.tcp_ports.contains(&ins.flow.server_port) {
        return Verdict::Exclude;
    }
    let first = ins.first_payload.first().copied().unwrap_or_default();
    if ins.to_server() {
        return match query(ins.data) {
            Some(_) => Verdict::Continue,
            None => Verdict::Exclude,
        };
    }
    if let Some(Some(q)) = query(first) {
        if answer(ins.data) {
            ins.detect(id::WHOIS_DAS);
            st.set_str(&QUERY, text(q));
            return Verdict::Done;
        }
    }
    Verdict::Exclude
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn query_and_answer() {
        assert_eq!(query(b"example.com\r\n"), Some(Some(&b"example.com"[..])));
        assert_eq!(query(b"exam"), Some(None));
        assert_eq!(query(b"a\r\nb\r\n"), None);
        assert_eq!(query(b"\x16\x03\x01"), None);
        let mut c = Conv::tcp(&DISSECTOR, 44188, 43);
        c.client(b"example.com\r\n");
        assert_eq!(c.name(), "Unknown");
        c.server(b"% IANA WHOIS server\n% for more information on IANA\n\ndomain: EXAMPLE.COM\n");
        assert_eq!(c.name(), "Whois-DAS");
        assert_eq!(c.meta(&QUERY).as_deref(), Some("example.com"));
        // Off the WHOIS ports, or answered by binary data: not WHOIS.
        let mut c = Conv::tcp(&DISSECTOR, 44188, 8000);
        c.client(b"example.com\r\n");
        assert!(!c.open);
        let mut c = Conv::tcp(&DISSECTOR, 44188, 43);
        c.client(b"example.com\r\n");
        c.server(b"\x00\x01\x02");
        assert_eq!(c.name(), "Unknown");
    }
}
