//! Apache Thrift RPC messages, over TCP or UDP. The strict binary protocol opens a message
//! with 0x80 0x01, a zero byte and the message type (1 call, 2 reply, 3 exception,
//! 4 oneway), then the method name (32-bit length and text) and a sequence id; the compact
//! protocol with 0x82, a byte holding the type (top three bits) and version 1, a varint
//! sequence id, and the method name (varint length and text). Confirmed by either header
//! with a printable method name.

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::THRIFT,
    transports: Transports::TCP_UDP,
    tcp_ports: &[],
    udp_ports: &[],
    inspect,
};

const MAX_NAME: usize = 128;

fn method_name(name: &[u8]) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME
        && name.first().is_some_and(u8::is_ascii_alphabetic)
        && name
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b':')
}

/// A varint at `at`: its value and the offset after it (at most 5 bytes).
fn varint(d: &[u8], mut at: usize) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for shift in (0..35).step_by(7) {
        let b = *d.get(at)?;
        at += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some((v, at));
        }
    }
    None
}

/// The method name of a binary- or compact-protocol message header.
pub fn message(d: &[u8]) -> Option<&[u8]> {
    match (*d.first()?, *d.get(1)?) {
        (0x80, 0x01) => {
            let t = *d.get(3)?;
            if *d.get(2)? != 0 || !(1..=4).contains(&t) {
                return None;
            }
            let len = usize::try_from(u32::from_be_bytes(d.get(4..8)?.try_into().ok()?)).ok()?;
            let name = d.get(8..8usize.checked_add(len)?)?;
            method_name(name).then_some(name)
        }
        (0x82, tv) => {
            let t = tv >> 5;
            if tv & 0x1f != 1 || !(1..=4).contains(&t) {
                return None;
            }
            let (_, at) = varint(d, 2)?;
            let (len, at) = varint(d, at)?;
            let name = d.get(at..at.checked_add(usize::try_from(len).ok()?)?)?;
            method_name(name).then_some(name)
        }
        _ => None,
    }
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if message(ins.data).is_some() {
        ins.detect(id::THRIFT);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn binary_call() {
        let m = b"\x80\x01\x00\x01\x00\x00\x00\x14anonymous_command_on\x00\x00\x00\x00\x08\x00";
        assert_eq!(message(m), Some(&b"anonymous_command_on"[..]));
        let mut c = Conv::tcp(&DISSECTOR, 53387, 11010);
        c.client(m);
        assert_eq!(c.name(), "Thrift");
    }

    #[test]
    fn compact_oneway_and_others() {
        let m = b"\x82\x81\xb2\x81\x01\x09emitBatch\x1c\x1c";
        assert_eq!(message(m), Some(&b"emitBatch"[..]));
        assert_eq!(message(b"\x82\x82\x01\x09emitBatch"), None);
        assert_eq!(message(b"\x80\x01\x00\x05\x00\x00\x00\x01a"), None);
        assert_eq!(message(b"\x80\x01\x00\x01\x00\x00\x00\x05a b c"), None);
    }
}
