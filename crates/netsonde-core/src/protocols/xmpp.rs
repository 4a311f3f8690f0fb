//! XMPP / Jabber (RFC 6120), unencrypted. Confirmed by a stream header (`<stream:stream`
//! with the XMPP streams or jabber:client/server namespace), by the stream's closing tag,
//! or, for captures that start mid-stream, by a stanza (`<iq`, `<presence`, `<message`)
//! naming a jabber.org or XMPP namespace. Extracts the stream's `to` domain and whether
//! the client asked for STARTTLS; a server's `<proceed/>` hands the flow over to TLS.

use super::lines::text;
use super::{id, Dissector, DissectorState, Inspect, ProtoState, Transports, Verdict};
use crate::attrs;
use crate::record::MetaValue;

attrs! {
    pub TO = "xmpp.to", Str, Identifier, "Domain the client's stream header is addressed to";
    pub STARTTLS = "xmpp.starttls", Int, Security, "1 when the client asked to upgrade the stream with STARTTLS";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[&TO, &STARTTLS];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::JABBER,
    transports: Transports::TCP,
    tcp_ports: &[5222, 5269],
    udp_ports: &[],
    inspect,
};

/// Bytes of a stream looked at for a decision.
const WINDOW: usize = 2048;

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn has_xmpp_namespace(d: &[u8]) -> bool {
    find(d, b"http://etherx.jabber.org/streams").is_some()
        || find(d, b"jabber:client").is_some()
        || find(d, b"jabber:server").is_some()
}

/// The value of attribute `name` in the element starting `d`.
fn attribute(d: &[u8], name: &[u8]) -> Option<String> {
    let end = d.iter().position(|&b| b == b'>').unwrap_or(d.len());
    let tag = d.get(..end)?;
    let mut at = 0;
    while let Some(p) = tag.get(at..).and_then(|t| find(t, name)) {
        let start = at + p;
        at = start + name.len();
        // Preceded by a blank or a closing quote, followed by `=` and a quote.
        if !tag
            .get(start.wrapping_sub(1))
            .is_some_and(|b| b.is_ascii_whitespace() || *b == b'\'' || *b == b'"')
        {
            continue;
        }
        let rest = tag.get(at..)?.strip_prefix(b"=")?;
        let quote = *rest.first()?;
        if quote != b'\'' && quote != b'"' {
            return None;
        }
        let value = rest.get(1..)?;
        let close = value.iter().position(|&b| b == quote)?;
        return Some(text(value.get(..close)?, 256));
    }
    None
}

/// `Some(true)` XMPP, `Some(false)` not, `None` too early to say.
fn probe(d: &[u8]) -> Option<bool> {
    let d = d.get(..WINDOW).unwrap_or(d);
    let body = d.trim_ascii_start();
    if body.is_empty() {
        return None;
    }
    if body.first() != Some(&b'<') {
        return Some(false);
    }
    // An XML declaration may come alone, the stream header after it.
    let after_decl = if body.starts_with(b"<?xml") {
        match find(body, b"?>") {
            Some(e) => body.get(e + 2..).unwrap_or_default().trim_ascii_start(),
            None => return (body.len() >= WINDOW).then_some(false),
        }
    } else {
        body
    };
    if after_decl.is_empty() {
        return None;
    }
    if after_decl.starts_with(b"<stream:stream") || after_decl.starts_with(b"<stream ") {
        return if has_xmpp_namespace(after_decl) {
            Some(true)
        } else if after_decl.contains(&b'>') {
            Some(false)
        } else {
            None
        };
    }
    if after_decl.starts_with(b"</stream:stream>") {
        return Some(true);
    }
    let stanza = [&b"<iq "[..], b"<presence", b"<message "]
        .iter()
        .any(|s| after_decl.starts_with(s));
    if stanza {
        let ns = find(after_decl, b"jabber.org").is_some()
            || find(after_decl, b"urn:xmpp").is_some()
            || find(after_decl, b"urn:ietf:params:xml:ns:xmpp").is_some();
        return Some(ns);
    }
    Some(false)
}

/// Services nDPI names as protocols of their own when a stream is addressed to them.
const SERVICES: &[(&[u8], crate::classify::ProtoId)] = &[(b"truphone.com", id::TRUPHONE)];

/// The service a stream header is addressed to (its `to` or `from` domain).
fn service(d: &[u8]) -> Option<crate::classify::ProtoId> {
    let d = d.get(..WINDOW).unwrap_or(d);
    let header = d.get(find(d, b"<stream:stream")?..)?;
    let domain = attribute(header, b"to").or_else(|| attribute(header, b"from"))?;
    SERVICES.iter().find_map(|(suffix, proto)| {
        let s = std::str::from_utf8(suffix).ok()?;
        (domain == s || domain.ends_with(&format!(".{s}"))).then_some(*proto)
    })
}

/// Per-flow state: its presence marks the flow as confirmed.
#[derive(Default, Debug)]
pub struct State {
    starttls_asked: bool,
}

/// Payload packets looked at, and more while a STARTTLS waits for its answer.
const MAX_PACKETS: u16 = 8;
const MAX_PACKETS_STARTTLS: u16 = 16;

