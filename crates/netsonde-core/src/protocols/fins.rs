//! Omron FINS (Factory Interface Network Service). Over UDP a 10-byte header — ICF (gateway
//! bit set, command/response bit, response-required bit), a reserved zero byte, the gateway
//! count (2), destination and source network/node/unit addresses and a service id — then a
//! two-byte command code (main request code among the known classes). Over TCP each frame
//! starts with "FINS", a 32-bit length of the rest, a command and an error code.

use super::wire::be32;
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static DISSECTOR: Dissector = Dissector {
    proto: id::FINS,
    transports: Transports::TCP_UDP,
    tcp_ports: &[9600],
    udp_ports: &[9600],
    inspect,
};

/// Whether `d` is a FINS frame with its "FINS" TCP header.
pub fn is_tcp_frame(d: &[u8]) -> bool {
    d.get(..4) == Some(&b"FINS"[..])
        && be32(d, 4).is_some_and(|n| (8..0x1_0000).contains(&n))
        && be32(d, 8).is_some_and(|c| c <= 3)
}

/// Whether `d` is a bare FINS command or response.
pub fn is_fins(d: &[u8]) -> bool {
    d.len() >= 12
        && matches!(d.first(), Some(0x80 | 0x81 | 0xc0 | 0xc1))
        && d.get(1) == Some(&0)
        && d.get(2) == Some(&2)
        && matches!(
            d.get(10),
            Some(0x01..=0x09 | 0x0c | 0x21 | 0x22 | 0x23 | 0x26 | 0x28)
        )
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if is_tcp_frame(ins.data) || is_fins(ins.data) {
        ins.detect(id::FINS);
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
    fn udp_and_tcp_forms() {
        let read = b"\x80\x00\x02\x00\x00\x00\x00\x63\x00\xef\x05\x01\x00";
        let mut c = Conv::udp(&DISSECTOR, 54855, 9600);
        c.client(read);
        assert_eq!(c.name(), "FINS");
        assert!(is_tcp_frame(
            b"FINS\x00\x00\x00\x0c\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
        ));
        assert!(!is_tcp_frame(
            b"FINS\x00\x00\x00\x0c\x00\x00\x00\x09\x00\x00\x00\x00"
        ));
        let mut bad = read.to_vec();
        bad[2] = 3;
        assert!(!is_fins(&bad));
        let mut bad = read.to_vec();
        bad[10] = 0x40;
        assert!(!is_fins(&bad));
    }
}
