//! CryNetwork (CryEngine's game networking over UDP): the client's connection request is
//! a fixed-layout datagram — a length-like first byte, zero padding, then the constant
//! sequence 01 00 00 00 07 00 00 00 03 07 00 00 00 at offset 16 — and the server answers
//! with its first byte, 31 zero bytes and 0x02. Confirmed by either layout.

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::CRYNETWORK,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[],
    inspect,
};

const REQUEST_TAG: &[u8] = b"\x01\x00\x00\x00\x07\x00\x00\x00\x03\x07\x00\x00\x00";

/// The client's connection request.
pub fn is_request(d: &[u8]) -> bool {
    d.len() >= 40
        && d.first().is_some_and(|&b| b != 0)
        && d.get(1..3) == Some(&[0, 0])
        && d.get(5..16).is_some_and(|z| z.iter().all(|&b| b == 0))
        && d.get(16..29) == Some(REQUEST_TAG)
}

/// The server's answer.
pub fn is_answer(d: &[u8]) -> bool {
    d.len() >= 64
        && d.first().is_some_and(|&b| b != 0)
        && d.get(1..32).is_some_and(|z| z.iter().all(|&b| b == 0))
        && d.get(32) == Some(&2)
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if is_request(ins.data) || is_answer(ins.data) {
        ins.detect(id::CRYNETWORK);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    fn request() -> Vec<u8> {
        let mut m = vec![0u8; 70];
        m[0] = 0x3c;
        m[3] = 0x08;
        m[4] = 0xed;
        m[16..29].copy_from_slice(REQUEST_TAG);
        m[29] = 4;
        m[37] = 4;
        for (i, b) in m[38..].iter_mut().enumerate() {
            *b = i as u8 | 0x80;
        }
        m
    }

    #[test]
    fn connection_request() {
        let mut c = Conv::udp(&DISSECTOR, 61837, 25383);
        c.client(&request());
        assert_eq!(c.name(), "CryNetwork");
    }

    #[test]
    fn answer_and_others() {
        let mut a = vec![0u8; 133];
        a[0] = 0x87;
        a[32] = 2;
        a[33] = 0xe9;
        assert!(is_answer(&a));
        a[10] = 1;
        assert!(!is_answer(&a));
        let mut r = request();
        r[20] = 8;
        assert!(!is_request(&r));
        assert!(!is_request(&[0u8; 70]));
    }
}
