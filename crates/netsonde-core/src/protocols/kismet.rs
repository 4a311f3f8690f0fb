//! Kismet (wireless monitor client/server protocol, TCP 2501): the server greets with a
//! line `*KISMET: <version> <start time> ...`; clients then send `!<id> <COMMAND>` lines.
//! Confirmed by the greeting and the space-separated field after it.

use super::wire::{opening_then, opening_verdict};
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::KISMET,
    transports: Transports::TCP,
    tcp_ports: &[2501],
    udp_ports: &[],
    inspect,
};

const MAGIC: &[u8] = b"*KISMET: ";

/// `Some(true)` when `d` opens with the fixed text and the version field, `Some(false)` while it
/// may still, `None` when it cannot.
pub fn greeting(d: &[u8]) -> Option<bool> {
    opening_then(d, MAGIC, |b| b.is_ascii_graphic())
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    opening_verdict(ins, id::KISMET, greeting(ins.data))
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn opening_recognised() {
        assert_eq!(
            greeting(b"*KISMET: 0.0.0 1144004381 \x01Kismet\x01 20050815211952 0 2005.08.R1 \x0a"),
            Some(true)
        );
        assert_eq!(greeting(b"*KI"), Some(false));
        assert_eq!(greeting(b"*KISMET: \x00\x00"), None);
        let mut c = Conv::tcp(&DISSECTOR, 40000, 2501);
        c.server(b"*KISMET: 0.0.0 1144004381 \x01Kismet\x01 20050815211952 0 2005.08.R1 \x0a");
        assert_eq!(c.name(), "Kismet");
        let mut c = Conv::tcp(&DISSECTOR, 40000, 2501);
        c.client(b"GET / HTTP/1.1\r\n\r\n");
        assert!(!c.open);
    }
}
