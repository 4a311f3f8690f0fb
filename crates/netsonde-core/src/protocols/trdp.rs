//! TRDP, the Train Real-time Data Protocol (IEC 61375-2-3). Process data (PD) and message
//! data (MD) share the header start: a 32-bit sequence counter, protocol version (major 1),
//! a two-letter message type ("Pd", "Pp", "Pr", "Pe" for PD; "Mn", "Mr", "Mp", "Mq", "Mc",
//! "Me" for MD), the ComId, two topology counters and the dataset length. A PD header is 40
//! bytes, an MD header 116; the dataset follows, padded to a multiple of 4 bytes.

use super::wire::be32;
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static DISSECTOR: Dissector = Dissector {
    proto: id::TRDP,
    transports: Transports::TCP_UDP,
    tcp_ports: &[17225],
    udp_ports: &[17224, 17225],
    inspect,
};

/// Whether `d` is a TRDP message (a datagram exactly, a stream's first message at least).
pub fn is_trdp(d: &[u8], udp: bool) -> bool {
    if d.get(4) != Some(&1) {
        return false;
    }
    let header = match d.get(6..8) {
        Some(b"Pd" | b"Pp" | b"Pr" | b"Pe") => 40usize,
        Some(b"Mn" | b"Mr" | b"Mp" | b"Mq" | b"Mc" | b"Me") => 116,
        _ => return false,
    };
    let Some(len) = be32(d, 20).and_then(|n| usize::try_from(n).ok()) else {
        return false;
    };
    if len > 0x10_0000 {
        return false;
    }
    let total = header + len;
    let padded = total.div_ceil(4) * 4;
    if udp {
        d.len() == total || d.len() == padded
    } else {
        total <= d.len()
    }
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if is_trdp(ins.data, ins.flow.l4 == 17) {
        ins.detect(id::TRDP);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    fn msg(kind: &[u8; 2], header: usize, data: usize) -> Vec<u8> {
        let mut m = vec![0, 0, 0, 0, 1, 0];
        m.extend_from_slice(kind);
        m.extend_from_slice(&1001u32.to_be_bytes());
        m.extend_from_slice(&[0; 8]);
        m.extend_from_slice(&(data as u32).to_be_bytes());
        m.resize((header + data).div_ceil(4) * 4, 0);
        m
    }

    #[test]
    fn md_request_and_pd() {
        let mut c = Conv::tcp(&DISSECTOR, 45482, 17225);
        c.client(&msg(b"Mr", 116, 13));
        assert_eq!(c.name(), "TRDP");
        assert!(is_trdp(&msg(b"Pd", 40, 24), true));
        assert!(!is_trdp(&msg(b"Px", 40, 24), true));
        let mut m = msg(b"Pd", 40, 24);
        m.push(0);
        assert!(!is_trdp(&m, true));
        m.pop();
        m[4] = 2;
        assert!(!is_trdp(&m, true));
    }
}
