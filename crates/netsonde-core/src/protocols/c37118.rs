//! IEEE C37.118 synchrophasor frames: a sync word (0xAA, then frame type 0-5 in bits 4-6
//! and version 1-3 in the low nibble), the 16-bit frame size, the PMU id code, the
//! second-of-century and fraction-of-second fields, and a CRC-CCITT over the whole frame in
//! its last two bytes. The first frame of a payload must check out whole.

use super::wire::be16;
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static DISSECTOR: Dissector = Dissector {
    proto: id::IEEE_C37118,
    transports: Transports::TCP_UDP,
    tcp_ports: &[4712],
    udp_ports: &[4712, 4713],
    inspect,
};

/// Smallest frame: sync, size, id code, SOC, FRACSEC, CRC.
const MIN_FRAME: usize = 16;

/// CRC-CCITT (polynomial 0x1021, initial value 0xFFFF, no reflection).
pub fn crc_ccitt(data: &[u8]) -> u16 {
    let mut crc: u16 = 0xffff;
    for &b in data {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// Whether `d` starts with a whole, CRC-valid C37.118 frame.
pub fn is_frame(d: &[u8]) -> bool {
    let (Some(&sync), Some(&kind)) = (d.first(), d.get(1)) else {
        return false;
    };
    if sync != 0xaa || kind & 0x80 != 0 || (kind >> 4) > 5 || !(1..=3).contains(&(kind & 0x0f)) {
        return false;
    }
    let Some(size) = be16(d, 2).map(usize::from) else {
        return false;
    };
    if size < MIN_FRAME {
        return false;
    }
    match (d.get(..size - 2), be16(d, size - 2)) {
        (Some(body), Some(crc)) => crc_ccitt(body) == crc,
        _ => false,
    }
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if is_frame(ins.data) {
        ins.detect(id::IEEE_C37118);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    const COMMAND: &[u8] =
        b"\xaa\x41\x00\x12\x00\xf1\x00\x00\x00\x00\x00\x00\x00\x00\x00\x05\xd7\xd0";

    #[test]
    fn command_frame() {
        assert_eq!(crc_ccitt(b"123456789"), 0x29b1);
        let mut c = Conv::tcp(&DISSECTOR, 36835, 4712);
        c.client(COMMAND);
        assert_eq!(c.name(), "IEEE-C37118");
        let mut v = COMMAND.to_vec();
        v[15] = 6;
        assert!(!is_frame(&v));
        assert!(!is_frame(&COMMAND[..17]));
    }
}
