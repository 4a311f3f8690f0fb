//! H.323: call signalling (H.225.0 over Q.931) and control (H.245) on TCP behind TPKT
//! framing (RFC 1006: version 3, reserved 0, 16-bit length of the whole packet), and RAS
//! (H.225.0 registration, admission and status) on UDP, PER-encoded.
//!
//! TCP: a TPKT packet holding a Q.931 message (protocol discriminator 8, a call reference
//! of at most two bytes, a known message type), or an H.245 message carrying H.245's
//! protocol identifier. RDP also uses TPKT but with X.224 inside, which neither fits.
//! UDP: a RAS message whose protocol identifier, right after the choice and sequence
//! number, is H.225.0's object identifier.

use super::wire::be16;
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::H323,
    transports: Transports::TCP_UDP,
    tcp_ports: &[1720],
    udp_ports: &[1719],
    inspect,
};

/// BER-encoded object identifiers (tag-less: length 6, then itu-t(0) recommendation(0)
/// h(8) and the recommendation number 2250 or 245, version 0 arc).
const H225_OID: [u8; 6] = [0x06, 0x00, 0x08, 0x91, 0x4a, 0x00];
const H245_OID: [u8; 6] = [0x06, 0x00, 0x08, 0x81, 0x75, 0x00];
/// How far into an H.245 message its protocol identifier may sit.
const H245_SEARCH: usize = 16;

/// Q.931 message types used by H.225.0 call signalling.
const Q931_TYPES: [u8; 13] = [
    0x01, 0x02, 0x03, 0x05, 0x07, 0x0f, 0x45, 0x5a, 0x62, 0x6e, 0x75, 0x7b, 0x7d,
];

/// What a TPKT packet at the start of `d` holds.
#[derive(Debug, PartialEq, Eq)]
pub enum Tpkt {
    H323,
    /// A TPKT header whose body has not fully arrived.
    Partial,
    No,
}

fn q931(body: &[u8]) -> bool {
    let (Some(&pd), Some(&crl)) = (body.first(), body.get(1)) else {
        return false;
    };
    let crl = usize::from(crl);
    pd == 0x08 && crl <= 2 && body.get(2 + crl).is_some_and(|t| Q931_TYPES.contains(t))
}

fn h245(body: &[u8]) -> bool {
    let head = body.get(..H245_SEARCH.min(body.len())).unwrap_or_default();
    head.windows(H245_OID.len()).any(|w| w == H245_OID)
}

/// Checks the TPKT packet at the start of a TCP stream.
pub fn tpkt(d: &[u8]) -> Tpkt {
    if d.first() != Some(&3) || d.get(1).is_some_and(|&r| r != 0) {
        return Tpkt::No;
    }
    let Some(len) = be16(d, 2).map(usize::from) else {
        return Tpkt::Partial;
    };
    if len < 8 {
        return Tpkt::No;
    }
    match d.get(4..len) {
        Some(body) if q931(body) || h245(body) => Tpkt::H323,
        Some(_) => Tpkt::No,
        None => Tpkt::Partial,
    }
}

/// Whether a datagram is an H.225.0 RAS message.
pub fn ras(d: &[u8]) -> bool {
    d.len() >= 12
        && d.get(4..10) == Some(&H225_OID[..])
        && d.get(10).is_some_and(|v| (1..=9).contains(v))
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if ins.flow.l4 == 17 {
        if ras(ins.data) {
            ins.detect(id::H323);
            return Verdict::Done;
        }
        return Verdict::Exclude;
    }
    match tpkt(ins.data) {
        Tpkt::H323 => {
            ins.detect(id::H323);
            Verdict::Done
        }
        Tpkt::Partial if ins.data.len() < 2048 => Verdict::Continue,
        _ => Verdict::Exclude,
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::*;

    #[test]
    fn q931_setup_in_tpkt() {
        // TPKT, Q.931 SETUP (call reference 2 bytes), bearer capability IE.
        let d = [
            3, 0, 0, 14, 0x08, 0x02, 0x00, 0x01, 0x05, 0x04, 0x03, 0x90, 0x90, 0xa2,
        ];
        assert_eq!(tpkt(&d), Tpkt::H323);
        assert_eq!(tpkt(&d[..4]), Tpkt::Partial);
        assert_eq!(tpkt(&d[..10]), Tpkt::Partial);
        let mut unknown_type = d;
        unknown_type[8] = 0x99;
        assert_eq!(tpkt(&unknown_type), Tpkt::No);
        // RDP's X.224 connection request in TPKT is not H.323.
        let rdp = [3, 0, 0, 11, 6, 0xe0, 0, 0, 0, 0, 0];
        assert_eq!(tpkt(&rdp), Tpkt::No);
    }

    #[test]
    fn h245_in_tpkt() {
        let mut d = vec![3, 0, 0, 0, 0x02, 0x70, 0x01];
        d.extend_from_slice(&H245_OID);
        d.extend_from_slice(&[0x07, 0x80, 0x13]);
        let n = d.len() as u8;
        d[3] = n;
        assert_eq!(tpkt(&d), Tpkt::H323);
        d[7] = 0x07;
        assert_eq!(tpkt(&d), Tpkt::No);
    }

    #[test]
    fn ras_message() {
        let d = [
            0x02, 0x20, 0x00, 0x00, 0x06, 0x00, 0x08, 0x91, 0x4a, 0x00, 0x04, 0x00, 0x11,
        ];
        assert!(ras(&d));
        assert!(!ras(&d[..11]));
        let mut other = d;
        other[7] = 0x81;
        assert!(!ras(&other));
    }
}
