//! BitTorrent. TCP: the peer handshake (`\x13BitTorrent protocol`, reserved bits, info
//! hash, peer id). UDP: uTP (BEP 29) — confirmed by a handshake inside a data packet, by a
//! SYN answered with a STATE for the same connection, or by two consistent packets of one
//! connection; DHT (BEP 5) — a whole bencoded KRPC dictionary with its `y` and `t` keys;
//! UDP tracker connect requests (BEP 15, fixed protocol id); Local Service Discovery
//! (BEP 14, `BT-SEARCH`). Extracts the info hash and the DHT query.

use super::lines::{lines, starts_with_ci, text};
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};
use crate::attrs;
use crate::text::hex;

attrs! {
    pub INFO_HASH = "bittorrent.info_hash", Str, Content, "Info hash of the torrent (hex), from a handshake, DHT query or LSD announce";
    pub PEER_ID = "bittorrent.peer_id", Str, Identifier, "Client part of the peer id of the first handshake (e.g. -UT3600-)";
    pub DHT_QUERY = "bittorrent.dht_query", Str, Usage, "Method of the first DHT query (ping, find_node, get_peers, announce_peer, …)";
    pub TRANSPORT = "bittorrent.transport", Str, Service, "How the flow was recognised: tcp, utp, dht, tracker or lsd";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[&INFO_HASH, &PEER_ID, &DHT_QUERY, &TRANSPORT];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::BITTORRENT,
    transports: Transports::TCP_UDP,
    tcp_ports: &[6881, 6882, 6883, 6884, 6885, 6886, 6887, 6888, 6889, 51413],
    udp_ports: &[6771, 6881, 51413],
    inspect,
};

const HANDSHAKE: &[u8] = b"\x13BitTorrent protocol";
/// Handshake: protocol string, 8 reserved bytes, 20-byte info hash, 20-byte peer id.
const HANDSHAKE_LEN: usize = 68;
const UTP_HEADER: usize = 20;
const ST_DATA: u8 = 0;
const ST_STATE: u8 = 2;
const ST_SYN: u8 = 4;
const TRACKER_PROTOCOL_ID: [u8; 8] = [0x00, 0x00, 0x04, 0x17, 0x27, 0x10, 0x19, 0x80];
/// Nesting accepted in bencoded data.
const MAX_DEPTH: usize = 8;

/// A peer handshake at the start of `d`: `Some(Ok((info_hash, peer_id)))` when whole,
/// `Some(Err(()))` while it arrives, `None` when `d` is not one.
#[allow(clippy::type_complexity)]
pub fn handshake(d: &[u8]) -> Option<Result<(&[u8], &[u8]), ()>> {
    let n = d.len().min(HANDSHAKE.len());
    if d.get(..n)? != HANDSHAKE.get(..n)? {
        return None;
    }
    if d.len() < HANDSHAKE.len() + 28 {
        return Some(Err(()));
    }
    let info_hash = d.get(28..48)?;
    let peer_id = d.get(48..HANDSHAKE_LEN).unwrap_or_default();
    Some(Ok((info_hash, peer_id)))
}

/// The client tag of an Azureus-style peer id (`-XX1234-`).
fn client_tag(peer_id: &[u8]) -> Option<String> {
    let tag = peer_id.get(..8)?;
    (tag.first() == Some(&b'-')
        && tag.get(7) == Some(&b'-')
        && tag.iter().all(u8::is_ascii_graphic))
    .then(|| text(tag, 8))
}

/// A uTP header: type, connection id, timestamp, sequence and acknowledgement numbers, and
/// the offset of the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Utp {
    pub kind: u8,
    pub conn_id: u16,
    pub timestamp: u32,
    pub seq: u16,
    pub ack: u16,
    pub payload_at: usize,
}

pub fn utp(d: &[u8]) -> Option<Utp> {
    let b0 = *d.first()?;
    let (kind, version) = (b0 >> 4, b0 & 0x0f);
    if version != 1 || kind > ST_SYN || d.len() < UTP_HEADER {
        return None;
    }
    let be16 = |at: usize| Some(u16::from_be_bytes([*d.get(at)?, *d.get(at + 1)?]));
    let be32 = |at: usize| Some(u32::from_be_bytes(d.get(at..at + 4)?.try_into().ok()?));
    // Extension chain: type (1 = selective ack, 2 = extension bits), length, data.
    let mut ext = *d.get(1)?;
    let mut at = UTP_HEADER;
    for _ in 0..4 {
        if ext == 0 {
            break;
        }
        if ext > 2 {
            return None;
        }
        let next = *d.get(at)?;
        let len = usize::from(*d.get(at + 1)?);
        if len == 0 || len % 4 != 0 || d.len() < at + 2 + len {
            return None;
        }
        ext = next;
        at += 2 + len;
    }
    if ext != 0 {
        return None;
    }
    // Only data packets carry a payload.
    if kind != ST_DATA && at != d.len() {
        return None;
    }
    Some(Utp {
        kind,
        conn_id: be16(2)?,
        timestamp: be32(4)?,
        seq: be16(16)?,
        ack: be16(18)?,
        payload_at: at,
    })
}

