//! OpenWire (Apache ActiveMQ's native protocol, TCP 61616): each side first sends a
//! WireFormatInfo command — a 4-byte length, the command type 1 and the magic `ActiveMQ`.
//! Confirmed by that command type and magic.

use super::wire::{be32, opening};
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::OPENWIRE,
    transports: Transports::TCP,
    tcp_ports: &[61616],
    udp_ports: &[],
    inspect,
};

/// Command type 1 (WIREFORMAT_INFO) and its magic.
const INFO: &[u8] = b"\x01ActiveMQ";

/// `Some(true)` for a WireFormatInfo opening, `Some(false)` while one may still arrive.
pub fn wire_format_info(d: &[u8]) -> Option<bool> {
    let body = d.get(4..).unwrap_or_default();
    // The length covers at least the type, the magic and a version.
    if be32(d, 0).is_some_and(|len| !(13..=0x10_0000).contains(&len)) {
        return None;
    }
    if d.len() < 4 {
        return d.first().map_or(true, |&b| b == 0).then_some(false);
    }
    opening(body, INFO)
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    super::wire::opening_verdict(ins, id::OPENWIRE, wire_format_info(ins.data))
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn wire_format_info_opening() {
        let m = b"\x00\x00\x00\xda\x01ActiveMQ\x00\x00\x00\x0a\x01";
        assert_eq!(wire_format_info(m), Some(true));
        assert_eq!(wire_format_info(b"\x00\x00\x00\xda\x01Act"), Some(false));
        assert_eq!(wire_format_info(b"\x00\x00\x00\xda\x02ActiveMQ"), None);
        assert_eq!(wire_format_info(b"\x7f\x00\x00\xda\x01ActiveMQ"), None);
        let mut c = Conv::tcp(&DISSECTOR, 51157, 61616);
        c.client(m);
        assert_eq!(c.name(), "OpenWire");
    }
}
