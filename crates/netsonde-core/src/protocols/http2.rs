//! HTTP/2 over cleartext TCP with prior knowledge (RFC 9113 section 3.3): the client opens
//! with the 24-byte connection preface `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`, then a SETTINGS
//! frame. (HTTP/2 over TLS is TLS with the `h2` ALPN and is reported as TLS.)

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static DISSECTOR: Dissector = Dissector {
    proto: id::HTTP2,
    transports: Transports::TCP,
    tcp_ports: &[],
    udp_ports: &[],
    inspect,
};

/// The client connection preface.
pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if !ins.to_server() {
        // The client speaks first; its preface decides.
        return Verdict::Continue;
    }
    let d = ins.data;
    if d.starts_with(PREFACE) {
        // The preface is followed by a SETTINGS frame (type 4) on stream 0, when present.
        let settings = d.get(PREFACE.len() + 3).map_or(true, |&t| t == 4);
        if settings {
            ins.detect(id::HTTP2);
            return Verdict::Done;
        }
        return Verdict::Exclude;
    }
    if !d.is_empty() && PREFACE.starts_with(d) {
        return Verdict::Continue;
    }
    Verdict::Exclude
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn preface_then_settings() {
        let mut p = PREFACE.to_vec();
        p.extend_from_slice(&[0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 100]);
        let mut c = Conv::tcp(&DISSECTOR, 40000, 29518);
        c.client(&p);
        assert_eq!(c.name(), "HTTP2");
        // A preface cut into two segments.
        let mut c = Conv::tcp(&DISSECTOR, 40000, 8080);
        c.client(&p[..10]);
        assert_eq!(c.name(), "Unknown");
        c.client(&p[10..]);
        assert_eq!(c.name(), "HTTP2");
        // Not SETTINGS after the preface, or no preface.
        let mut bad = PREFACE.to_vec();
        bad.extend_from_slice(&[0, 0, 6, 1]);
        let mut c = Conv::tcp(&DISSECTOR, 40000, 8080);
        c.client(&bad);
        assert_eq!(c.name(), "Unknown");
        let mut c = Conv::tcp(&DISSECTOR, 40000, 8080);
        c.client(b"PRI * HTTP/1.1\r\n\r\n");
        assert_eq!(c.name(), "Unknown");
    }
}
