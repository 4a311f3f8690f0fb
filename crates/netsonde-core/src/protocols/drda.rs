//! DRDA (Distributed Relational Database Architecture, IBM Db2, TCP 446 and 50000): DDM
//! objects travel in DSS frames — a 6-byte header (length, the magic byte 0xD0, a format
//! byte whose low nibble is the DSS type, a correlation id) around a DDM object with its
//! own length and code point. Confirmed by the magic, a defined DSS type and an object
//! length that fits the frame (equal to it unless the frame is chained).

use super::wire::{be16, u8_at};
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::DRDA,
    transports: Transports::TCP,
    tcp_ports: &[446, 50000],
    udp_ports: &[],
    inspect,
};

const MAGIC: u8 = 0xD0;
const DSS_HEADER: usize = 6;

/// The code point of the first DDM object in the DSS frame at the start of `d`;
/// `Some(None)` while the frame header is still arriving, `None` when it is not DRDA.
pub fn dss(d: &[u8]) -> Option<Option<u16>> {
    let (Some(len), Some(magic), Some(format), Some(ddm_len), Some(code)) =
        (be16(d, 0), u8_at(d, 2), u8_at(d, 3), be16(d, 6), be16(d, 8))
    else {
        let magic_ok = u8_at(d, 2).map_or(true, |m| m == MAGIC);
        return (d.len() < 10 && magic_ok).then_some(None);
    };
    // Types 1..=5: request, reply, object, encrypted object, request without reply.
    let kind = format & 0x0F;
    if magic != MAGIC || !(1..=5).contains(&kind) || usize::from(len) < DSS_HEADER + 4 {
        return None;
    }
    // The object fills the frame, unless its length is extended (high bit set: a longer
    // object continuing in the next frames).
    if ddm_len & 0x8000 == 0 && usize::from(ddm_len) + DSS_HEADER != usize::from(len) {
        return None;
    }
    // Code points are in 0x1000..=0x2FFF for commands, replies and their objects.
    (0x1000..=0x2FFF).contains(&code).then_some(Some(code))
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    match dss(ins.data) {
        Some(Some(_)) => {
            ins.detect(id::DRDA);
            Verdict::Done
        }
        Some(None) => Verdict::Continue,
        None => Verdict::Exclude,
    }
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn exchange_server_attributes() {
        // EXCSAT (0x1041) in a request DSS.
        let excsat = b"\x00\x89\xd0\x41\x00\x01\x00\x83\x10\x41\x00\x39\x11\x5e";
        assert_eq!(dss(excsat), Some(Some(0x1041)));
        assert_eq!(dss(b"\x00\x89\xd0"), Some(None));
        let mut c = Conv::tcp(&DISSECTOR, 4847, 50000);
        c.client(excsat);
        assert_eq!(c.name(), "DRDA");
    }

    #[test]
    fn rejects_other_frames() {
        assert_eq!(dss(b"\x00\x89\xd1\x41\x00\x01\x00\x83\x10\x41"), None);
        assert_eq!(dss(b"\x00\x89\xd0\x47\x00\x01\x00\x83\x10\x41"), None);
        assert_eq!(dss(b"\x00\x89\xd0\x41\x00\x01\x00\x80\x10\x41"), None);
        assert_eq!(dss(b"\x00\x89\xd0\x41\x00\x01\x00\x83\x40\x41"), None);
        assert_eq!(dss(b"\x16\x03\x01"), None);
    }
}
