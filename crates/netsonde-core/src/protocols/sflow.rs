//! sFlow version 5 (UDP 6343): a datagram header — version 5, agent address type (1 IPv4,
//! 2 IPv6) and address, sub-agent id, sequence number, uptime and the number of samples —
//! then the samples, each a 32-bit format (enterprise and type) and a 32-bit length, that
//! fill the datagram exactly.

use super::wire::be32;
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static DISSECTOR: Dissector = Dissector {
    proto: id::SFLOW,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[6343],
    inspect,
};

/// More samples than fit a datagram of the largest size.
const MAX_SAMPLES: u32 = 1024;

/// Whether `d` is an sFlow v5 datagram.
pub fn is_sflow(d: &[u8]) -> bool {
    let header = match be32(d, 4) {
        Some(1) => 28,
        Some(2) => 40,
        _ => return false,
    };
    let Some(samples) = be32(d, header - 4) else {
        return false;
    };
    if be32(d, 0) != Some(5) || samples > MAX_SAMPLES {
        return false;
    }
    let mut at = header;
    for _ in 0..samples {
        let Some(len) = be32(d, at + 4).and_then(|l| usize::try_from(l).ok()) else {
            return false;
        };
        at = match at.checked_add(8 + len) {
            Some(next) if next <= d.len() => next,
            _ => return false,
        };
    }
    at == d.len()
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if is_sflow(ins.data) {
        ins.detect(id::SFLOW);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    fn datagram() -> Vec<u8> {
        let mut d = b"\x00\x00\x00\x05\x00\x00\x00\x01\xac\x15\x23\x11\x00\x00\x00\x01\x00\x00\x01\x9f\x67\x3d\xd7\x10\x00\x00\x00\x01".to_vec();
        // A counter sample of 12 bytes.
        d.extend_from_slice(
            b"\x00\x00\x00\x02\x00\x00\x00\x0c\x00\x00\x21\x25\x00\x00\x04\x0c\x00\x00\x00\x00",
        );
        d
    }

    #[test]
    fn counter_sample() {
        let mut c = Conv::udp(&DISSECTOR, 1027, 6343);
        c.client(&datagram());
        assert_eq!(c.name(), "sFlow");
    }

    #[test]
    fn rejects() {
        let mut d = datagram();
        d.push(0);
        assert!(!is_sflow(&d));
        let mut d = datagram();
        d[3] = 4;
        assert!(!is_sflow(&d));
        let mut d = datagram();
        d[27] = 2; // two samples announced, one there
        assert!(!is_sflow(&d));
    }
}
