//! DTLS (RFC 6347, RFC 9147 for 1.2-style records): each datagram holds one or more
//! records, each a 13-byte header (content type, version, epoch, 48-bit sequence number,
//! length) and its fragment; the records fill the datagram exactly. Versions are 1.0
//! (0xFEFF), 1.2 (0xFEFD, also used by 1.3's plaintext records) and the pre-standard
//! OpenSSL 0.9.8 one (0x0100) still spoken by some VPN gateways.
//!
//! A flow is recognised from any datagram whose records all check out, so sessions caught
//! mid-way are recognised too; handshake records in epoch 0 must also hold a known
//! handshake type with a length that fits the record.

use super::wire::{be16, u8_at};
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::DTLS,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[443, 4433, 4739, 5061, 5349],
    inspect,
};

const HEADER_LEN: usize = 13;
/// Largest record fragment (2^14 plus expansion).
const MAX_FRAGMENT: usize = 16384 + 2048;

/// What the records of a datagram hold.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Records {
    pub count: usize,
    /// A plaintext handshake record (epoch 0) is among them.
    pub handshake: bool,
}

fn known_version(v: u16) -> bool {
    matches!(v, 0xFEFF | 0xFEFD | 0x0100)
}

/// Checks a plaintext handshake fragment: type, 24-bit length, message sequence,
/// fragment offset and fragment length, the fragment within the record.
fn handshake_ok(frag: &[u8]) -> bool {
    let (Some(t), Some(off), Some(flen)) = (u8_at(frag, 0), be24(frag, 6), be24(frag, 9)) else {
        return false;
    };
    let Some(total) = be24(frag, 1) else {
        return false;
    };
    // ClientHello, ServerHello, HelloVerifyRequest, NewSessionTicket, Certificate,
    // ServerKeyExchange, CertificateRequest, ServerHelloDone, CertificateVerify,
    // ClientKeyExchange, Finished.
    matches!(t, 1 | 2 | 3 | 4 | 11 | 12 | 13 | 14 | 15 | 16 | 20)
        && off + flen <= total
        && 12 + flen <= frag.len()
}

fn be24(d: &[u8], at: usize) -> Option<usize> {
    let hi = usize::from(u8_at(d, at)?);
    Some(hi << 16 | usize::from(be16(d, at + 1)?))
}

/// Parses the records of a datagram; `None` unless they fill it exactly.
pub fn records(d: &[u8]) -> Option<Records> {
    let mut at = 0;
    let mut out = Records::default();
    while at < d.len() {
        let ct = u8_at(d, at)?;
        let version = be16(d, at + 1)?;
        let epoch = be16(d, at + 3)?;
        let len = usize::from(be16(d, at + 11)?);
        if !(20..=23).contains(&ct) || !known_version(version) || len == 0 || len > MAX_FRAGMENT {
            return None;
        }
        let frag = d.get(at + HEADER_LEN..at + HEADER_LEN + len)?;
        if ct == 22 && epoch == 0 {
            if !handshake_ok(frag) {
                return None;
            }
            out.handshake = true;
        }
        // Alerts are two bytes in the clear; change_cipher_spec is one byte of 1.
        if epoch == 0 && ((ct == 21 && len != 2) || (ct == 20 && frag != [1])) {
            return None;
        }
        // Application data is never sent in epoch 0.
        if ct == 23 && epoch == 0 {
            return None;
        }
        out.count += 1;
        at += HEADER_LEN + len;
    }
    (out.count > 0).then_some(out)
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    match records(ins.data) {
        Some(_) => {
            ins.detect(id::DTLS);
            Verdict::Done
        }
        None => Verdict::Exclude,
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::*;

    fn client_hello() -> Vec<u8> {
        // Record: handshake, DTLS 1.0, epoch 0, seq 0, length 24.
        let mut d = vec![22, 0xFE, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0, 0, 24];
        // Handshake: ClientHello, length 12, msg seq 0, offset 0, fragment length 12.
        d.extend_from_slice(&[1, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0, 12]);
        d.extend_from_slice(&[0xFE, 0xFD]);
        d.extend_from_slice(&[0xAA; 10]);
        d
    }

    #[test]
    fn handshake_record() {
        let d = client_hello();
        let r = records(&d).expect("valid");
        assert_eq!(r.count, 1);
        assert!(r.handshake);
        // Trailing garbage, truncation, unknown versions and handshake types are refused.
        let mut longer = d.clone();
        longer.push(0);
        assert!(records(&longer).is_none());
        for n in 0..d.len() {
            assert!(records(&d[..n]).is_none(), "prefix {n}");
        }
        let mut v = d.clone();
        v[1] = 0x03;
        assert!(records(&v).is_none());
        let mut t = d.clone();
        t[13] = 99;
        assert!(records(&t).is_none());
    }

    #[test]
    fn encrypted_records_mid_session() {
        // Two application-data records in epoch 1 (DTLS 1.2), then an old-version one.
        let mut d = vec![23, 0xFE, 0xFD, 0, 1, 0, 0, 0, 0, 0, 12, 0, 4, 1, 2, 3, 4];
        d.extend_from_slice(&[23, 0xFE, 0xFD, 0, 1, 0, 0, 0, 0, 0, 13, 0, 2, 5, 6]);
        assert_eq!(
            records(&d).map(|r| (r.count, r.handshake)),
            Some((2, false))
        );
        let old = [23, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1, 0, 3, 9, 9, 9];
        assert!(records(&old).is_some());
        // Application data in epoch 0 is not DTLS.
        let mut e0 = d.clone();
        e0[4] = 0;
        assert!(records(&e0).is_none());
        // A TLS record (3-byte header fields) is not DTLS.
        assert!(records(&[23, 3, 3, 0, 4, 1, 2, 3, 4]).is_none());
    }
}
