//! RSYNC (rsync daemon protocol, TCP 873): both sides open with a greeting line
//! `@RSYNCD: <major>.<minor>` (newer versions add digest names). Confirmed by the greeting
//! and the digit of its major version.

use super::wire::{opening_then, opening_verdict};
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::RSYNC,
    transports: Transports::TCP,
    tcp_ports: &[873],
    udp_ports: &[],
    inspect,
};

const MAGIC: &[u8] = b"@RSYNCD: ";

/// `Some(true)` when `d` opens with the fixed text and a digit (the major version), `Some(false)` while it
/// may still, `None` when it cannot.
pub fn greeting(d: &[u8]) -> Option<bool> {
    opening_then(d, MAGIC, |b| b.is_ascii_digit())
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    opening_verdict(ins, id::RSYNC, greeting(ins.data))
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn opening_recognised() {
        assert_eq!(greeting(b"@RSYNCD: 30.0\x0a"), Some(true));
        assert_eq!(greeting(b"@RS"), Some(false));
        assert_eq!(greeting(b"@RSYNCD: x\x0a"), None);
        let mut c = Conv::tcp(&DISSECTOR, 40000, 873);
        c.server(b"@RSYNCD: 30.0\x0a");
        assert_eq!(c.name(), "RSYNC");
        let mut c = Conv::tcp(&DISSECTOR, 40000, 873);
        c.client(b"GET / HTTP/1.1\r\n\r\n");
        assert!(!c.open);
    }
}
