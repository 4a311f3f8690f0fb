//! GTP control plane, version 2 (GTPv2-C, 3GPP TS 29.274, UDP 2123): version 2 in the top
//! three bits of the first byte, the piggybacking and TEID flags, the message type, the
//! length of what follows the first four bytes, the TEID when flagged, a 24-bit sequence
//! number and a spare byte, then information elements (type, 16-bit length, instance)
//! filling the message. Reported as GTP with GTP_C as the sub-protocol, as nDPI does.

use super::wire::{be16, u8_at};
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static DISSECTOR: Dissector = Dissector {
    proto: id::GTP,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[2123],
    inspect,
};

/// Whether `d` is a GTPv2-C message (a piggybacked one may follow).
pub fn is_gtpv2c(d: &[u8]) -> bool {
    let (Some(flags), Some(kind), Some(len)) = (u8_at(d, 0), u8_at(d, 1), be16(d, 2)) else {
        return false;
    };
    let piggyback = flags & 0x10 != 0;
    let end = 4 + usize::from(len);
    if flags >> 5 != 2
        || flags & 0x07 != 0
        || kind == 0
        || end > d.len()
        || (end < d.len() && !piggyback)
    {
        return false;
    }
    let mut at = if flags & 0x08 != 0 { 12 } else { 8 };
    while at < end {
        let Some(ie_len) = be16(d, at + 1) else {
            return false;
        };
        at += 4 + usize::from(ie_len);
    }
    at == end
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if is_gtpv2c(ins.data) {
        ins.detect(id::GTP);
        ins.set_sub_protocol(id::GTP_C);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    /// Delete Session Response with a Cause IE.
    const RESPONSE: &[u8] =
        b"\x48\x25\x00\x0e\x35\x52\x92\x04\x4b\x54\x62\x00\x02\x00\x02\x00\x10\x00";

    #[test]
    fn response() {
        let mut c = Conv::udp(&DISSECTOR, 1024, 2123);
        c.server(RESPONSE);
        assert_eq!(c.name(), "GTP.GTP_C");
    }

    #[test]
    fn rejects() {
        let mut v = RESPONSE.to_vec();
        v[0] = 0x30; // GTPv1
        assert!(!is_gtpv2c(&v));
        let mut v = RESPONSE.to_vec();
        v[14] = 3; // IE overruns the message
        assert!(!is_gtpv2c(&v));
        let mut v = RESPONSE.to_vec();
        v.push(0);
        assert!(!is_gtpv2c(&v));
        assert!(!is_gtpv2c(&RESPONSE[..8]));
    }
}
