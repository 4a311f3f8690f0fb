//! Monero peer-to-peer protocol (Levin, TCP 18080): every message starts with the 8-byte
//! signature 0x0101010101012101 (little-endian), the body size (64-bit), a
//! "have to return" flag, the command, a return code, flags and the protocol version (1).
//! Confirmed by the signature, the version and a body size that is not absurd.

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::MONERO,
    transports: Transports::TCP,
    tcp_ports: &[18080],
    udp_ports: &[],
    inspect,
};

const SIGNATURE: &[u8] = b"\x01\x21\x01\x01\x01\x01\x01\x01";
const HEADER_LEN: usize = 33;
/// Levin's default limit on a packet body.
const MAX_BODY: u64 = 100 << 20;

/// The command of a Levin header at the start of `d`.
pub fn header(d: &[u8]) -> Option<u32> {
    if d.get(..8)? != SIGNATURE {
        return None;
    }
    let body = u64::from_le_bytes(d.get(8..16)?.try_into().ok()?);
    let have_to_return = *d.get(16)?;
    let command = u32::from_le_bytes(d.get(17..21)?.try_into().ok()?);
    let version = u32::from_le_bytes(d.get(29..33)?.try_into().ok()?);
    (body <= MAX_BODY && have_to_return <= 1 && version == 1).then_some(command)
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    let d = ins.data;
    if d.len() < HEADER_LEN {
        let n = d.len().min(SIGNATURE.len());
        return if d.get(..n) == SIGNATURE.get(..n) {
            Verdict::Continue
        } else {
            Verdict::Exclude
        };
    }
    if header(d).is_none() {
        return Verdict::Exclude;
    }
    ins.detect(id::MONERO);
    Verdict::Done
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    const HANDSHAKE: &[u8] = b"\x01\x21\x01\x01\x01\x01\x01\x01\x06\x01\x00\x00\x00\x00\x00\x00\
        \x01\xe9\x03\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00\x01\x11\x01\x01";

    #[test]
    fn handshake_request() {
        assert_eq!(header(HANDSHAKE), Some(1001));
        let mut c = Conv::tcp(&DISSECTOR, 48882, 18080);
        c.client(HANDSHAKE);
        assert_eq!(c.name(), "Monero");
    }

    #[test]
    fn rejects_bad_headers() {
        let mut v2 = HANDSHAKE.to_vec();
        v2[29] = 2;
        assert_eq!(header(&v2), None);
        let mut huge = HANDSHAKE.to_vec();
        huge[15] = 1;
        assert_eq!(header(&huge), None);
        let mut c = Conv::tcp(&DISSECTOR, 48882, 18080);
        c.client(b"\x01\x21\x01\x02");
        assert!(!c.open);
    }
}
