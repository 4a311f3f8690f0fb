//! DTLS (RFC 6347, RFC 9147 for 1.2-style records): each datagram holds one or more
//! records, each a 13-byte header (content type, version, epoch, 48-bit sequence number,
//! length) and its fragment; the records fill the datagram exactly. Versions are 1.0
//! (0xFEFF), 1.2 (0xFEFD, also used by 1.3's plaintext records) and the pre-standard
//! OpenSSL 0.9.8 one (0x0100) still spoken by some VPN gateways.
//!
//! A flow is recognised from any datagram whose records all check out, so sessions caught
//! mid-way are recognised too; handshake records in epoch 0 must also hold a known
//! handshake type with a length that fits the record.
//!
//! After that the plaintext handshake is followed: the ClientHello (server name, JA3, JA4
//! with `d` for DTLS), the ServerHello (version, cipher, JA3S) and the server's Certificate
//! message, reassembled from its fragments (each handshake fragment
//! carries the message's length, its offset and its own length), name the application as
//! they do for TLS.

use super::tls;
use super::wire::{be16, u8_at};
use super::{id, Dissector, DissectorState, Inspect, ProtoState, Transports, Verdict};
use crate::classify::Dir;

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

/// Largest server Certificate message reassembled.
const MAX_CERTIFICATE_MESSAGE: usize = 64 * 1024;
/// Datagrams followed after confirmation while the handshake goes on.
const MAX_HANDSHAKE_DATAGRAMS: u16 = 24;

/// The handshake of a confirmed flow, as far as it is followed.
#[derive(Default, Debug)]
pub struct State {
    datagrams: u16,
    /// The ClientHello's server name named the application.
    app_from_sni: bool,
    /// The direction the ClientHello came from (a capture may start later, or the first
    /// datagram seen may be the server's).
    client_hello: Option<Dir>,
    server_hello: bool,
    /// The server's Certificate message: its bytes, and the ranges received so far.
    certificate: Vec<u8>,
    received: Vec<(usize, usize)>,
    /// The certificate has been read (or given up on).
    certificate_done: bool,
}

impl State {
    /// Adds a fragment of the server's Certificate message; returns the whole message once
    /// every byte is there.
    fn add_certificate_fragment(&mut self, total: usize, offset: usize, frag: &[u8]) -> bool {
        if total == 0 || total > MAX_CERTIFICATE_MESSAGE {
            self.certificate_done = true;
            return false;
        }
        if self.certificate.len() != total {
            self.certificate = vec![0; total];
            self.received.clear();
        }
        let end = offset + frag.len();
        let Some(slot) = self.certificate.get_mut(offset..end) else {
            return false;
        };
        slot.copy_from_slice(frag);
        self.received.push((offset, end));
        self.received.sort_unstable();
        let mut covered = 0usize;
        for &(a, b) in &self.received {
            if a > covered {
                return false;
            }
            covered = covered.max(b);
        }
        covered >= total
    }
}

/// The handshake messages (type, total length, fragment offset, fragment bytes) of a
/// plaintext handshake record's fragment.
fn handshake_fragments(frag: &[u8]) -> impl Iterator<Item = (u8, usize, usize, &[u8])> {
    let mut at = 0usize;
    std::iter::from_fn(move || {
        let t = u8_at(frag, at)?;
        let total = be24(frag, at + 1)?;
        let offset = be24(frag, at + 6)?;
        let len = be24(frag, at + 9)?;
        let bytes = frag.get(at + 12..at + 12 + len)?;
        at += 12 + len;
        Some((t, total, offset, bytes))
    })
}