/// Skips one bencoded value; returns the offset after it.
fn bencode_value(d: &[u8], at: usize, depth: usize) -> Option<usize> {
    if depth > MAX_DEPTH {
        return None;
    }
    match *d.get(at)? {
        b'i' => {
            let end = at + 1 + d.get(at + 1..)?.iter().position(|&b| b == b'e')?;
            let digits = d.get(at + 1..end)?;
            let digits = digits.strip_prefix(b"-").unwrap_or(digits);
            (!digits.is_empty() && digits.iter().all(u8::is_ascii_digit)).then_some(end + 1)
        }
        b'l' | b'd' => {
            let mut p = at + 1;
            while *d.get(p)? != b'e' {
                p = bencode_value(d, p, depth + 1)?;
            }
            Some(p + 1)
        }
        b'0'..=b'9' => bencode_string(d, at).map(|(_, end)| end),
        _ => None,
    }
}

/// A bencoded string at `at`: its bytes and the offset after it.
fn bencode_string(d: &[u8], at: usize) -> Option<(&[u8], usize)> {
    let colon = at + d.get(at..)?.iter().take(8).position(|&b| b == b':')?;
    let len: usize = std::str::from_utf8(d.get(at..colon)?).ok()?.parse().ok()?;
    let s = d.get(colon + 1..colon + 1 + len)?;
    Some((s, colon + 1 + len))
}

/// The entries of a top-level bencoded dictionary that fills `d` exactly.
fn bencode_dict(d: &[u8]) -> Option<Vec<(&[u8], usize)>> {
    if d.first() != Some(&b'd') || bencode_value(d, 0, 0)? != d.len() {
        return None;
    }
    let mut entries = Vec::new();
    let mut p = 1;
    while *d.get(p)? != b'e' {
        let (key, value_at) = bencode_string(d, p)?;
        entries.push((key, value_at));
        p = bencode_value(d, value_at, 1)?;
    }
    Some(entries)
}

/// A DHT KRPC message: `(query method or "", info hash)`.
pub fn dht(d: &[u8]) -> Option<(String, Option<Vec<u8>>)> {
    let entries = bencode_dict(d)?;
    let get = |k: &[u8]| entries.iter().find(|(key, _)| *key == k).map(|&(_, at)| at);
    let (y, _) = bencode_string(d, get(b"y")?)?;
    get(b"t")?;
    if !matches!(y, b"q" | b"r" | b"e") {
        return None;
    }
    let method = match get(b"q") {
        Some(at) if y == b"q" => text(bencode_string(d, at)?.0, 32),
        _ => String::new(),
    };
    // The arguments' info_hash, when a query carries one.
    let info_hash = get(b"a").and_then(|at| {
        let end = bencode_value(d, at, 1)?;
        let args = d.get(at..end)?;
        let entries = bencode_dict(args)?;
        let &(_, v) = entries.iter().find(|(k, _)| *k == b"info_hash")?;
        let (h, _) = bencode_string(args, v)?;
        (h.len() == 20).then(|| h.to_vec())
    });
    Some((method, info_hash))
}

/// A Local Service Discovery announce: its info hash.
fn lsd(d: &[u8]) -> Option<Option<String>> {
    if !d.starts_with(b"BT-SEARCH * HTTP/1.1\r\n") {
        return None;
    }
    let hash = lines(d).find_map(|(l, _)| {
        starts_with_ci(l, b"Infohash:")
            .then(|| text(l.get(9..).unwrap_or_default(), 64).to_ascii_lowercase())
    });
    Some(hash)
}

/// Message Stream Encryption opens each direction with a Diffie-Hellman public key (96
/// bytes) and up to 512 bytes of padding. When the peers then select plaintext, the
/// handshake follows in the clear after the encrypted negotiation: it is looked for within
/// this many bytes of a stream whose openings are that size.
const MSE_WINDOW: usize = 2048;
const MSE_KEY: usize = 96;

