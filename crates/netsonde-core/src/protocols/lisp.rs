//! LISP control plane (RFC 9301) on port 4342. Over UDP, Map-Register (3) and Map-Notify
//! (4), by the high nibble of the first byte (Map-Request/Reply and encapsulated control
//! messages have too little fixed structure to tell from other traffic). They carry a record count, a 64-bit nonce, a key id
//! and an authentication-data length that must fit before at least one 16-byte record.
//! Over TCP (reliable transport for Map-Register): messages of a 16-bit type, a 16-bit
//! length of the whole message and a 32-bit id; a Registration message (17) wraps a
//! Map-Register, others must be whole messages.

use super::wire::be16;
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static DISSECTOR: Dissector = Dissector {
    proto: id::LISP,
    transports: Transports::TCP_UDP,
    tcp_ports: &[4342],
    udp_ports: &[4342],
    inspect,
};

/// Whether `d` is a Map-Register or Map-Notify with its authentication data in place.
pub fn is_register_or_notify(d: &[u8]) -> bool {
    let (Some(&b0), Some(&count)) = (d.first(), d.get(3)) else {
        return false;
    };
    if !matches!(b0 >> 4, 3 | 4) || count == 0 {
        return false;
    }
    // Reserved bits are zero (only the want-map-notify bit in the third byte).
    if d.get(1) != Some(&0) || !d.get(2).is_some_and(|b| b & 0xfe == 0) {
        return false;
    }
    let (Some(key), Some(auth)) = (be16(d, 12), be16(d, 14)) else {
        return false;
    };
    // Authentication data sized for no key or an HMAC-SHA-1/SHA-256 variant.
    if key > 3 || !matches!(auth, 0 | 12 | 16 | 20 | 32) {
        return false;
    }
    // The first record: TTL, locator count, EID mask length, flags, map version, EID AFI
    // (IPv4, IPv6 or LCAF) with a mask length that suits it.
    let rec = 16 + usize::from(auth);
    let (Some(&mask), Some(afi)) = (d.get(rec + 5), be16(d, rec + 10)) else {
        return false;
    };
    match afi {
        1 => mask <= 32,
        2 => mask <= 128,
        0x4003 => true,
        _ => false,
    }
}

/// Whether `d` is a LISP control message (UDP).
pub fn is_control(d: &[u8]) -> bool {
    match d.first().map(|b| b >> 4) {
        Some(3 | 4) => is_register_or_notify(d),
        _ => false,
    }
}

/// Whether `d` starts with a reliable-transport message.
pub fn is_tcp_message(d: &[u8]) -> bool {
    let (Some(t), Some(len)) = (be16(d, 0), be16(d, 2).map(usize::from)) else {
        return false;
    };
    if len < 8 || len > d.len() {
        return false;
    }
    match t {
        17 => d.get(8..len).is_some_and(is_register_or_notify),
        18..=22 => len == d.len(),
        _ => false,
    }
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    let ok = if ins.flow.l4 == 17 {
        is_control(ins.data)
    } else {
        is_tcp_message(ins.data)
    };
    if ok {
        ins.detect(id::LISP);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    fn register() -> Vec<u8> {
        let mut m = vec![0x32, 0, 1, 1, 1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 0, 20];
        m.extend_from_slice(&[0xaa; 20]);
        m.extend_from_slice(&[0, 0, 5, 0xa0, 1, 0x20, 0x10, 0, 0, 0, 0, 1, 10, 0, 0, 0]);
        m
    }

    #[test]
    fn udp_register_and_tcp_registration() {
        let mut c = Conv::udp(&DISSECTOR, 4342, 4342);
        c.client(&register());
        assert_eq!(c.name(), "LISP");
        let r = register();
        let mut t = vec![0, 17];
        t.extend_from_slice(&((r.len() + 8) as u16).to_be_bytes());
        t.extend_from_slice(&[0; 4]);
        t.extend_from_slice(&r);
        let mut c = Conv::tcp(&DISSECTOR, 52995, 4342);
        c.client(&t);
        assert_eq!(c.name(), "LISP");
        assert!(is_tcp_message(
            b"\x00\x14\x00\x0f\x00\x00\x00\x00\x00\x00\x00\x9f\xac\xad\xe9"
        ));
        assert!(!is_tcp_message(
            b"\x00\x14\x00\x10\x00\x00\x00\x00\x00\x00\x00\x9f\xac\xad\xe9"
        ));
    }

    #[test]
    fn rejects() {
        let mut r = register();
        r[15] = 200; // authentication data beyond the message
        assert!(!is_control(&r));
        let mut r = register();
        r[3] = 0;
        assert!(!is_control(&r));
        let mut r = register();
        r[47] = 9; // EID AFI
        assert!(!is_control(&r));
        let mut r = register();
        r[1] = 1;
        assert!(!is_control(&r));
    }
}
