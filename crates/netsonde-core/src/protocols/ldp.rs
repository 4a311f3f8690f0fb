//! LDP, the MPLS Label Distribution Protocol (RFC 5036): a PDU header — version 1, the PDU
//! length (bytes after this field), the LSR id and label space — followed by messages whose
//! type (high bit: unknown-message flag) is one of notification, hello, initialization,
//! keepalive, address, label mapping/request/withdraw/release/abort.

use super::wire::be16;
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static DISSECTOR: Dissector = Dissector {
    proto: id::LDP,
    transports: Transports::TCP_UDP,
    tcp_ports: &[646],
    udp_ports: &[646],
    inspect,
};

/// Whether `d` starts with an LDP PDU (filling a datagram exactly).
pub fn is_ldp(d: &[u8], udp: bool) -> bool {
    let Some(len) = be16(d, 2).map(usize::from) else {
        return false;
    };
    let fits = if udp {
        len + 4 == d.len()
    } else {
        len + 4 <= d.len()
    };
    be16(d, 0) == Some(1)
        && len >= 14
        && fits
        && be16(d, 10).is_some_and(|t| {
            matches!(
                t & 0x7fff,
                0x0001 | 0x0100 | 0x0200 | 0x0201 | 0x0300 | 0x0301 | 0x0400..=0x0404
            )
        })
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if is_ldp(ins.data, ins.flow.l4 == 17) {
        ins.detect(id::LDP);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    const HELLO: &[u8] = b"\x00\x01\x00\x1e\x0a\x00\x00\x06\x00\x00\x01\x00\x00\x14\x00\x00\x00\x00\x04\x00\x00\x04\x00\x0f\x00\x00\x04\x01\x00\x04\x0a\x00\x00\x06";

    #[test]
    fn hello() {
        let mut c = Conv::udp(&DISSECTOR, 646, 646);
        c.client(HELLO);
        assert_eq!(c.name(), "LDP");
        assert!(!is_ldp(&HELLO[..33], true));
        let mut v = HELLO.to_vec();
        v[11] = 0x07;
        assert!(!is_ldp(&v, true));
    }
}
