//! PFCP (3GPP TS 29.244, UDP 8805), between the control and user planes of a mobile core:
//! version 1 in the top three bits of the first byte (then two spare bits, FO, MP and S,
//! the SEID flag), the message type (node messages 1-17 without a SEID, session messages
//! 50-57 with one), the length of what follows the first four bytes, the SEID if any, a
//! 24-bit sequence number and a spare byte, then information elements (16-bit type, 16-bit
//! length) that fill the message.

use super::wire::{be16, u8_at};
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static DISSECTOR: Dissector = Dissector {
    proto: id::PFCP,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[8805],
    inspect,
};

/// Whether `d` starts with a PFCP message (and holds it whole).
pub fn is_pfcp(d: &[u8]) -> bool {
    let (Some(flags), Some(kind), Some(len)) = (u8_at(d, 0), u8_at(d, 1), be16(d, 2)) else {
        return false;
    };
    let seid = flags & 0x01 != 0;
    let end = 4 + usize::from(len);
    let follows_fo = flags & 0x04 != 0;
    if flags >> 5 != 1
        || flags & 0x18 != 0
        || !(if seid {
            (50..=57).contains(&kind)
        } else {
            (1..=17).contains(&kind)
        })
        || end > d.len()
        || (end < d.len() && !follows_fo)
    {
        return false;
    }
    // Information elements from after the header to the end of the message.
    let mut at = if seid { 16 } else { 8 };
    while at < end {
        let Some(ie_len) = be16(d, at + 2) else {
            return false;
        };
        at += 4 + usize::from(ie_len);
    }
    at == end
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if is_pfcp(ins.data) {
        ins.detect(id::PFCP);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    /// Heartbeat request with a recovery time stamp.
    const HEARTBEAT: &[u8] = b"\x20\x01\x00\x0c\x00\x00\x01\x00\x00\x60\x00\x04\xe4\x5b\x2c\x1d";
    /// Session deletion request (SEID flag set, no IE).
    const DELETION: &[u8] = b"\x21\x36\x00\x0c\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x02\x00";

    #[test]
    fn node_and_session_messages() {
        let mut c = Conv::udp(&DISSECTOR, 8805, 8805);
        c.client(HEARTBEAT);
        assert_eq!(c.name(), "PFCP");
        assert!(is_pfcp(DELETION));
    }

    #[test]
    fn rejects() {
        let mut v = HEARTBEAT.to_vec();
        v[0] = 0x40; // version 2
        assert!(!is_pfcp(&v));
        let mut v = HEARTBEAT.to_vec();
        v[11] = 5; // IE overruns the message
        assert!(!is_pfcp(&v));
        let mut v = HEARTBEAT.to_vec();
        v[1] = 50; // session message without a SEID
        assert!(!is_pfcp(&v));
        let mut v = HEARTBEAT.to_vec();
        v.push(0);
        assert!(!is_pfcp(&v));
    }
}
