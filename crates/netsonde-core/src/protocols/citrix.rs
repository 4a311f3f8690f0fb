//! Citrix ICA (TCP 1494; 2598 with session reliability): both ends open with the 6-byte
//! ICA detection string `\x7f\x7fICA\0`. Confirmed by that string.

use super::wire::{opening, opening_verdict};
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::CITRIX,
    transports: Transports::TCP,
    tcp_ports: &[1494, 2598],
    udp_ports: &[],
    inspect,
};

const MAGIC: &[u8] = b"\x7f\x7fICA\x00";

/// `Some(true)` when `d` opens with the detection string, `Some(false)` while it may still,
/// `None` when it cannot.
pub fn greeting(d: &[u8]) -> Option<bool> {
    opening(d, MAGIC)
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    opening_verdict(ins, id::CITRIX, greeting(ins.data))
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn opening_recognised() {
        assert_eq!(greeting(b"\x7f\x7fICA\x00"), Some(true));
        assert_eq!(greeting(b"\x7f\x7fI"), Some(false));
        assert_eq!(greeting(b"\x7f\x7fICB\x00"), None);
        let mut c = Conv::tcp(&DISSECTOR, 40000, 1494);
        c.server(b"\x7f\x7fICA\x00");
        assert_eq!(c.name(), "Citrix");
        let mut c = Conv::tcp(&DISSECTOR, 40000, 1494);
        c.client(b"GET / HTTP/1.1\r\n\r\n");
        assert!(!c.open);
    }
}
