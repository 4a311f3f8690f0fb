//! MPEG transport stream over UDP (ISO/IEC 13818-1): the datagram carries whole 188-byte
//! TS packets, each starting with the sync byte 0x47 (usually seven per datagram).

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static DISSECTOR: Dissector = Dissector {
    proto: id::MPEG_TS,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[],
    inspect,
};

const TS_PACKET: usize = 188;
const SYNC: u8 = 0x47;

/// The number of TS packets in `d`, when it is made of them.
pub fn ts_packets(d: &[u8]) -> Option<usize> {
    if d.is_empty() || d.len() % TS_PACKET != 0 {
        return None;
    }
    d.chunks(TS_PACKET)
        .all(|p| p.first() == Some(&SYNC))
        .then_some(d.len() / TS_PACKET)
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    match ts_packets(ins.data) {
        // One sync byte is not enough: wait for a second datagram.
        Some(1) if ins.packet_no < 2 => Verdict::Continue,
        Some(_) => {
            ins.detect(id::MPEG_TS);
            Verdict::Done
        }
        None => Verdict::Exclude,
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    fn stream(n: usize) -> Vec<u8> {
        let mut d = vec![0u8; n * TS_PACKET];
        for p in d.chunks_mut(TS_PACKET) {
            p[0] = SYNC;
            p[1] = 0x01;
        }
        d
    }

    #[test]
    fn seven_packets() {
        let mut c = Conv::udp(&DISSECTOR, 40737, 1234);
        c.client(&stream(7));
        assert_eq!(c.name(), "MPEG_TS");
        let mut c = Conv::udp(&DISSECTOR, 40737, 1234);
        c.client(&stream(1));
        assert!(c.open);
        c.client(&stream(1));
        assert_eq!(c.name(), "MPEG_TS");
    }

    #[test]
    fn rejects() {
        let mut d = stream(7);
        d[188 * 3] = 0x48;
        assert_eq!(ts_packets(&d), None);
        d.truncate(1000);
        assert_eq!(ts_packets(&d), None);
        assert_eq!(ts_packets(&[]), None);
    }
}
