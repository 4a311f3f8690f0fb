//! BGP-4 (RFC 4271): every message starts with a 16-byte all-ones marker, a 16-bit length
//! (19-4096, header included) and a type (OPEN, UPDATE, NOTIFICATION, KEEPALIVE,
//! ROUTE-REFRESH).

use super::wire::be16;
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static DISSECTOR: Dissector = Dissector {
    proto: id::BGP,
    transports: Transports::TCP,
    tcp_ports: &[179],
    udp_ports: &[],
    inspect,
};

/// Whether `d` starts with a BGP message header.
pub fn is_bgp(d: &[u8]) -> bool {
    d.get(..16) == Some(&[0xff; 16][..])
        && be16(d, 16).is_some_and(|n| (19..=4096).contains(&n) && usize::from(n) <= d.len())
        && matches!(d.get(18), Some(1..=5))
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if is_bgp(ins.data) {
        ins.detect(id::BGP);
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
    fn keepalive() {
        let mut k = vec![0xff; 16];
        k.extend_from_slice(&[0, 19, 4]);
        let mut c = Conv::tcp(&DISSECTOR, 18324, 179);
        c.client(&k);
        assert_eq!(c.name(), "BGP");
        k[18] = 6;
        assert!(!is_bgp(&k));
        k[18] = 4;
        k[17] = 20;
        assert!(!is_bgp(&k));
    }
}
