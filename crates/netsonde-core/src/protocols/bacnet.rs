//! BACnet/IP (building automation): each datagram starts with a BACnet Virtual Link Control
//! header — type 0x81, a function (0x00-0x0c) and the 16-bit length of the whole datagram.
//! Functions that carry an NPDU are followed by its version byte, 0x01 (Forwarded-NPDU puts
//! the original sender's 6-byte address first).

use super::wire::be16;
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static DISSECTOR: Dissector = Dissector {
    proto: id::BACNET,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[47808],
    inspect,
};

const BVLC_IP: u8 = 0x81;
const NPDU_VERSION: u8 = 0x01;

/// Whether the datagram is a BACnet/IP BVLC message.
pub fn is_bvlc(d: &[u8]) -> bool {
    if d.first() != Some(&BVLC_IP) || be16(d, 2).map(usize::from) != Some(d.len()) {
        return false;
    }
    match d.get(1) {
        // Forwarded-NPDU: B/IP address (6) then the NPDU.
        Some(0x04) => d.get(10) == Some(&NPDU_VERSION),
        // Distribute-Broadcast-To-Network, Original-Unicast/Broadcast-NPDU, Secure-BVLL.
        Some(0x09..=0x0b) => d.get(4) == Some(&NPDU_VERSION),
        // BVLC-Result: a 16-bit result code.
        Some(0x00) => d.len() == 6,
        Some(0x01..=0x03 | 0x05..=0x08 | 0x0c) => d.len() >= 4,
        _ => false,
    }
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if is_bvlc(ins.data) {
        ins.detect(id::BACNET);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn who_is_and_read_property() {
        let mut c = Conv::udp(&DISSECTOR, 47808, 47808);
        c.client(b"\x81\x0b\x00\x0c\x01\x20\xff\xff\x00\xff\x10\x08");
        assert_eq!(c.name(), "BACnet");
        assert!(is_bvlc(
            b"\x81\x0a\x00\x11\x01\x04\x00\x05\xa9\x0c\x0c\x02\x3f\xff\xff\x19\x4b"
        ));
    }

    #[test]
    fn rejects() {
        // Length field not the datagram's.
        assert!(!is_bvlc(
            b"\x81\x0b\x00\x0d\x01\x20\xff\xff\x00\xff\x10\x08"
        ));
        // Wrong NPDU version.
        assert!(!is_bvlc(
            b"\x81\x0b\x00\x0c\x02\x20\xff\xff\x00\xff\x10\x08"
        ));
        // Unknown function.
        assert!(!is_bvlc(b"\x81\x20\x00\x04"));
        let mut c = Conv::udp(&DISSECTOR, 47808, 47808);
        c.client(b"\x80\x0b\x00\x0c\x01\x20\xff\xff\x00\xff\x10\x08");
        assert_eq!(c.name(), "Unknown");
    }
}
