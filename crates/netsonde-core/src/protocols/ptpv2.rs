//! PTPv2, the Precision Time Protocol (IEEE 1588-2008) over UDP: a 34-byte common header —
//! transport-specific nibble and message type (Sync, Delay_Req, Pdelay_*, Follow_Up,
//! Delay_Resp, Pdelay_Resp_Follow_Up, Announce, Signaling, Management), version 2, the
//! message length, domain, flags, correction, source port identity, sequence id, control
//! and log interval. The message length may be followed by a little padding only.

use super::wire::be16;
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static DISSECTOR: Dissector = Dissector {
    proto: id::PTPV2,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[319, 320],
    inspect,
};

const HEADER: usize = 34;

/// Whether the datagram is a PTPv2 message.
pub fn is_ptp(d: &[u8]) -> bool {
    let (Some(&t), Some(&v)) = (d.first(), d.get(1)) else {
        return false;
    };
    let Some(len) = be16(d, 2).map(usize::from) else {
        return false;
    };
    matches!(t & 0x0f, 0..=3 | 8..=0x0d)
        && v & 0x0f == 2
        && len >= HEADER
        && len <= d.len()
        && d.len() - len < 8
        && d.get(5) == Some(&0) // reserved
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if is_ptp(ins.data) {
        ins.detect(id::PTPV2);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    fn msg(t: u8, len: usize, pad: usize) -> Vec<u8> {
        let mut m = vec![t, 2, 0, len as u8, 0, 0, 4, 0];
        m.resize(len + pad, 0);
        m
    }

    #[test]
    fn signaling_with_padding() {
        let mut c = Conv::udp(&DISSECTOR, 320, 320);
        c.client(&msg(0x0c, 54, 2));
        assert_eq!(c.name(), "PTPv2");
        assert!(is_ptp(&msg(0x0b, 64, 0)));
        assert!(!is_ptp(&msg(0x0b, 64, 20)));
        assert!(!is_ptp(&msg(0x05, 44, 0)));
        let mut v = msg(0x00, 44, 0);
        v[1] = 1;
        assert!(!is_ptp(&v));
    }
}
