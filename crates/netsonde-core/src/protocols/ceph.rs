//! Ceph (messenger protocol, TCP 6789 and 3300): both ends open with a banner, `ceph v027`
//! (messenger v1, followed by the peer's address) or `ceph v2\n` (messenger v2). Confirmed by
//! the banner and its version digit.

use super::wire::{opening_then, opening_verdict};
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::CEPH,
    transports: Transports::TCP,
    tcp_ports: &[6789, 3300],
    udp_ports: &[],
    inspect,
};

const MAGIC: &[u8] = b"ceph v";

/// `Some(true)` when `d` opens with the fixed text and a digit (the version), `Some(false)` while it
/// may still, `None` when it cannot.
pub fn greeting(d: &[u8]) -> Option<bool> {
    opening_then(d, MAGIC, |b| b.is_ascii_digit())
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    opening_verdict(ins, id::CEPH, greeting(ins.data))
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn opening_recognised() {
        assert_eq!(greeting(b"ceph v027"), Some(true));
        assert_eq!(greeting(b"cep"), Some(false));
        assert_eq!(greeting(b"ceph vx27"), None);
        let mut c = Conv::tcp(&DISSECTOR, 40000, 6789);
        c.server(b"ceph v027");
        assert_eq!(c.name(), "Ceph");
        let mut c = Conv::tcp(&DISSECTOR, 40000, 6789);
        c.client(b"GET / HTTP/1.1\r\n\r\n");
        assert!(!c.open);
    }
}
