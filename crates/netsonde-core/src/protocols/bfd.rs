//! BFD, Bidirectional Forwarding Detection (RFC 5880/5881): control packets are version 1,
//! a diagnostic code (0-8), a length byte equal to the datagram's (24, more with
//! authentication), a non-zero detection multiplier and a non-zero local discriminator.

use super::wire::be32;
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static DISSECTOR: Dissector = Dissector {
    proto: id::BFD,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[3784, 4784],
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

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
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
}