/// The end of the element whose start tag begins `d` (after its `/>` or closing tag).
fn element_end(d: &[u8], name: &[u8]) -> Option<usize> {
    let gt = d.iter().position(|&b| b == b'>')?;
    if d.get(gt.checked_sub(1)?) == Some(&b'/') {
        return Some(gt + 1);
    }
    let mut close = b"</".to_vec();
    close.extend_from_slice(name);
    close.push(b'>');
    find(d, &close).map(|p| p + close.len())
}

/// The bytes of `d` up to its last complete tag: what is read and need not be shown again.
fn complete_tags(d: &[u8]) -> usize {
    d.iter().rposition(|&b| b == b'>').map_or(0, |p| p + 1)
}

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    if !matches!(st.state, ProtoState::Xmpp(_)) {
        match probe(ins.data) {
            Some(true) => {}
            Some(false) => return Verdict::Exclude,
            None => return Verdict::Continue,
        }
        ins.detect(service(ins.data).unwrap_or(id::JABBER));
        *st.state = ProtoState::Xmpp(State::default());
    }
    let ProtoState::Xmpp(state) = st.state else {
        return Verdict::Done;
    };
    let d = ins.data.get(..WINDOW).unwrap_or(ins.data);
    if ins.to_server() {
        if let Some(p) = find(d, b"<stream:stream") {
            if let Some(to) = attribute(d.get(p..).unwrap_or_default(), b"to") {
                st.meta.set_str(&TO, to);
            }
        }
        if let Some(p) = find(d, b"<starttls") {
            st.meta.set(&STARTTLS, MetaValue::Int(1));
            state.starttls_asked = true;
            // Read through the request: the client's next bytes are its ClientHello.
            match element_end(d.get(p..).unwrap_or_default(), b"starttls") {
                Some(n) => ins.consume(p + n),
                None => ins.consume(p),
            }
            return Verdict::Continue;
        }
    } else if let Some(p) = state.starttls_asked.then(|| find(d, b"<proceed")).flatten() {
        // RFC 6120 section 5.4.2.3: the server's go-ahead; TLS starts after it.
        if let Some(n) = element_end(d.get(p..).unwrap_or_default(), b"proceed") {
            ins.consume(p + n);
            ins.handover(id::TLS);
            return Verdict::Done;
        }
        ins.consume(p);
        return Verdict::Continue;
    }
    ins.consume(complete_tags(d));
    let limit = if state.starttls_asked {
        MAX_PACKETS_STARTTLS
    } else {
        MAX_PACKETS
    };
    if ins.packet_no >= limit {
        return Verdict::Done;
    }
    Verdict::Continue
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn stream_header_after_declaration() {
        let mut c = Conv::tcp(&DISSECTOR, 57094, 5222);
        c.client(b"<?xml version='1.0' ?>");
        assert_eq!(c.name(), "Unknown");
        assert!(c.open);
        c.client(b"<stream:stream to='cs-xmpp.lan' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>");
        assert_eq!(c.name(), "Jabber");
        assert_eq!(c.meta(&TO).as_deref(), Some("cs-xmpp.lan"));
    }

    #[test]
    fn starttls_goes_on_as_tls() {
        use super::super::tls::parser::tests::{client_hello_body, handshake, records};
        let mut c = Conv::all(6, 40000, 5222);
        c.client(b"<?xml version='1.0'?><stream:stream to='example.com' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>")
            .server(b"<?xml version='1.0'?><stream:stream from='example.com' id='x' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>")
            .server(b"<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>")
            .client(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
            .server(b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
            .client(&records(22, &handshake(1, &client_hello_body()), 16_384));
        assert_eq!(c.name(), "Jabber");
        assert_eq!(c.meta(&TO).as_deref(), Some("example.com"));
        assert_eq!(c.meta(&STARTTLS).as_deref(), Some("1"));
        assert_eq!(
            c.meta(&super::super::tls::SNI).as_deref(),
            Some("example.com")
        );
    }

    #[test]
    fn truphone() {
        let mut c = Conv::tcp(&DISSECTOR, 54898, 1299);
        c.client(b"<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'to='im.truphone.com'>");
        assert_eq!(c.name(), "TruPhone");
    }

    #[test]
    fn mid_stream_stanzas() {
        let mut c = Conv::tcp(&DISSECTOR, 57129, 5222);
        c.client(b"<iq type='set' id='p1' to='cs-xmpp.lan'><command xmlns='http://jabber.org/protocol/commands' node='ping'/></iq>");
        assert_eq!(c.name(), "Jabber");
        let mut c = Conv::tcp(&DISSECTOR, 57126, 5222);
        c.client(b"</stream:stream>");
        assert_eq!(c.name(), "Jabber");
    }

    #[test]
    fn not_xmpp() {
        for d in [
            &b"<?xml version='1.0'?><soap:Envelope>"[..],
            b"<html><body>",
            b"<iq type='set'>plain xml</iq>",
            b"GET / HTTP/1.1\r\n",
        ] {
            let mut c = Conv::tcp(&DISSECTOR, 1, 5222);
            c.client(d);
            assert!(!c.open, "{:?}", String::from_utf8_lossy(d));
        }
        assert_eq!(
            attribute(b"<stream:stream xto='a' to=\"b\">", b"to").as_deref(),
            Some("b")
        );
    }
}