/// Offset of a whole handshake after an MSE opening in this direction's stream.
fn after_mse(ins: &Inspect<'_>) -> Option<Result<usize, ()>> {
    let opening_ok = |p: &[u8]| p.is_empty() || (p.len() >= MSE_KEY && handshake(p).is_none());
    if !ins.first_payload.iter().all(|p| opening_ok(p)) {
        return None;
    }
    let window = ins.data.get(..ins.data.len().min(MSE_WINDOW))?;
    let at = window
        .windows(HANDSHAKE.len())
        .skip(MSE_KEY)
        .position(|w| w == HANDSHAKE)
        .map(|p| p + MSE_KEY);
    match at {
        Some(at) => match handshake(ins.data.get(at..)?)? {
            Ok(_) => Some(Ok(at)),
            Err(()) => Some(Err(())),
        },
        None => (ins.data.len() < MSE_WINDOW).then_some(Err(())),
    }
}

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    if ins.flow.l4 == 6 {
        let d = match after_mse(ins) {
            Some(Ok(at)) if handshake(ins.data).is_none() => ins.data.get(at..).unwrap_or_default(),
            Some(Err(())) if handshake(ins.data).is_none() => return Verdict::Continue,
            _ => ins.data,
        };
        return match handshake(d) {
            Some(Ok((hash, peer))) => {
                ins.detect(id::BITTORRENT);
                st.set_str(&TRANSPORT, "tcp");
                st.set_str(&INFO_HASH, hex(hash));
                if let Some(tag) = client_tag(peer) {
                    st.set_str(&PEER_ID, tag);
                }
                Verdict::Done
            }
            Some(Err(())) => Verdict::Continue,
            None => Verdict::Exclude,
        };
    }
    let d = ins.data;
    if let Some((method, hash)) = dht(d) {
        ins.detect(id::BITTORRENT);
        st.set_str(&TRANSPORT, "dht");
        if !method.is_empty() {
            st.set_str(&DHT_QUERY, method);
        }
        if let Some(h) = hash {
            st.set_str(&INFO_HASH, hex(&h));
        }
        return if st.meta.has(&DHT_QUERY) {
            Verdict::Done
        } else {
            Verdict::Continue
        };
    }
    if let Some(hash) = lsd(d) {
        ins.detect(id::BITTORRENT);
        st.set_str(&TRANSPORT, "lsd");
        if let Some(h) = hash {
            st.set_str(&INFO_HASH, h);
        }
        return Verdict::Done;
    }
    if d.len() == 16
        && d.get(..8) == Some(&TRACKER_PROTOCOL_ID)
        && d.get(8..12) == Some(&[0, 0, 0, 0])
    {
        ins.detect(id::BITTORRENT);
        st.set_str(&TRANSPORT, "tracker");
        return Verdict::Done;
    }
    match utp_verdict(ins, d) {
        Some(true) => {
            ins.detect(id::BITTORRENT);
            st.set_str(&TRANSPORT, "utp");
            if let Some(Ok((hash, _))) = utp(d).and_then(|u| handshake(d.get(u.payload_at..)?)) {
                st.set_str(&INFO_HASH, hex(hash));
            }
            Verdict::Done
        }
        Some(false) => Verdict::Exclude,
        None => Verdict::Continue,
    }
}

