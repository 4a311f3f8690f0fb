//! LINE calls (UDP). Before the RTP streams, LINE's relays and clients exchange packets
//! with their own header: a first byte 0xD0-0xDF, a 16-bit packet counter at offset 2 that
//! goes up by one per packet in each direction, and, on the opening packet, the session
//! kind 0x0602 at offset 4. An opening followed by the next packet of the same direction
//! with the next counter confirms.

use super::wire::be16;
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::LINE_CALL,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[],
    inspect,
};

fn header(d: &[u8]) -> Option<u16> {
    (d.len() > 10 && d.first().is_some_and(|b| b & 0xf0 == 0xd0)).then(|| be16(d, 2))?
}

/// The counter of an opening packet.
pub fn opening(d: &[u8]) -> Option<u16> {
    header(d).filter(|_| be16(d, 4) == Some(0x0602))
}

/// Whether `next` follows the opening `first` in the same direction.
pub fn follows(first: &[u8], next: &[u8]) -> bool {
    match (opening(first), header(next)) {
        (Some(a), Some(b)) => b == a.wrapping_add(1),
        _ => false,
    }
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    let d = usize::from(!ins.to_server());
    let first = ins.first_payload.get(d).copied().unwrap_or_default();
    let n = ins.dir_packets.get(d).copied().unwrap_or(0);
    if n == 1 {
        return if opening(ins.data).is_some() {
            Verdict::Continue
        } else {
            Verdict::Exclude
        };
    }
    if n == 2 && follows(first, ins.data) {
        ins.detect(id::LINE_CALL);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::*;
    use crate::protocols::harness::Conv;

    fn packet(first: u8, counter: u16, kind: u16) -> Vec<u8> {
        let mut p = vec![first, 0x64];
        p.extend_from_slice(&counter.to_be_bytes());
        p.extend_from_slice(&kind.to_be_bytes());
        p.resize(160, 0x33);
        p
    }

    #[test]
    fn opening_and_next() {
        let mut c = Conv::udp(&DISSECTOR, 51170, 29070);
        c.client(&packet(0xd8, 0x72, 0x0602))
            .server(&packet(0xd8, 0x209, 0x0602));
        assert_eq!(c.name(), "Unknown");
        c.client(&packet(0xd0, 0x73, 0x186e));
        assert_eq!(c.name(), "LineCall");
    }

    #[test]
    fn rejects_others() {
        assert!(!follows(
            &packet(0xd8, 0x72, 0x0602),
            &packet(0xd8, 0x74, 0x0602)
        ));
        assert!(!follows(
            &packet(0xd8, 0x72, 0x0603),
            &packet(0xd8, 0x73, 0x0602)
        ));
        assert!(!follows(
            &packet(0xc8, 0x72, 0x0602),
            &packet(0xd8, 0x73, 0x0602)
        ));
        let mut c = Conv::udp(&DISSECTOR, 51170, 29070);
        c.client(&packet(0xd8, 0x72, 0x0602))
            .client(&packet(0xd8, 0x80, 0));
        assert_eq!(c.name(), "Unknown");
    }
}
