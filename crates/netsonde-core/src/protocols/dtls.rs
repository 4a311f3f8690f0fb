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
//! The handshake carries the same metadata as TLS's (SNI, JA3, JA4 with `d`, cipher,
//! certificate): its messages may be cut into fragments across records and datagrams, each
//! placed by (message sequence, offset), so they are reassembled here and handed whole to
//! the TLS handshake code.

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
    matches!(v, 0xFEFF | 0xFEFD | tls::parser::DTLS_OPENSSL_PRE_STANDARD)
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
        // Alerts are two bytes in the clear; change_cipher_spec is one byte of 1 (pre-standard
        // OpenSSL DTLS adds its 2-byte message sequence).
        let ccs_ok = frag == [1]
            || (version == tls::parser::DTLS_OPENSSL_PRE_STANDARD
                && frag.len() == 3
                && frag.first() == Some(&1));
        if epoch == 0 && ((ct == 21 && len != 2) || (ct == 20 && !ccs_ok)) {
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

/// Largest handshake message reassembled (a certificate chain fits).
const MAX_MESSAGE: usize = 64 * 1024;
/// Messages under reassembly per direction.
const MAX_PENDING: usize = 4;

/// A handshake message being put together from its fragments.
#[derive(Debug)]
struct Pending {
    seq: u16,
    msg_type: u8,
    body: Vec<u8>,
    /// Byte ranges received, sorted and merged.
    have: Vec<(usize, usize)>,
}

impl Pending {
    fn add(&mut self, off: usize, data: &[u8]) {
        let end = off + data.len();
        if let Some(dst) = self.body.get_mut(off..end) {
            dst.copy_from_slice(data);
            self.have.push((off, end));
            self.have.sort_unstable();
            let mut merged: Vec<(usize, usize)> = Vec::with_capacity(self.have.len());
            for &(a, b) in &self.have {
                match merged.last_mut() {
                    Some(last) if a <= last.1 => last.1 = last.1.max(b),
                    _ => merged.push((a, b)),
                }
            }
            self.have = merged;
        }
    }

    fn complete(&self) -> bool {
        self.have.as_slice() == [(0, self.body.len())] || self.body.is_empty()
    }
}

/// Per-flow DTLS state: the TLS handshake state and the fragments waiting per direction.
#[derive(Debug)]
pub struct State {
    tls: tls::State,
    pending: [Vec<Pending>; 2],
    /// Messages (sequence number, type) already handed over, per direction: their
    /// retransmissions are skipped. The type is part of it because a server answering a
    /// cookie exchange may number its ServerHello like its HelloVerifyRequest.
    done: [Vec<(u16, u8)>; 2],
}

impl Default for State {
    fn default() -> Self {
        State {
            tls: tls::State::datagram(),
            pending: Default::default(),
            done: Default::default(),
        }
    }
}

impl State {
    /// Hellos and certificate seen, or both sides encrypted.
    pub fn finished(&self) -> bool {
        self.tls.finished()
    }

    /// Reads the plaintext handshake records of a datagram already checked by [`records`].
    fn datagram(&mut self, d: &[u8], dir: Dir, st: &mut DissectorState, ins: &mut Inspect) {
        let side = dir as usize;
        let mut at = 0;
        while let (Some(ct), Some(epoch), Some(len)) =
            (u8_at(d, at), be16(d, at + 3), be16(d, at + 11))
        {
            let len = usize::from(len);
            let frag = d
                .get(at + HEADER_LEN..at + HEADER_LEN + len)
                .unwrap_or_default();
            at += HEADER_LEN + len;
            if ct == 20 {
                self.tls.encrypted_from(dir);
            }
            if ct != 22 || epoch != 0 {
                continue;
            }
            if let Some((msg_type, body)) = self.fragment(side, frag) {
                self.tls.handshake_message(msg_type, &body, dir, st, ins);
            }
        }
    }

    /// Adds one handshake fragment; returns the message when it is whole.
    fn fragment(&mut self, side: usize, frag: &[u8]) -> Option<(u8, Vec<u8>)> {
        let msg_type = u8_at(frag, 0)?;
        let total = be24(frag, 1)?;
        let seq = be16(frag, 4)?;
        let off = be24(frag, 6)?;
        let flen = be24(frag, 9)?;
        let data = frag.get(12..12 + flen)?;
        let (done, pending) = (self.done.get_mut(side)?, self.pending.get_mut(side)?);
        if done.contains(&(seq, msg_type)) || total > MAX_MESSAGE {
            return None;
        }
        let pos = match pending
            .iter()
            .position(|p| p.seq == seq && p.msg_type == msg_type)
        {
            Some(pos) if pending.get(pos)?.body.len() == total => pos,
            Some(_) => return None, // the same message announced with another length
            None if pending.len() < MAX_PENDING => {
                pending.push(Pending {
                    seq,
                    msg_type,
                    body: vec![0; total],
                    have: Vec::new(),
                });
                pending.len() - 1
            }
            None => return None,
        };
        let p = pending.get_mut(pos)?;
        p.add(off, data);
        if !p.complete() {
            return None;
        }
        let whole = pending.swap_remove(pos);
        done.push((seq, msg_type));
        Some((whole.msg_type, whole.body))
    }
}

/// Reads a datagram of a flow another dissector confirmed (STUN's media) for the DTLS
/// handshake metadata; `slot` holds the handshake state from the first plaintext handshake.
pub fn follow(slot: &mut Option<Box<State>>, ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) {
    let Some(found) = records(ins.data) else {
        return;
    };
    if slot.is_none() && found.handshake {
        *slot = Some(Box::default());
    }
    if let Some(state) = slot.as_mut() {
        if !state.tls.finished() {
            state.datagram(ins.data, ins.dir, st, ins);
        }
    }
}

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    let Some(found) = records(ins.data) else {
        return if matches!(st.state, ProtoState::Dtls(_)) {
            Verdict::Continue // not a DTLS datagram (STUN, media) in a confirmed flow
        } else {
            Verdict::Exclude
        };
    };
    ins.detect(id::DTLS);
    if !matches!(st.state, ProtoState::Dtls(_)) {
        if !found.handshake {
            return Verdict::Done; // caught mid-session: nothing in the clear to read
        }
        *st.state = ProtoState::Dtls(Box::default());
    }
    let ProtoState::Dtls(state) = &mut *st.state else {
        return Verdict::Done;
    };
    let mut state = std::mem::take(state);
    state.datagram(ins.data, ins.dir, st, ins);
    let finished = state.tls.finished();
    if let ProtoState::Dtls(slot) = &mut *st.state {
        *slot = state;
    }
    if finished {
        Verdict::Done
    } else {
        Verdict::Continue
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
pub(crate) mod tests {
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
    fn pre_standard_change_cipher_spec_carries_a_sequence() {
        let ccs = |v: [u8; 2], body: &[u8]| {
            let mut d = vec![20, v[0], v[1], 0, 0, 0, 0, 0, 0, 0, 2, 0, body.len() as u8];
            d.extend_from_slice(body);
            records(&d).is_some()
        };
        assert!(ccs([0x01, 0x00], &[1, 0, 2]));
        assert!(ccs([0xFE, 0xFD], &[1]));
        assert!(!ccs([0xFE, 0xFD], &[1, 0, 2]));
        assert!(!ccs([0x01, 0x00], &[2, 0, 2]));
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

    use super::super::harness::Conv;
    use super::super::tls::parser::tests::{client_hello_body, server_hello_body};

    /// DTLS 1.2 records (epoch 0) carrying handshake message `msg_type` with `body`, cut
    /// into fragments of at most `max` bytes, one record per fragment.
    pub fn fragments(msg_type: u8, seq: u16, body: &[u8], max: usize) -> Vec<Vec<u8>> {
        let total = (body.len() as u32).to_be_bytes();
        let mut out = Vec::new();
        for (k, chunk) in body.chunks(max).enumerate() {
            let off = ((k * max) as u32).to_be_bytes();
            let flen = (chunk.len() as u32).to_be_bytes();
            let mut hs = vec![msg_type, total[1], total[2], total[3]];
            hs.extend_from_slice(&seq.to_be_bytes());
            hs.extend_from_slice(&[off[1], off[2], off[3], flen[1], flen[2], flen[3]]);
            hs.extend_from_slice(chunk);
            let mut rec = vec![22, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, k as u8];
            rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
            rec.extend_from_slice(&hs);
            out.push(rec);
        }
        out
    }

    /// The TLS test ClientHello as DTLS 1.2 sends it: version FEFD and an empty cookie
    /// after the session id.
    pub fn dtls_client_hello() -> Vec<u8> {
        let mut b = client_hello_body();
        b[0] = 0xFE;
        b[1] = 0xFD;
        b.insert(2 + 32 + 1 + 32, 0);
        b
    }

    #[test]
    fn client_hello_in_fragments_out_of_order_gives_tls_metadata() {
        let parts = fragments(1, 0, &dtls_client_hello(), 50);
        assert!(parts.len() >= 3);
        let mut c = Conv::udp(&DISSECTOR, 50000, 4433);
        // Last fragment first, then the rest two per datagram, one fragment repeated.
        c.client(parts.last().expect("fragments"));
        for pair in parts.chunks(2) {
            c.client(&pair.concat());
        }
        assert_eq!(c.name(), "DTLS");
        assert_eq!(c.meta(&tls::SNI).as_deref(), Some("example.com"));
        let ja4 = c.meta(&tls::JA4).expect("ja4");
        assert!(ja4.starts_with("d13d"), "{ja4}"); // DTLS, highest offered version, SNI
        assert_eq!(c.meta(&tls::JA3).map(|j| j.len()), Some(32));
        let mut sh = server_hello_body(0xc02f, false);
        sh[0] = 0xFE;
        sh[1] = 0xFD;
        c.server(&fragments(2, 0, &sh, 1000).concat());
        assert_eq!(
            c.meta(&tls::CIPHER).as_deref(),
            Some("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")
        );
    }

    #[test]
    fn a_fragment_reaching_past_its_message_is_refused() {
        let mut parts = fragments(1, 0, &dtls_client_hello(), 50);
        // Announce a shorter total in the second fragment: the message never completes.
        if let Some(p) = parts.get_mut(1) {
            p[13 + 3] = p[13 + 3].wrapping_sub(1);
        }
        let mut c = Conv::udp(&DISSECTOR, 50000, 4433);
        for p in &parts {
            c.client(p);
        }
        assert_eq!(c.meta(&tls::SNI), None);
    }
}
