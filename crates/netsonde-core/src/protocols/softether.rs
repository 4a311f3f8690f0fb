//! SoftEther VPN's UDP NAT-traversal service (port 5004). Clients send SoftEther "packs":
//! an element count, then per element a name (32-bit length counting a terminating byte,
//! the name), a value type (0 int, 1 data, 2 string, 3 unicode, 4 int64) and a value count,
//! all big-endian. The server answers a one-byte probe with `IP=<address>,PORT=<port>`.
//! Confirmed by a well-formed first element (known type, printable name) or by that answer.

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::SOFTETHER,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[5004],
    inspect,
};

/// Bounds a pack's header must respect.
const MAX_ELEMENTS: u32 = 4096;
const MAX_NAME: usize = 63;
const MAX_VALUES: u32 = 65536;

fn be32(d: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(d.get(at..at + 4)?.try_into().ok()?))
}

/// A pack: its first element's name.
pub fn pack(d: &[u8]) -> Option<&[u8]> {
    let n = be32(d, 0)?;
    let name_len = usize::try_from(be32(d, 4)?).ok()?;
    if n == 0 || n > MAX_ELEMENTS || !(2..=MAX_NAME + 1).contains(&name_len) {
        return None;
    }
    let name = d.get(8..8 + name_len - 1)?;
    if !name
        .iter()
        .all(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
    {
        return None;
    }
    let at = 8 + name_len - 1;
    let kind = be32(d, at)?;
    let count = be32(d, at + 4)?;
    (kind <= 4 && (1..=MAX_VALUES).contains(&count)).then_some(name)
}

/// The service's answer: `IP=<address>,PORT=<digits>`.
pub fn is_address_answer(d: &[u8]) -> bool {
    let Some(rest) = d.strip_prefix(b"IP=") else {
        return false;
    };
    let Some(comma) = rest.iter().position(|&b| b == b',') else {
        return false;
    };
    let addr = rest.get(..comma).unwrap_or_default();
    let port = rest.get(comma + 1..).and_then(|p| p.strip_prefix(b"PORT="));
    !addr.is_empty()
        && addr
            .iter()
            .all(|&b| b.is_ascii_hexdigit() || b == b'.' || b == b':')
        && port.is_some_and(|p| (1..=5).contains(&p.len()) && p.iter().all(u8::is_ascii_digit))
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    let d = ins.data;
    if pack(d).is_some() || is_address_answer(d) {
        ins.detect(id::SOFTETHER);
        return Verdict::Done;
    }
    // The one-byte probe that the address answer follows.
    if d.len() == 1 && ins.packet_no <= 2 {
        return Verdict::Continue;
    }
    Verdict::Exclude
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn pack_request() {
        let m = b"\x00\x00\x00\x03\x00\x00\x00\x07opcode\x00\x00\x00\x02\x00\x00\x00\x01\x00\x00\x00\x09get_token";
        assert_eq!(pack(m), Some(&b"opcode"[..]));
        let mut c = Conv::udp(&DISSECTOR, 51381, 5004);
        c.client(m);
        assert_eq!(c.name(), "Softether");
    }

    #[test]
    fn probe_and_answer() {
        let mut c = Conv::udp(&DISSECTOR, 51381, 5004);
        c.client(b"A");
        assert!(c.open);
        c.server(b"IP=90.186.132.133,PORT=51381");
        assert_eq!(c.name(), "Softether");
        assert!(!is_address_answer(b"IP=1.2.3.4,PORT=x"));
        assert_eq!(
            pack(b"\x00\x00\x00\x03\x00\x00\x00\x07opc de\x00\x00\x00\x02\x00\x00\x00\x01"),
            None
        );
        assert_eq!(
            pack(b"\x00\x00\x00\x03\x00\x00\x00\x07opcode\x00\x00\x00\x09\x00\x00\x00\x01"),
            None
        );
    }
}
