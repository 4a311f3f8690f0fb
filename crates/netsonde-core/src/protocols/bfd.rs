//! BFD, Bidirectional Forwarding Detection (RFC 5880/5881): control packets are version 1,
//! a diagnostic code (0-8), a length byte equal to the datagram's (24, more with
//! authentication), a non-zero detection multiplier and a non-zero local discriminator.
//! Echo packets (RFC 5881 section 4) go to UDP port 3785 and are addressed so that the
//! neighbour loops them back: source and destination are the sender's own address. Their
//! content is the sender's own; the common form is 12 bytes, an 8-byte non-zero
//! identifier and a 4-byte sequence, its last two bytes zero.

use super::wire::be32;
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static DISSECTOR: Dissector = Dissector {
    proto: id::BFD,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[3784, 3785, 4784],
    inspect,
};

/// Whether the datagram is a BFD control packet.
pub fn is_control(d: &[u8]) -> bool {
    let (Some(&b0), Some(&mult), Some(&len)) = (d.first(), d.get(2), d.get(3)) else {
        return false;
    };
    b0 >> 5 == 1
        && b0 & 0x1f <= 8
        && mult != 0
        && len >= 24
        && usize::from(len) == d.len()
        && be32(d, 4).is_some_and(|disc| disc != 0)
}

/// UDP port of BFD echo packets.
const ECHO_PORT: u16 = 3785;

/// Whether the datagram is a BFD echo packet of a flow from an address to itself.
pub fn is_echo(d: &[u8], looped: bool, port: u16) -> bool {
    looped
        && port == ECHO_PORT
        && d.len() == 12
        && d.get(..8).is_some_and(|id| id.iter().any(|&b| b != 0))
        && d.get(10..) == Some(&[0, 0])
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    let f = &ins.flow;
    if is_echo(ins.data, f.client_ip == f.server_ip, f.server_port) {
        ins.detect(id::BFD);
        return Verdict::Done;
    }
    if is_control(ins.data) {
        ins.detect(id::BFD);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    const CONTROL: &[u8] = b"\x20\x40\x03\x18\x00\x00\x00\x01\x00\x00\x00\x00\x00\x0f\x42\x40\x00\x0f\x42\x40\x00\x07\xa1\x20";

    #[test]
    fn control() {
        let mut c = Conv::udp(&DISSECTOR, 49152, 3784);
        c.client(CONTROL);
        assert_eq!(c.name(), "BFD");
        assert!(!is_control(&CONTROL[..23]));
        let mut v = CONTROL.to_vec();
        v[0] = 0x40; // version 2
        assert!(!is_control(&v));
    }

    #[test]
    fn echo() {
        let e = b"\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00";
        // The harness's flows run between two zero addresses: a loop.
        let mut c = Conv::udp(&DISSECTOR, 49152, 3785);
        c.client(e);
        assert_eq!(c.name(), "BFD");
        assert!(!is_echo(e, false, 3785));
        assert!(!is_echo(e, true, 3784));
        assert!(!is_echo(&[0; 12], true, 3785));
        assert!(!is_echo(&e[..11], true, 3785));
    }
}
