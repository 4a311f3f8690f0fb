//! Tuya local protocol (smart-home devices, LAN discovery broadcasts and control). Frames
//! start with the prefix 0x000055AA, then a sequence number, a command and a length (all
//! 32-bit big-endian) counting the bytes after the header, and end with 0x0000AA55. Protocol
//! 3.5 frames use 0x00006699 / 0x00009966, with two more header bytes.

use super::wire::be32;
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static DISSECTOR: Dissector = Dissector {
    proto: id::TUYA_LP,
    transports: Transports::TCP_UDP,
    tcp_ports: &[6668],
    udp_ports: &[6666, 6667],
    inspect,
};

/// Whether `d` starts with one whole Tuya frame.
pub fn is_frame(d: &[u8]) -> bool {
    let (header, len_at, footer) = match be32(d, 0) {
        Some(0x0000_55aa) => (16usize, 12usize, [0, 0, 0xaa, 0x55]),
        Some(0x0000_6699) => (18, 14, [0, 0, 0x99, 0x66]),
        _ => return false,
    };
    let Some(len) = be32(d, len_at).and_then(|l| usize::try_from(l).ok()) else {
        return false;
    };
    // Each frame ends with at least a checksum/tag and the footer.
    if len < 8 {
        return false;
    }
    let end = header.saturating_add(len);
    end <= d.len() && d.get(end - 4..end) == Some(&footer[..])
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if is_frame(ins.data) {
        ins.detect(id::TUYA_LP);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    fn frame(len: usize) -> Vec<u8> {
        let mut f = vec![0, 0, 0x55, 0xaa, 0, 0, 0, 0, 0, 0, 0, 0x13];
        f.extend_from_slice(&(len as u32).to_be_bytes());
        f.resize(16 + len - 4, 0x42);
        f.extend_from_slice(&[0, 0, 0xaa, 0x55]);
        f
    }

    #[test]
    fn discovery_broadcast() {
        let mut c = Conv::udp(&DISSECTOR, 49154, 6667);
        c.client(&frame(172));
        assert_eq!(c.name(), "TuyaLP");
    }

    #[test]
    fn rejects_bad_length_or_footer() {
        let mut f = frame(172);
        assert!(is_frame(&f));
        f.truncate(f.len() - 1);
        assert!(!is_frame(&f));
        let mut f = frame(40);
        f[13] = 1; // length now far beyond the datagram
        assert!(!is_frame(&f));
        let mut f = frame(40);
        let n = f.len();
        f[n - 1] = 0;
        assert!(!is_frame(&f));
    }
}
