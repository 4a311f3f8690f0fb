//! ANSI C12.22 (metering devices over IP, port 1153): each message is an ACSE association
//! PDU, `[APPLICATION 0]` (0x60), whose elements come in ascending tag order: application
//! context [1], called AP title [2] and its qualifiers and invocation ids [3]-[5], calling
//! AP title [6] and the like [7]-[9], mechanism name [11], calling authentication value
//! [12] and the user information [30] that carries the EPSEM data. AP titles are object
//! identifiers (absolute or relative). The PDU fills the TCP segment or UDP datagram.

use super::ber;
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static DISSECTOR: Dissector = Dissector {
    proto: id::ANSI_C1222,
    transports: Transports::TCP_UDP,
    tcp_ports: &[1153],
    udp_ports: &[1153],
    inspect,
};

const USER_INFORMATION: u8 = 0xbe;

/// The context number of an ACSE element tag, if C12.22 uses it.
fn element(tag: u8) -> Option<u8> {
    match tag {
        0xa1..=0xa9 | 0xac | USER_INFORMATION => Some(tag & 0x1f),
        0x8b => Some(11),
        _ => None,
    }
}

/// Whether `d` is exactly one C12.22 ACSE PDU.
pub fn is_c1222(d: &[u8]) -> bool {
    let Some((apdu, rest)) = ber::read(d) else {
        return false;
    };
    if apdu.tag != 0x60 || !rest.is_empty() {
        return false;
    }
    let mut last = 0;
    let mut user_info = false;
    let mut rest = apdu.content;
    while !rest.is_empty() {
        let Some((e, next)) = ber::read(rest) else {
            return false;
        };
        let Some(n) = element(e.tag) else {
            return false;
        };
        if n <= last || ((n == 2 || n == 6) && !matches!(e.content.first(), Some(0x06 | 0x0d))) {
            return false;
        }
        last = n;
        user_info |= e.tag == USER_INFORMATION;
        rest = next;
    }
    user_info
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if is_c1222(ins.data) {
        ins.detect(id::ANSI_C1222);
        return Verdict::Done;
    }
    // TCP: a PDU in several segments.
    if ins.flow.l4 == 6 && ins.data.first() == Some(&0x60) {
        if let Some((_, len, hl)) = ber::header(ins.data) {
            if hl + len > ins.data.len() && len < 16_384 {
                return Verdict::Continue;
            }
        }
    }
    Verdict::Exclude
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    /// Called AP title (relative OID), calling AP title, calling AP invocation id and the
    /// user information.
    const REQUEST: &[u8] =
        b"\x60\x30\xa2\x0f\x06\x0d\x60\x7c\x86\xf7\x54\x01\x16\x00\x01\x01\x40\xce\x11\
\xa6\x0e\x06\x0c\x60\x7c\x86\xf7\x54\x01\x16\x00\x01\x01\x40\x21\xa8\x04\x02\x02\x0f\x89\
\xbe\x07\x28\x05\x81\x03\x80\x01\x20";

    #[test]
    fn request() {
        assert_eq!(REQUEST.len(), 50);
        let mut c = Conv::udp(&DISSECTOR, 55092, 1153);
        c.client(REQUEST);
        assert_eq!(c.name(), "ANSI_C1222");
        let mut c = Conv::tcp(&DISSECTOR, 1577, 1153);
        c.client(&REQUEST[..20]);
        assert!(c.open);
        c.client(&REQUEST[20..]);
        assert_eq!(c.name(), "ANSI_C1222");
    }

    #[test]
    fn rejects() {
        let mut v = REQUEST.to_vec();
        v.push(0);
        assert!(!is_c1222(&v));
        // Elements out of order: the calling title before the called one.
        let mut v = REQUEST.to_vec();
        v[2] = 0xa6;
        v[19] = 0xa2;
        assert!(!is_c1222(&v));
        // No user information.
        let mut v = REQUEST.to_vec();
        v[41] = 0xa9;
        assert!(!is_c1222(&v));
        // An LDAP-like SEQUENCE.
        assert!(!is_c1222(b"\x30\x05\x02\x01\x01\x60\x00"));
    }
}
