//! Ether-SIO (SAIA-Burgess serial I/O over Ethernet, UDP 6060): a header that starts with
//! the magic "ESIO", a 16-bit version (0-2) and a zero byte, followed by the I/O data.

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static DISSECTOR: Dissector = Dissector {
    proto: id::ETHERSIO,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[6060],
    inspect,
};

/// Whether `d` is an Ether-SIO packet.
pub fn is_ethersio(d: &[u8]) -> bool {
    d.len() >= 20
        && d.get(..4) == Some(b"ESIO")
        && d.get(4) == Some(&0)
        && d.get(5).is_some_and(|&v| v <= 2)
        && d.get(6) == Some(&0)
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if is_ethersio(ins.data) {
        ins.detect(id::ETHERSIO);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    const PACKET: &[u8] = b"ESIO\x00\x01\x00\x00\x00\x31\x76\x16\x00\x00\x00\x18\x00\x00\x00\x0d\x01\x00\x00\x00\x00\x5c";

    #[test]
    fn packet() {
        let mut c = Conv::udp(&DISSECTOR, 1024, 6060);
        c.client(PACKET);
        assert_eq!(c.name(), "EtherSIO");
        let mut v = PACKET.to_vec();
        v[5] = 3;
        assert!(!is_ethersio(&v));
        assert!(!is_ethersio(&PACKET[..19]));
        assert!(!is_ethersio(
            b"ESIX\x00\x01\x00\x00\x00\x31\x76\x16\x00\x00\x00\x18\x00\x00\x00\x0d"
        ));
    }
}
