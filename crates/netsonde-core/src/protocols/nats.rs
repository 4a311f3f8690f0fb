//! NATS messaging (TCP 4222): a text protocol whose server opens with `INFO {json}` (with
//! `server_id`) and whose client answers `CONNECT {json}` (with `verbose`/`pedantic`).
//! Confirmed by either opening line.

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::NATS,
    transports: Transports::TCP,
    tcp_ports: &[4222],
    udp_ports: &[],
    inspect,
};

fn find(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// `INFO {…"server_id"…}` or `CONNECT {…"verbose"…}`.
pub fn is_opening(d: &[u8]) -> bool {
    if let Some(json) = d.strip_prefix(b"INFO {") {
        return find(json, b"\"server_id\"");
    }
    if let Some(json) = d.strip_prefix(b"CONNECT {") {
        return find(json, b"\"verbose\"") || find(json, b"\"pedantic\"");
    }
    false
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    let d = ins.data;
    if is_opening(d) {
        ins.detect(id::NATS);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn info_and_connect() {
        let mut c = Conv::tcp(&DISSECTOR, 54820, 4222);
        c.server(b"INFO {\"server_id\":\"NALG56\",\"version\":\"2.1.0\"}\r\n");
        assert_eq!(c.name(), "Nats");
        assert!(is_opening(
            b"CONNECT {\"verbose\":false,\"pedantic\":false}\r\n"
        ));
        assert!(!is_opening(b"INFO {\"id\":1}\r\n"));
        assert!(!is_opening(b"CONNECT example.com:443 HTTP/1.1\r\n"));
    }
}
