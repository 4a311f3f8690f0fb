//! Ubiquiti discovery (UBNT AirControl 2): a version byte (1 or 2), a command byte and the
//! 16-bit length of what follows, which is a list of TLVs (type byte 0x01-0x30, 16-bit length, value)
//! filling the datagram exactly. Version 1 probes are the bare four-byte header.

use super::wire::be16;
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static DISSECTOR: Dissector = Dissector {
    proto: id::UBNTAC2,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[10001],
    inspect,
};

/// Whether the datagram is a Ubiquiti discovery packet.
pub fn is_discovery(d: &[u8]) -> bool {
    if !matches!(d.first(), Some(1 | 2)) || be16(d, 2).map(usize::from) != Some(d.len() - 4) {
        return false;
    }
    if d.len() == 4 {
        // Version 1 probe: command 0 and nothing else.
        return d.get(..2) == Some(&[1, 0][..]);
    }
    let mut at = 4;
    while at < d.len() {
        let Some(len) = be16(d, at + 1) else {
            return false;
        };
        // Known field types (MAC/IP addresses, firmware, uptime, names, model, ...).
        if !matches!(d.get(at), Some(0x01..=0x30)) {
            return false;
        }
        at += 3 + usize::from(len);
    }
    at == d.len()
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if ins.data.len() >= 4 && is_discovery(ins.data) {
        ins.detect(id::UBNTAC2);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn tlvs_fill_the_datagram() {
        let p = b"\x02\x06\x00\x0d\x02\x00\x0a\x80\x2a\xa8\x8d\x69\x2b\xc0\xa8\x02\x15";
        assert!(is_discovery(p));
        let mut c = Conv::udp(&DISSECTOR, 34085, 10001);
        c.client(p);
        assert_eq!(c.name(), "UBNTAC2");
        assert!(is_discovery(b"\x01\x00\x00\x00"));
        // A TLV running past the end, and a wrong total length.
        assert!(!is_discovery(b"\x02\x06\x00\x05\x02\x00\x0a\x80\x2a"));
        assert!(!is_discovery(b"\x02\x06\x00\x04\x02\x00\x0a\x80\x2a"));
        assert!(!is_discovery(b"\x03\x00\x00\x00"));
        assert!(!is_discovery(
            b"\x02\x06\x00\x07\x35\x00\x04\x00\x00\x00\x00"
        ));
    }
}
