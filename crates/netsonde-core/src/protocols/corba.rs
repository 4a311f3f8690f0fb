//! CORBA's GIOP (General Inter-ORB Protocol, over TCP as IIOP) and MIOP (its unreliable
//! multicast carrier, over UDP). A GIOP message has a 12-byte header: the magic `GIOP`,
//! version 1.0–1.3, flags (bit 0: little-endian), message type 0..=7 and the body size in
//! the sender's byte order. A MIOP packet has the magic `MIOP`, version 1.0, flags, and
//! carries a GIOP message after its unique id. Confirmed by a sound header.

use super::wire::{be32, le32, u8_at};
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::CORBA,
    transports: Transports::TCP_UDP,
    tcp_ports: &[683, 684],
    udp_ports: &[],
    inspect,
};

const GIOP: &[u8] = b"GIOP";
const MIOP: &[u8] = b"MIOP";
/// Largest GIOP body accepted (ORBs default to a few MiB).
const MAX_BODY: u32 = 64 * 1024 * 1024;
/// Longest MIOP unique id (the specification caps it at 252 bytes).
const MAX_ID: u32 = 252;

fn u32_in(d: &[u8], at: usize, little: bool) -> Option<u32> {
    if little {
        le32(d, at)
    } else {
        be32(d, at)
    }
}

/// The message type of a sound GIOP header at the start of `d`.
pub fn giop(d: &[u8]) -> Option<u8> {
    if d.get(..4)? != GIOP {
        return None;
    }
    let (major, minor, flags, kind) = (u8_at(d, 4)?, u8_at(d, 5)?, u8_at(d, 6)?, u8_at(d, 7)?);
    // 1.0 has a byte-order boolean; 1.1+ flags use bits 0 (order) and 1 (fragments).
    let flags_ok = if minor == 0 { flags <= 1 } else { flags <= 3 };
    let size = u32_in(d, 8, flags & 1 != 0)?;
    (major == 1 && minor <= 3 && flags_ok && kind <= 7 && size <= MAX_BODY).then_some(kind)
}

/// A MIOP packet at the start of `d` whose unique id is followed by a GIOP message.
pub fn miop(d: &[u8]) -> bool {
    let header = || -> Option<bool> {
        if d.get(..4)? != MIOP || u8_at(d, 4)? != 0x10 {
            return None;
        }
        let little = u8_at(d, 5)? & 1 != 0;
        let id_len = u32_in(d, 16, little)?;
        if id_len > MAX_ID {
            return None;
        }
        let after = 20 + id_len as usize;
        // The GIOP message starts after the id, aligned to 8 bytes.
        Some(giop(d.get(after.next_multiple_of(8)..)?).is_some() || giop(d.get(after..)?).is_some())
    };
    header() == Some(true)
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    let d = ins.data;
    let found = if ins.flow.l4 == 17 {
        miop(d) || giop(d).is_some()
    } else {
        if d.len() < 12 {
            let n = d.len().min(4);
            return if d.get(..n) == GIOP.get(..n) {
                Verdict::Continue
            } else {
                Verdict::Exclude
            };
        }
        giop(d).is_some()
    };
    if found {
        ins.detect(id::CORBA);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    const REQUEST: &[u8] = b"GIOP\x01\x02\x00\x00\x00\x00\x00\xd8\x00\x00\x00\x00";

    #[test]
    fn giop_request() {
        assert_eq!(giop(REQUEST), Some(0));
        assert_eq!(giop(b"GIOP\x01\x02\x01\x01\x51\x00\x00\x00"), Some(1));
        assert_eq!(giop(b"GIOP\x02\x00\x00\x00\x00\x00\x00\x10"), None);
        assert_eq!(giop(b"GIOP\x01\x02\x00\x09\x00\x00\x00\x10"), None);
        assert_eq!(giop(b"GIOP\x01\x00\x02\x00\x00\x00\x00\x10"), None);
        let mut c = Conv::tcp(&DISSECTOR, 42717, 56899);
        c.client(REQUEST);
        assert_eq!(c.name(), "Corba");
    }

    #[test]
    fn miop_carries_giop() {
        let mut p =
            b"MIOP\x10\x03\xe4\x00\x00\x00\x00\x00\x01\x00\x00\x00\x0c\x00\x00\x00".to_vec();
        p.extend_from_slice(&[0; 12]);
        p.extend_from_slice(b"GIOP\x01\x02\x01\x00\xd8\x00\x00\x00");
        assert!(miop(&p));
        let mut c = Conv::udp(&DISSECTOR, 34477, 15984);
        c.client(&p);
        assert_eq!(c.name(), "Corba");
        // The id length pointing past the message, or no GIOP after it.
        let mut bad = p.clone();
        bad[16] = 0xff;
        assert!(!miop(&bad));
        let mut bad = p.clone();
        bad[32] = b'X';
        assert!(!miop(&bad));
    }
}
