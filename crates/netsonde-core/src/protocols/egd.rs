//! Ethernet Global Data (GE, UDP 18246): a producer periodically publishes an exchange. The
//! 32-byte header holds the PDU type (13) and version (1), a request id, the producer id
//! (by convention the producer's IPv4 address), the exchange id, a time stamp, the status,
//! the configuration signature and a reserved zero word; the data follows.

use super::wire::{be16, be32};
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static DISSECTOR: Dissector = Dissector {
    proto: id::EGD,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[18246],
    inspect,
};

const HEADER: usize = 32;

/// Whether `d` is an EGD data production from the IPv4 address `from`.
pub fn is_egd(d: &[u8], from: &[u8]) -> bool {
    d.len() > HEADER
        && be16(d, 0) == Some(0x0d01)
        && d.get(4..8) == Some(from)
        && be32(d, 24).is_some_and(|status| status < 31)
        && be32(d, 28) == Some(0)
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    let f = &ins.flow;
    let from = if ins.to_server() {
        f.client_ip.get(..4)
    } else {
        f.server_ip.get(..4)
    };
    match from {
        Some(from) if f.ip_version == 4 && is_egd(ins.data, from) => {
            ins.detect(id::EGD);
            Verdict::Done
        }
        _ => Verdict::Exclude,
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::*;

    fn production() -> Vec<u8> {
        let mut d =
            b"\x0d\x01\xd4\xf0\xc0\xa8\x08\x4d\x7b\x00\x00\x00\xbe\x8a\x7e\x38\x00\x81\x1b\x2c"
                .to_vec();
        d.extend_from_slice(&[0; 16]);
        d
    }

    #[test]
    fn production_from_its_producer() {
        let d = production();
        assert!(is_egd(&d, &[192, 168, 8, 77]));
        assert!(!is_egd(&d, &[192, 168, 8, 78]));
        assert!(!is_egd(&d[..32], &[192, 168, 8, 77]));
        let mut v = d.clone();
        v[31] = 1;
        assert!(!is_egd(&v, &[192, 168, 8, 77]));
        let mut v = d;
        v[0] = 0x0e;
        assert!(!is_egd(&v, &[192, 168, 8, 77]));
    }
}
