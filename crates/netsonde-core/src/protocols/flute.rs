//! FLUTE (RFC 6726): file delivery over ALC/LCT (RFC 5651) on UDP, usually multicast. The
//! LCT header: version 1 and the congestion-control flag (C), the flags S, O and H that size
//! the transport session id (TSI) and object id (TOI), A and B, the header length in 32-bit
//! words and a codepoint; then the congestion-control information, TSI, TOI and header
//! extensions up to the header length. FLUTE's mark is the EXT_FDT extension (type 192:
//! FLUTE version 1 or 2, FDT instance id) on the packets that carry the file delivery
//! table; packets of other objects come before it or between.

use super::wire::u8_at;
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static DISSECTOR: Dissector = Dissector {
    proto: id::FLUTE,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[],
    inspect,
};

const EXT_FDT: u8 = 192;

/// What an LCT header shows.
#[derive(Debug, PartialEq)]
pub enum Lct {
    No,
    /// A consistent LCT header without an FDT.
    Plain,
    /// An LCT header carrying the EXT_FDT extension.
    Fdt,
}

/// Reads the LCT header at the start of `d`.
pub fn lct(d: &[u8]) -> Lct {
    let (Some(b0), Some(b1), Some(words)) = (u8_at(d, 0), u8_at(d, 1), u8_at(d, 2)) else {
        return Lct::No;
    };
    let (c, s, o, h) = (
        usize::from((b0 >> 2) & 0x3),
        usize::from(b1 >> 7),
        usize::from((b1 >> 5) & 0x3),
        usize::from((b1 >> 4) & 0x1),
    );
    // Version 1, the two reserved bits clear, C and O below their reserved values.
    if b0 >> 4 != 1 || b1 & 0x0c != 0 || c == 3 || o == 3 {
        return Lct::No;
    }
    let header = 4 * usize::from(words);
    let fixed = 4 + 4 * (c + 1) + (4 * s + 2 * h) + (4 * o + 2 * h);
    if header < fixed || header > d.len() {
        return Lct::No;
    }
    // Header extensions: types below 128 carry a length in words, the others are 4 bytes.
    let mut at = fixed;
    let mut fdt = false;
    while at < header {
        let Some(het) = u8_at(d, at) else {
            return Lct::No;
        };
        let len = if het < 128 {
            4 * usize::from(u8_at(d, at + 1).unwrap_or(0))
        } else {
            4
        };
        if len == 0 {
            return Lct::No;
        }
        if het == EXT_FDT {
            if !matches!(u8_at(d, at + 1).map(|v| v >> 4), Some(1 | 2)) {
                return Lct::No;
            }
            fdt = true;
        }
        at += len;
    }
    match (at == header, fdt) {
        (false, _) => Lct::No,
        (true, true) => Lct::Fdt,
        (true, false) => Lct::Plain,
    }
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    match lct(ins.data) {
        Lct::Fdt => {
            ins.detect(id::FLUTE);
            Verdict::Done
        }
        Lct::Plain if ins.packet_no < 8 => Verdict::Continue,
        _ => Verdict::Exclude,
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    /// TSI and TOI of 16 bits (H), EXT_FDT and an EXT_FTI of 16 bytes; header of 8 words.
    const FDT: &[u8] = b"\x10\x10\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00\xc0\x10\x00\x02\x40\x04\x00\x00\x00\x00\x02\x36\x00\x00\x05\x9c\x00\x00\x00\x40<?xml";
    /// A packet of object 1: no extension.
    const DATA: &[u8] = b"\x10\x10\x03\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00Hello";

    #[test]
    fn fdt_after_data() {
        assert_eq!(lct(DATA), Lct::Plain);
        let mut c = Conv::udp(&DISSECTOR, 40717, 40085);
        c.client(DATA);
        assert!(c.open);
        c.client(FDT);
        assert_eq!(c.name(), "FLUTE");
    }

    #[test]
    fn rejects() {
        let mut v = FDT.to_vec();
        v[0] = 0x20; // version 2
        assert_eq!(lct(&v), Lct::No);
        let mut v = FDT.to_vec();
        v[2] = 0x09; // header longer than its extensions
        assert_eq!(lct(&v), Lct::No);
        let mut v = FDT.to_vec();
        v[13] = 0x30; // FLUTE version 3
        assert_eq!(lct(&v), Lct::No);
        assert_eq!(lct(b"\x10\x10\x08"), Lct::No);
    }
}
