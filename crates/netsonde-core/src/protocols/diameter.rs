//! Diameter (RFC 6733, TCP or SCTP port 3868): a 20-byte header — version 1, a 24-bit
//! message length (a multiple of 4, header included), command flags (R, P, E, T; the low
//! four bits reserved zero), a 24-bit command code, the application id and the hop-by-hop
//! and end-to-end identifiers — then AVPs: code, flags (V, M, P; the low five reserved), a
//! 24-bit length (at least 8, 12 with a vendor id) padded to 4 bytes. The AVPs must fill the
//! message exactly.

use super::wire::{be24, u8_at};
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static DISSECTOR: Dissector = Dissector {
    proto: id::DIAMETER,
    transports: Transports::TCP,
    tcp_ports: &[3868],
    udp_ports: &[],
    inspect,
};

const HEADER: usize = 20;
/// Largest message accepted before it has all arrived.
const MAX_MESSAGE: usize = 65_536;

/// What the start of a stream shows.
#[derive(Debug, PartialEq)]
pub enum Check {
    No,
    /// A consistent header; the message has not all arrived.
    Partial,
    Yes,
}

/// Checks the message at the start of `d`.
pub fn check(d: &[u8]) -> Check {
    let (Some(version), Some(len), Some(flags)) = (u8_at(d, 0), be24(d, 1), u8_at(d, 4)) else {
        return if d.first().map_or(true, |&v| v == 1) {
            Check::Partial
        } else {
            Check::No
        };
    };
    let len = len as usize;
    if version != 1 || len < HEADER || len % 4 != 0 || flags & 0x0f != 0 || len > MAX_MESSAGE {
        return Check::No;
    }
    // The AVPs that have arrived chain from the header on.
    let mut at = HEADER;
    while at < len {
        let (Some(avp_flags), Some(avp_len)) = (u8_at(d, at + 4), be24(d, at + 5)) else {
            return Check::Partial;
        };
        let min = if avp_flags & 0x80 != 0 { 12 } else { 8 };
        if avp_flags & 0x1f != 0 || (avp_len as usize) < min {
            return Check::No;
        }
        at += (avp_len as usize).div_ceil(4) * 4;
    }
    match at == len {
        true if d.len() >= len => Check::Yes,
        true => Check::Partial,
        false => Check::No,
    }
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    match check(ins.data) {
        Check::Yes => {
            ins.detect(id::DIAMETER);
            Verdict::Done
        }
        Check::Partial => Verdict::Continue,
        Check::No => Verdict::Exclude,
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    /// Device-Watchdog-Request: Origin-Host and Origin-Realm.
    const DWR: &[u8] =
        b"\x01\x00\x00\x34\x80\x00\x01\x18\x00\x00\x00\x00\x12\x34\x56\x78\x9a\xbc\xde\xf0\
\x00\x00\x01\x08\x40\x00\x00\x0e\x68\x6f\x73\x74\x2e\x61\x00\x00\
\x00\x00\x01\x28\x40\x00\x00\x0d\x72\x65\x61\x6c\x6d\x00\x00\x00";

    #[test]
    fn watchdog_request() {
        assert_eq!(DWR.len(), 0x34);
        let mut c = Conv::tcp(&DISSECTOR, 50957, 3868);
        c.client(DWR);
        assert_eq!(c.name(), "Diameter");
        let mut c = Conv::tcp(&DISSECTOR, 50957, 3868);
        c.client(&DWR[..30]);
        assert!(c.open);
        c.client(&DWR[30..]);
        assert_eq!(c.name(), "Diameter");
    }

    #[test]
    fn rejects() {
        let mut v = DWR.to_vec();
        v[3] = 0x3c; // an AVP of length 0 after the others
        v.extend_from_slice(&[0; 8]);
        assert_eq!(check(&v), Check::No);
        let mut v = DWR.to_vec();
        v[4] = 0x81; // reserved flag
        assert_eq!(check(&v), Check::No);
        let mut v = DWR.to_vec();
        v[27] = 0x04; // AVP shorter than its header
        assert_eq!(check(&v), Check::No);
        // A HART-IP-like header: version 1 but a length that is no multiple of 4.
        assert_eq!(check(b"\x01\x00\x00\x0d\x00\x00\x00\x0d"), Check::No);
    }
}