/// Whether a uTP packet (with what came before) confirms the flow.
fn utp_verdict(ins: &Inspect<'_>, d: &[u8]) -> Option<bool> {
    let Some(u) = utp(d) else {
        return Some(false);
    };
    if u.kind == ST_DATA
        && d.get(u.payload_at..)
            .is_some_and(|p| p.starts_with(HANDSHAKE))
    {
        return Some(true);
    }
    let dir = ins.dir as usize;
    let other = ins.first_payload.get(1 - dir).copied().and_then(utp);
    // A SYN answered by a STATE for its connection, acknowledging its sequence number.
    if let Some(o) = other {
        let (syn, state) = if u.kind == ST_STATE { (o, u) } else { (u, o) };
        if syn.kind == ST_SYN
            && state.kind == ST_STATE
            && state.conn_id == syn.conn_id
            && state.ack == syn.seq
        {
            return Some(true);
        }
    }
    // Two packets of one connection in this direction, in order.
    if ins.dir_packets.get(dir).copied().unwrap_or(0) >= 2 {
        let first = ins.first_payload.get(dir).copied().and_then(utp)?;
        let in_order = u.seq.wrapping_sub(first.seq) < 1024 && u.timestamp >= first.timestamp;
        return Some(first.conn_id == u.conn_id && in_order && first != u);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    fn handshake_bytes() -> Vec<u8> {
        let mut h = HANDSHAKE.to_vec();
        h.extend_from_slice(&[0, 0, 0, 0, 0, 0x10, 0, 5]);
        h.extend_from_slice(&[0xab; 20]);
        h.extend_from_slice(b"-UT3600-abcdefghijkl");
        h
    }

    fn utp_header(kind: u8, conn: u16, ts: u32, seq: u16, ack: u16) -> Vec<u8> {
        let mut h = vec![kind << 4 | 1, 0];
        h.extend_from_slice(&conn.to_be_bytes());
        h.extend_from_slice(&ts.to_be_bytes());
        h.extend_from_slice(&[0; 4]);
        h.extend_from_slice(&0x10_0000u32.to_be_bytes());
        h.extend_from_slice(&seq.to_be_bytes());
        h.extend_from_slice(&ack.to_be_bytes());
        h
    }

    #[test]
    fn tcp_handshake() {
        let mut c = Conv::tcp(&DISSECTOR, 48987, 6881);
        let h = handshake_bytes();
        c.client(h.get(..10).unwrap_or_default());
        assert!(c.open);
        c.client(h.get(10..).unwrap_or_default());
        assert_eq!(c.name(), "BitTorrent");
        assert_eq!(
            c.meta(&INFO_HASH).as_deref(),
            Some("abababababababababababababababababababab")
        );
        assert_eq!(c.meta(&PEER_ID).as_deref(), Some("-UT3600-"));
    }

    #[test]
    fn plaintext_handshake_after_stream_encryption() {
        let noise = |n: usize, seed: u8| -> Vec<u8> {
            (0..n)
                .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) | 1)
                .collect()
        };
        let mut c = Conv::tcp(&DISSECTOR, 48987, 6881);
        c.client(&noise(198, 7));
        c.server(&noise(424, 3));
        c.client(&noise(471, 5));
        c.server(&noise(240, 9));
        assert!(c.open);
        assert_eq!(c.name(), "Unknown");
        c.server(&handshake_bytes());
        assert_eq!(c.name(), "BitTorrent");
        // Openings shorter than a key are not stream encryption.
        let mut c = Conv::tcp(&DISSECTOR, 48987, 6881);
        c.client(&noise(40, 7));
        assert!(!c.open);
    }

    #[test]
    fn dht_query() {
        let q = b"d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456e1:q9:get_peers1:t2:aa1:y1:qe";
        let (method, hash) = dht(q).expect("krpc");
        assert_eq!(method, "get_peers");
        assert_eq!(hash.as_deref(), Some(&b"mnopqrstuvwxyz123456"[..]));
        let mut c = Conv::udp(&DISSECTOR, 64969, 40959);
        c.client(q);
        assert_eq!(c.name(), "BitTorrent");
        assert_eq!(c.meta(&DHT_QUERY).as_deref(), Some("get_peers"));
        // Truncated, not a dictionary, or no message type.
        assert_eq!(dht(q.get(..q.len() - 1).unwrap_or_default()), None);
        assert_eq!(dht(b"l1:ae"), None);
        assert_eq!(dht(b"d1:t2:aae"), None);
    }

    #[test]
    fn utp_syn_and_state() {
        let mut c = Conv::udp(&DISSECTOR, 64969, 40959);
        c.client(&utp_header(ST_SYN, 0x5302, 100, 4334, 0));
        assert!(c.open);
        c.server(&utp_header(ST_STATE, 0x5302, 200, 77, 4334));
        assert_eq!(c.name(), "BitTorrent");
        assert_eq!(c.meta(&TRANSPORT).as_deref(), Some("utp"));
    }

    #[test]
    fn utp_data_with_handshake_and_state_stream() {
        let mut pkt = utp_header(ST_DATA, 0x5303, 100, 1, 1);
        pkt.extend(handshake_bytes());
        let mut c = Conv::udp(&DISSECTOR, 1, 2);
        c.client(&pkt);
        assert_eq!(c.name(), "BitTorrent");
        let mut c = Conv::udp(&DISSECTOR, 6881, 60506);
        c.client(&utp_header(ST_STATE, 0xacd2, 1000, 5, 9));
        assert!(c.open);
        c.client(&utp_header(ST_STATE, 0xacd2, 2000, 5, 10));
        assert_eq!(c.name(), "BitTorrent");
        // Another connection id: not one uTP connection.
        let mut c = Conv::udp(&DISSECTOR, 6881, 60506);
        c.client(&utp_header(ST_STATE, 1, 1000, 5, 9))
            .client(&utp_header(ST_STATE, 2, 2000, 5, 10));
        assert!(!c.open);
        // A STATE packet with trailing bytes is not uTP.
        let mut bad = utp_header(ST_STATE, 1, 1, 1, 1);
        bad.push(0);
        assert_eq!(utp(&bad), None);
    }

    #[test]
    fn lsd_and_tracker() {
        let mut c = Conv::udp(&DISSECTOR, 6771, 6771);
        c.client(b"BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 61197\r\nInfohash: ED5B0D3B\r\n\r\n\r\n");
        assert_eq!(c.name(), "BitTorrent");
        assert_eq!(c.meta(&INFO_HASH).as_deref(), Some("ed5b0d3b"));
        let mut pkt = TRACKER_PROTOCOL_ID.to_vec();
        pkt.extend_from_slice(&[0, 0, 0, 0, 1, 2, 3, 4]);
        let mut c = Conv::udp(&DISSECTOR, 1, 6969);
        c.client(&pkt);
        assert_eq!(c.name(), "BitTorrent");
    }
}