/// The plaintext handshake records (epoch 0) of a datagram already checked by [`records`].
fn handshake_records(d: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut at = 0usize;
    std::iter::from_fn(move || loop {
        let ct = u8_at(d, at)?;
        let epoch = be16(d, at + 3)?;
        let len = usize::from(be16(d, at + 11)?);
        let frag = d.get(at + HEADER_LEN..at + HEADER_LEN + len)?;
        at += HEADER_LEN + len;
        if ct == 22 && epoch == 0 {
            return Some(frag);
        }
    })
}

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    let Some(recs) = records(ins.data) else {
        return if matches!(st.state, ProtoState::Dtls(_)) {
            Verdict::Continue
        } else {
            Verdict::Exclude
        };
    };
    if !matches!(st.state, ProtoState::Dtls(_)) {
        ins.detect(id::DTLS);
        if !recs.handshake {
            // Caught mid-session: no handshake to follow.
            return Verdict::Done;
        }
        *st.state = ProtoState::Dtls(Box::default());
    }
    let ProtoState::Dtls(state) = &mut *st.state else {
        return Verdict::Done;
    };
    state.datagrams += 1;
    let mut certificate_ready = false;
    let mut server_hello = None;
    for frag in handshake_records(ins.data) {
        for (t, total, offset, bytes) in handshake_fragments(frag) {
            match t {
                1 if state.client_hello.is_none() && offset == 0 => {
                    state.client_hello = Some(ins.dir);
                    if let Some(hello) = tls::parser::parse_client_hello_body(bytes) {
                        if let Some(sni) = hello.sni_str().map(str::to_ascii_lowercase) {
                            state.app_from_sni = ins.app_from_host(&sni);
                            st.meta.set_str(&tls::SNI, sni);
                        }
                        st.meta.set_str(&tls::JA3, tls::fingerprint::ja3(&hello));
                        st.meta
                            .set_str(&tls::JA4, tls::fingerprint::ja4_with_proto(&hello, 'd'));
                    }
                }
                // The ServerHello: not from the ClientHello's side.
                2 if state.client_hello != Some(ins.dir) && !state.server_hello && offset == 0 => {
                    state.server_hello = true;
                    server_hello = tls::parser::parse_server_hello_body(bytes);
                }
                // The server's certificate: not one from the ClientHello's side.
                11 if state.client_hello != Some(ins.dir) && !state.certificate_done => {
                    certificate_ready |= state.add_certificate_fragment(total, offset, bytes);
                }
                _ => {}
            }
        }
    }
    let certificate = certificate_ready.then(|| {
        state.certificate_done = true;
        std::mem::take(&mut state.certificate)
    });
    let name_app = !state.app_from_sni;
    let done = state.certificate_done || state.datagrams >= MAX_HANDSHAKE_DATAGRAMS;
    if let Some(hello) = server_hello {
        tls::server_hello_metadata(&hello, st);
    }
    if let Some(message) = certificate {
        if let Ok(der) = tls::parser::first_certificate(&message) {
            tls::server_certificate(der, name_app, st, ins);
        }
    }
    if done {
        Verdict::Done
    } else {
        Verdict::Continue
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

    /// A DTLS 1.2 handshake record holding one fragment of a message.
    fn fragment_record(t: u8, seq: u16, total: usize, offset: usize, bytes: &[u8]) -> Vec<u8> {
        let len = 12 + bytes.len();
        let mut d = vec![22, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, seq as u8];
        d.extend_from_slice(&(len as u16).to_be_bytes());
        d.push(t);
        d.extend_from_slice(&(total as u32).to_be_bytes()[1..]);
        d.extend_from_slice(&[0, 1]);
        d.extend_from_slice(&(offset as u32).to_be_bytes()[1..]);
        d.extend_from_slice(&(bytes.len() as u32).to_be_bytes()[1..]);
        d.extend_from_slice(bytes);
        d
    }

    fn certificate_message() -> Vec<u8> {
        let cert = crate::protocols::tls::x509::tests::sample_certificate();
        let mut entry = (cert.len() as u32).to_be_bytes()[1..].to_vec();
        entry.extend_from_slice(&cert);
        let mut body = (entry.len() as u32).to_be_bytes()[1..].to_vec();
        body.extend_from_slice(&entry);
        body
    }

    #[test]
    fn server_certificate_reassembled_from_fragments() {
        let body = certificate_message();
        let cut = body.len() / 3;
        let mut c = super::super::harness::Conv::udp(&DISSECTOR, 50000, 443);
        c.client(&client_hello());
        assert_eq!(c.name(), "DTLS");
        // The second part first, then the first one.
        c.server(&fragment_record(11, 2, body.len(), cut, &body[cut..]));
        assert_eq!(c.meta(&tls::SUBJECT), None);
        c.server(&fragment_record(11, 1, body.len(), 0, &body[..cut]));
        assert_eq!(c.meta(&tls::SUBJECT).as_deref(), Some("CN=example.com"));
    }

    #[test]
    fn certificate_after_a_calls_stun_checks() {
        let stun = |t: u8| {
            let mut m = vec![0, t, 0, 0, 0x21, 0x12, 0xa4, 0x42];
            m.extend_from_slice(&[7; 12]);
            m
        };
        let body = certificate_message();
        let mut c = super::super::harness::Conv::all(17, 52441, 18452);
        c.client(&stun(0x01));
        c.server(&{
            let mut r = stun(0x01);
            r[0] = 0x01;
            r
        });
        assert_eq!(c.name(), "STUN");
        c.client(&client_hello());
        assert_eq!(c.name(), "DTLS");
        c.server(&fragment_record(11, 1, body.len(), 0, &body));
        assert_eq!(c.meta(&tls::SUBJECT).as_deref(), Some("CN=example.com"));
    }

    #[test]
    fn hello_metadata() {
        // ClientHello body: DTLS 1.2, random, no session id, no cookie, one suite, null
        // compression, no extensions.
        let mut ch = vec![0xFE, 0xFD];
        ch.extend_from_slice(&[0x11; 32]);
        ch.extend_from_slice(&[0, 0, 0, 2, 0xC0, 0x2B, 1, 0]);
        let mut sh = vec![0xFE, 0xFD];
        sh.extend_from_slice(&[0x22; 32]);
        sh.extend_from_slice(&[0, 0xC0, 0x2B, 0]);
        let mut c = super::super::harness::Conv::udp(&DISSECTOR, 50000, 4433);
        c.client(&fragment_record(1, 0, ch.len(), 0, &ch));
        c.server(&fragment_record(2, 0, sh.len(), 0, &sh));
        assert_eq!(c.name(), "DTLS");
        assert_eq!(
            c.meta(&tls::JA3).as_deref(),
            Some(format!("{:x}", <md5::Md5 as md5::Digest>::digest(b"65277,49195,,,")).as_str())
        );
        assert!(c.meta(&tls::JA4).is_some_and(|j| j.starts_with("dd2i0100")));
        assert_eq!(c.meta(&tls::VERSION).as_deref(), Some("DTLSv1.2"));
        assert_eq!(
            c.meta(&tls::CIPHER).as_deref(),
            Some("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256")
        );
    }

    #[test]
    fn a_client_certificate_is_not_read() {
        let body = certificate_message();
        let mut c = super::super::harness::Conv::udp(&DISSECTOR, 50000, 443);
        c.client(&client_hello());
        c.client(&fragment_record(11, 1, body.len(), 0, &body));
        assert_eq!(c.name(), "DTLS");
        assert_eq!(c.meta(&tls::SUBJECT), None);
        let mut state = State::default();
        // Beyond the message: ignored.
        assert!(!state.add_certificate_fragment(10, 8, &[1, 2, 3]));
        assert!(!state.add_certificate_fragment(10, 8, &[1, 2]));
        assert!(!state.add_certificate_fragment(10, 0, &[1; 4]));
        assert!(state.add_certificate_fragment(10, 3, &[2; 5]));
        assert!(!State::default().add_certificate_fragment(MAX_CERTIFICATE_MESSAGE + 1, 0, &[]));
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
