//! CNP/IP (EIA-852, LonWorks control network protocol tunnelled over IP, ports 1628/1629):
//! a 20-byte common header — the packet size (big-endian, the whole datagram), version
//! (1), packet type (its low five bits: 1 for a data packet), extended header size,
//! protocol flags (low five bits: 0 LonTalk, 1 reserved, 2 ANSI 709), vendor code,
//! session id, sequence number and time stamp. The session id stays the same on every
//! packet of a session, so two consistent packets confirm the flow.

use super::wire::{be16, be32, u8_at};
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static DISSECTOR: Dissector = Dissector {
    proto: id::CNP_IP,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[1628, 1629],
    inspect,
};

const HEADER: usize = 20;

/// The session id of a CNP/IP data packet.
pub fn session(d: &[u8]) -> Option<u32> {
    let size = usize::from(be16(d, 0)?);
    let ok = d.len() > HEADER
        && size == d.len()
        && u8_at(d, 2)? == 1
        && u8_at(d, 3)? & 0x1f == 0x01
        && u8_at(d, 5)? & 0x1f < 3;
    ok.then(|| be32(d, 8)).flatten()
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    let Some(s) = session(ins.data) else {
        return Verdict::Exclude;
    };
    // The first packet of the flow opened it; a later one must continue its session.
    let first = ins.first_payload[0];
    if ins.packet_no > 1 && (first.len() > HEADER && session(first) == Some(s)) {
        ins.detect(id::CNP_IP);
        return Verdict::Done;
    }
    Verdict::Continue
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    const DATA: &[u8] = b"\x00\x1c\x01\x01\x00\x00\x00\x00\x6b\x8b\x45\x67\x00\x00\x00\x01\x00\x00\x00\x00\x00\x09\x01\xa9\x01\xaa\x01\x23";

    #[test]
    fn two_packets_of_a_session() {
        let mut c = Conv::udp(&DISSECTOR, 39819, 1628);
        c.client(DATA);
        assert!(c.open);
        c.client(DATA);
        assert_eq!(c.name(), "CNP-IP");
    }

    #[test]
    fn rejects() {
        let mut v = DATA.to_vec();
        v[1] = 0x1d; // size
        assert_eq!(session(&v), None);
        let mut v = DATA.to_vec();
        v[2] = 2; // version
        assert_eq!(session(&v), None);
        let mut other = DATA.to_vec();
        other[11] = 0x68; // another session
        let mut c = Conv::udp(&DISSECTOR, 39819, 1628);
        c.client(DATA).client(&other);
        assert_eq!(c.name(), "Unknown");
    }
}
