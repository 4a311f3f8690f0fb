//! IEC 60870-5-104 (telecontrol over TCP): APDUs of a start byte 0x68, a length byte (the
//! bytes after it, 4-253) and four control bytes. S-format (supervisory) and U-format
//! (STARTDT/STOPDT/TESTFR act or con) APDUs are exactly 4 control bytes; I-format ones carry
//! an ASDU of at least 6 bytes. A segment must be a whole run of APDUs.

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static DISSECTOR: Dissector = Dissector {
    proto: id::IEC60870,
    transports: Transports::TCP,
    tcp_ports: &[2404],
    udp_ports: &[],
    inspect,
};

/// Whether `d` is a run of whole APDUs.
pub fn is_apdus(d: &[u8]) -> bool {
    let mut at = 0;
    while at < d.len() {
        let (Some(&start), Some(&len), Some(&c1), Some(&c2)) =
            (d.get(at), d.get(at + 1), d.get(at + 2), d.get(at + 3))
        else {
            return false;
        };
        if start != 0x68 || !(4..=253).contains(&len) {
            return false;
        }
        let ok = match c1 & 0x03 {
            0x01 => len == 4 && c1 == 0x01 && c2 == 0,
            0x03 => len == 4 && matches!(c1, 0x07 | 0x0b | 0x13 | 0x23 | 0x43 | 0x83) && c2 == 0,
            _ => len >= 10,
        };
        if !ok {
            return false;
        }
        at += 2 + usize::from(len);
    }
    at == d.len() && at > 0
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if is_apdus(ins.data) {
        ins.detect(id::IEC60870);
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
    fn apdus() {
        let mut c = Conv::tcp(&DISSECTOR, 54768, 2404);
        c.server(b"\x68\x04\x01\x00\x42\xb9");
        assert_eq!(c.name(), "IEC60870");
        assert!(is_apdus(
            b"\x68\x04\x07\x00\x00\x00\x68\x04\x0b\x00\x00\x00"
        ));
        assert!(!is_apdus(b"\x68\x04\x05\x00\x00\x00"));
        assert!(!is_apdus(b"\x68\x04\x01\x00\x42"));
        assert!(!is_apdus(b"\x68\x05\x01\x00\x42\xb9\x00"));
    }
}
