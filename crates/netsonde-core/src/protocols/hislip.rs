//! HiSLIP (IVI High-Speed LAN Instrument Protocol, TCP 4880): every message has a 16-byte
//! header — the prologue `HS`, the message type, a control code, a 32-bit message parameter
//! and the 64-bit payload length (big-endian). A client opens with Initialize (type 0),
//! whose payload names the sub-address (`hislip0`), or AsyncInitialize (type 17).
//! Confirmed by the prologue, a defined message type and a payload length that matches
//! what arrived.

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::HISLIP,
    transports: Transports::TCP,
    tcp_ports: &[4880],
    udp_ports: &[],
    inspect,
};

const PROLOGUE: &[u8] = b"HS";
const HEADER_LEN: usize = 16;
/// Message types 0..=25 are defined (26..=127 reserved, 128.. vendor specific).
const MAX_TYPE: u8 = 25;

/// The message type of a whole message at the start of `d`.
pub fn message(d: &[u8]) -> Option<u8> {
    if d.get(..2)? != PROLOGUE {
        return None;
    }
    let t = *d.get(2)?;
    let len = u64::from_be_bytes(d.get(8..16)?.try_into().ok()?);
    let rest = u64::try_from(d.len().saturating_sub(HEADER_LEN)).ok()?;
    (t <= MAX_TYPE && len <= rest).then_some(t)
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    let d = ins.data;
    if d.len() < HEADER_LEN {
        let n = d.len().min(PROLOGUE.len());
        return if d.get(..n) == PROLOGUE.get(..n) {
            Verdict::Continue
        } else {
            Verdict::Exclude
        };
    }
    if message(d).is_none() {
        return Verdict::Exclude;
    }
    ins.detect(id::HISLIP);
    Verdict::Done
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn initialize() {
        let m = b"HS\x00\x00\x01\x00RS\x00\x00\x00\x00\x00\x00\x00\x07hislip0";
        assert_eq!(message(m), Some(0));
        let mut c = Conv::tcp(&DISSECTOR, 51053, 4880);
        c.client(m);
        assert_eq!(c.name(), "HiSLIP");
    }

    #[test]
    fn rejects_bad_headers() {
        assert_eq!(
            message(b"HS\x00\x00\x01\x00RS\x00\x00\x00\x00\x00\x00\x00\x08hislip0"),
            None
        );
        assert_eq!(
            message(b"HS\x60\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00"),
            None
        );
        let mut c = Conv::tcp(&DISSECTOR, 51053, 4880);
        c.client(b"HT");
        assert!(!c.open);
    }
}
