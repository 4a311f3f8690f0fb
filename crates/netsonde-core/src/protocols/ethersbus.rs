//! Ether-S-Bus (SAIA S-Bus over UDP, port 5050): an 8-byte header — the telegram length
//! (32-bit, the whole datagram), version (0 or 1), protocol type (0 for S-Bus), a 16-bit
//! sequence number — and the telegram attribute (0 request, 1 response, 2 ACK/NAK), then
//! the S-Bus telegram ending in a 16-bit CRC.

use super::wire::{be32, u8_at};
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static DISSECTOR: Dissector = Dissector {
    proto: id::ETHER_S_BUS,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[5050],
    inspect,
};

/// Header, attribute and CRC: the shortest telegram (an ACK) adds two bytes.
const MIN_LEN: usize = 11;

/// Whether `d` is an Ether-S-Bus telegram.
pub fn is_ethersbus(d: &[u8]) -> bool {
    let Some(len) = be32(d, 0).and_then(|l| usize::try_from(l).ok()) else {
        return false;
    };
    len == d.len()
        && len >= MIN_LEN
        && u8_at(d, 4).is_some_and(|v| v <= 1)
        && u8_at(d, 5) == Some(0)
        && u8_at(d, 8).is_some_and(|a| a <= 2)
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if is_ethersbus(ins.data) {
        ins.detect(id::ETHER_S_BUS);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    const REQUEST: &[u8] = b"\x00\x00\x00\x0d\x01\x00\x00\x01\x00\x0a\x20\x53\x18";

    #[test]
    fn request() {
        let mut c = Conv::udp(&DISSECTOR, 2467, 5050);
        c.client(REQUEST);
        assert_eq!(c.name(), "Ether-S-Bus");
        let mut v = REQUEST.to_vec();
        v[3] = 0x0e;
        assert!(!is_ethersbus(&v));
        let mut v = REQUEST.to_vec();
        v[8] = 3;
        assert!(!is_ethersbus(&v));
        let mut v = REQUEST.to_vec();
        v[5] = 1;
        assert!(!is_ethersbus(&v));
    }
}
