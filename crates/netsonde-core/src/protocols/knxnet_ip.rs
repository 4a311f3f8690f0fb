//! KNXnet/IP (building automation over IP): frames of a 6-byte header — header length 6,
//! protocol version 0x10, a 16-bit service type and the 16-bit total frame length — filling
//! the datagram exactly.

use super::wire::be16;
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static DISSECTOR: Dissector = Dissector {
    proto: id::KNXNET_IP,
    transports: Transports::TCP_UDP,
    tcp_ports: &[3671],
    udp_ports: &[3671],
    inspect,
};

/// Whether `d` is a run of KNXnet/IP frames ending at its end.
pub fn is_knx(d: &[u8]) -> bool {
    let mut at = 0;
    while at < d.len() {
        let Some(len) = be16(d, at + 4).map(usize::from) else {
            return false;
        };
        if d.get(at..at + 2) != Some(&[0x06, 0x10][..])
            || len < 6
            || !be16(d, at + 2).is_some_and(|s| (0x0200..=0x0fff).contains(&s))
        {
            return false;
        }
        at += len;
    }
    at == d.len() && at > 0
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if is_knx(ins.data) {
        ins.detect(id::KNXNET_IP);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    const SEARCH: &[u8] =
        b"\x06\x10\x02\x0b\x00\x14\x08\x01\xc0\xa8\x58\xe7\xa1\x7f\x06\x04\x01\x02\x06\x07";

    #[test]
    fn frames() {
        let mut c = Conv::udp(&DISSECTOR, 41343, 3671);
        c.client(SEARCH);
        assert_eq!(c.name(), "KNXnet_IP");
        let mut two = SEARCH.to_vec();
        two.extend_from_slice(SEARCH);
        assert!(is_knx(&two));
        assert!(!is_knx(&SEARCH[..19]));
        let mut v = SEARCH.to_vec();
        v[1] = 0x20;
        assert!(!is_knx(&v));
    }
}
