//! Yojimbo (netcode.io, UDP game networking). A client opens with a connection request:
//! a zero prefix byte (packet type 0), the 13-byte version info "NETCODE 1.0x\0", the
//! 64-bit protocol id, the token's expiry time, its nonce and the encrypted private
//! connect token (1024 bytes). Every later packet is encrypted, so the request is the
//! only evidence.

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::YOJIMBO,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[],
    inspect,
};

/// Prefix byte, version info, protocol id and expiry, a nonce, the private token.
const MIN_REQUEST: usize = 1 + 13 + 8 + 8 + 8 + 1024;

/// Whether the datagram is a netcode.io connection request.
pub fn is_connection_request(d: &[u8]) -> bool {
    d.len() >= MIN_REQUEST
        && d.first() == Some(&0)
        && d.get(1..12) == Some(&b"NETCODE 1.0"[..])
        && d.get(12).is_some_and(u8::is_ascii_digit)
        && d.get(13) == Some(&0)
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if ins.to_server() && is_connection_request(ins.data) {
        ins.detect(id::YOJIMBO);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::*;
    use crate::protocols::harness::Conv;

    fn request() -> Vec<u8> {
        let mut p = vec![0u8];
        p.extend_from_slice(b"NETCODE 1.02\0");
        p.extend_from_slice(&[0x20, 0x13, 0xad, 0x65, 0, 0, 0, 0]);
        p.resize(1078, 0x5a);
        p
    }

    #[test]
    fn connection_request() {
        assert!(is_connection_request(&request()));
        let mut c = Conv::udp(&DISSECTOR, 34638, 40000);
        c.client(&request());
        assert_eq!(c.name(), "Yojimbo");
    }

    #[test]
    fn rejects_others() {
        assert!(!is_connection_request(&request()[..500]));
        let mut p = request();
        p[0] = 1;
        assert!(!is_connection_request(&p));
        let mut p = request();
        p[5] = b'X';
        assert!(!is_connection_request(&p));
        let mut c = Conv::udp(&DISSECTOR, 34638, 40000);
        c.client(&[0x12; 1100]).client(&request());
        assert_eq!(c.name(), "Unknown");
    }
}
