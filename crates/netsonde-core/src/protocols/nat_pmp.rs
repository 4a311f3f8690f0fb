//! NAT-PMP (RFC 6886, UDP 5351): version 0, an opcode (0 external address, 1 UDP and 2 TCP
//! mapping; responses add 128) and a size fixed by the opcode — requests 2 or 12 bytes,
//! responses 12 or 16 with a result code. Confirmed by version 0 and the exact size for the
//! opcode (PCP, version 2, shares the port but is a different protocol).

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::NAT_PMP,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[5351],
    inspect,
};

/// Highest result code RFC 6886 defines.
const MAX_RESULT: u16 = 5;

/// A NAT-PMP message: its opcode.
pub fn opcode(d: &[u8]) -> Option<u8> {
    if *d.first()? != 0 {
        return None;
    }
    let op = *d.get(1)?;
    let reserved_or_result = || {
        d.get(2..4)
            .and_then(|b| b.try_into().ok())
            .map(u16::from_be_bytes)
    };
    let ok = match (op, d.len()) {
        (0, 2) => true,
        (1 | 2, 12) => reserved_or_result() == Some(0),
        (128, 12) | (129 | 130, 16) => reserved_or_result().is_some_and(|r| r <= MAX_RESULT),
        _ => false,
    };
    ok.then_some(op)
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if opcode(ins.data).is_some() {
        ins.detect(id::NAT_PMP);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn external_address_request() {
        let mut c = Conv::udp(&DISSECTOR, 57619, 5351);
        c.client(b"\x00\x00");
        assert_eq!(c.name(), "NAT-PMP");
        assert_eq!(
            opcode(b"\x00\x80\x00\x00\x00\x00\x00\x21\xc0\xa8\x01\x0b"),
            Some(128)
        );
        assert_eq!(
            opcode(b"\x00\x02\x00\x00\x1f\x90\x1f\x90\x00\x00\x0e\x10"),
            Some(2)
        );
    }

    #[test]
    fn rejects_pcp_and_bad_sizes() {
        assert_eq!(opcode(&[2, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x21]), None);
        assert_eq!(opcode(b"\x00\x00\x00"), None);
        assert_eq!(
            opcode(b"\x00\x01\x00\x01\x1f\x90\x1f\x90\x00\x00\x0e\x10"),
            None
        );
        assert_eq!(
            opcode(b"\x00\x80\x00\x09\x00\x00\x00\x21\xc0\xa8\x01\x0b"),
            None
        );
    }
}
