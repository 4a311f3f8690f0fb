//! WS-Discovery (Web Services Dynamic Discovery) over UDP: SOAP envelopes sent to the
//! discovery multicast groups. A datagram is recognised when it is an XML document whose
//! SOAP envelope names the WS-Discovery namespace.

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static DISSECTOR: Dissector = Dissector {
    proto: id::WSD,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[3702],
    inspect,
};

const DISCOVERY_NS: &[&[u8]] = &[
    b"schemas.xmlsoap.org/ws/2005/04/discovery",
    b"docs.oasis-open.org/ws-dd/ns/discovery/2009/01",
];

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Whether the datagram is a WS-Discovery SOAP message.
pub fn is_wsd(d: &[u8]) -> bool {
    let body = d.strip_prefix(b"\xef\xbb\xbf").unwrap_or(d);
    if !(body.starts_with(b"<?xml") || body.starts_with(b"<soap") || body.starts_with(b"<s:")) {
        return false;
    }
    // The namespace declarations sit in the envelope's start tag, near the top.
    let head = body.get(..body.len().min(1024)).unwrap_or(body);
    contains(head, b"Envelope") && DISCOVERY_NS.iter().any(|ns| contains(head, ns))
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if is_wsd(ins.data) {
        ins.detect(id::WSD);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn resolve() {
        let p = br#"<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope" xmlns:wsd="http://schemas.xmlsoap.org/ws/2005/04/discovery"><soap:Header/></soap:Envelope>"#;
        let mut c = Conv::udp(&DISSECTOR, 58931, 3702);
        c.client(p);
        assert_eq!(c.name(), "WSD");
        assert!(!is_wsd(
            br#"<?xml version="1.0"?><soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"/>"#
        ));
        assert!(!is_wsd(b"M-SEARCH * HTTP/1.1\r\n"));
    }
}
