//! Checkmk agent (TCP 6556): on connection the agent writes its report unasked; the
//! report opens with the section header `<<<check_mk>>>` and a newline. Confirmed by that header.

use super::wire::{opening_then, opening_verdict};
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::CHECKMK,
    transports: Transports::TCP,
    tcp_ports: &[6556],
    udp_ports: &[],
    inspect,
};

const MAGIC: &[u8] = b"<<<check_mk>>>";

/// `Some(true)` when `d` opens with the fixed text and the end of the line, `Some(false)` while it
/// may still, `None` when it cannot.
pub fn greeting(d: &[u8]) -> Option<bool> {
    opening_then(d, MAGIC, |b| b == b'\n' || b == b'\r')
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    opening_verdict(ins, id::CHECKMK, greeting(ins.data))
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn opening_recognised() {
        assert_eq!(
            greeting(b"<<<check_mk>>>\x0aVersion: 1.4.0p9\x0a"),
            Some(true)
        );
        assert_eq!(greeting(b"<<<"), Some(false));
        assert_eq!(greeting(b"<<<check_mk>>>x"), None);
        let mut c = Conv::tcp(&DISSECTOR, 40000, 6556);
        c.server(b"<<<check_mk>>>\x0aVersion: 1.4.0p9\x0a");
        assert_eq!(c.name(), "CHECKMK");
        let mut c = Conv::tcp(&DISSECTOR, 40000, 6556);
        c.client(b"GET / HTTP/1.1\r\n\r\n");
        assert!(!c.open);
    }
}
