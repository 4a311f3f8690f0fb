//! QUIC on UDP, any port: IETF QUIC (v1 RFC 9000/9001, v2 RFC 9369, drafts 23..34, Facebook
//! mvfst) and Google QUIC (Q024..Q046 in clear, Q050/T050/T051 protected like IETF Initials).
//!
//! A flow is confirmed on a well-formed long header of a known version (before any decryption;
//! an Initial must fill the 1200-byte datagram RFC 9000 requires), a Google QUIC public header
//! with a known version, a Google QUIC rejection from port 443, or, for captures that start
//! mid-connection, three client packets to port 443 with one connection ID (IETF short headers,
//! or Google QUIC headers without version and with growing packet numbers). The client's
//! Initial packets are then opened with keys derived from its first Destination Connection ID,
//! their CRYPTO frames reassembled (out of order, over several packets, bounded) and the
//! ClientHello read: server name (and the application it names), ALPN, JA4 (`q` prefix), and
//! the user agent Chrome puts in the `google_user_agent` transport parameter. The server's
//! Initial packets are opened too, with the server's keys for the same connection ID, for
//! its ServerHello: TLS version, cipher suite and JA3S, as TLS's attributes. Google QUIC's
//! `CHLO` gives the server name and the `UAID` user agent.

pub mod crypto;
pub mod frames;
pub mod gquic;
pub mod header;

use super::tls::parser::{parse_client_hello, parse_server_hello, ClientHello};
use super::tls::{self, fingerprint};
use super::{id, Dissector, DissectorState, Inspect, ProtoState, Transports, Verdict};
use crate::attrs;
use crate::classify::add_risk;
use crate::record::MetaValue;
use crypto::{InitialKeys, Side};
use frames::CryptoStream;
use header::{version, LongType, MAX_CID_LEN};

attrs! {
    pub VERSION = "quic.version", Str, Service, "QUIC version of the client's packets, as nDPI names it (V-1, V-2, Draft-29, Q046, Ver-Negotiation, …)";
    pub SNI = "quic.sni", Str, Identifier, "Server name from the client's ClientHello (or Google QUIC CHLO)";
    pub ALPN = "quic.alpn", StrList, Service, "Application protocols offered in the client's ClientHello";
    pub USER_AGENT = "quic.user_agent", Str, Identifier, "User agent: Google QUIC CHLO UAID tag, or the google_user_agent transport parameter (0x3129)";
    pub JA4 = "quic.ja4", Str, Security, "JA4 fingerprint of the client's ClientHello (q prefix)";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[&VERSION, &SNI, &ALPN, &USER_AGENT, &JA4];

pub use crate::risks::{
    MISSING_SNI as RISK_MISSING_SNI, QUIC_CRYPTO_OVERFLOW as RISK_CRYPTO_OVERFLOW,
};

pub static DISSECTOR: Dissector = Dissector {
    proto: id::QUIC,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[443, 80, 784, 853, 4433, 8443],
    inspect,
};

/// Smallest datagram carrying an ack-eliciting Initial packet (RFC 9000 §14.1).
const MIN_INITIAL_DATAGRAM: usize = 1200;
/// The UDP port short-header and Google QUIC rejection heuristics look at.
const HTTPS_PORT: u16 = 443;
/// Connection ID bytes compared by the short-header heuristic (the common minimum length).
const SH_CID_LEN: usize = 8;
/// Client short-header packets with one connection ID that confirm QUIC.
const SH_PACKETS: u8 = 3;
/// Packets looked at before the short-header heuristic gives up.
const SH_MAX_PACKETS: u16 = 10;
/// Packets after confirmation that bring nothing new before the flow is left alone.
const MAX_IDLE_PACKETS: u8 = 10;
/// TLS extension types of the QUIC transport parameters (RFC 9001 §8.2; drafts used 0xffa5).
const EXT_TRANSPORT_PARAMS: u16 = 0x39;
const EXT_TRANSPORT_PARAMS_DRAFT: u16 = 0xffa5;
/// Chrome's `google_user_agent` transport parameter.
const TP_GOOGLE_USER_AGENT: u64 = 0x3129;

/// Per-flow QUIC state.
#[derive(Default, Debug)]
pub struct State {
    confirmed: bool,
    /// Version of the client's packets (0 until one is seen).
    version: u32,
    /// The client's first Destination Connection ID: Initial keys derive from it.
    dcid: Option<Cid>,
    /// Keys cached for (`version`, `dcid`).
    keys: Option<(u32, Cid, InitialKeys)>,
    crypto: CryptoStream,
    hello_done: bool,
    /// The server's side of the Initial handshake: its keys (for the client's connection
    /// ID that opened the ClientHello), CRYPTO stream and ServerHello.
    server_keys: Option<(u32, Cid, InitialKeys)>,
    server_crypto: CryptoStream,
    server_hello_done: bool,
    /// The connection ID a server's Retry gave: the client's next Initial goes to it, and
    /// both sides' Initial keys derive from it from then on (RFC 9001 §5.2).
    retry_cid: Option<Cid>,
    idle: u8,
    /// Short-header heuristic: the client's last packet, and how many agreeing ones were seen.
    sh: Option<(SeenHeader, u8)>,
}

impl State {
    /// Both hellos read, or the client's alone where the server's cannot be (a server's
    /// Initial is opened for IETF versions only).
    fn handshake_read(&self) -> bool {
        self.hello_done && (self.server_hello_done || !header::is_ietf(self.version))
    }
}

/// A connection ID (at most 20 bytes), stored inline.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
struct Cid {
    len: u8,
    bytes: [u8; MAX_CID_LEN],
}

impl Cid {
    fn new(b: &[u8]) -> Option<Cid> {
        let mut cid = Cid {
            len: u8::try_from(b.len()).ok()?,
            bytes: [0; MAX_CID_LEN],
        };
        cid.bytes.get_mut(..b.len())?.copy_from_slice(b);
        Some(cid)
    }

    fn as_slice(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or_default()
    }
}

/// What a first look at a datagram says.
enum Probe {
    /// A QUIC packet of this version.
    Quic(u32),
    /// Could still be QUIC: look at more packets.
    Maybe,
    No,
}

/// Recognises QUIC from one datagram's header.
fn probe(d: &[u8]) -> Probe {
    let Some(&first) = d.first() else {
        return Probe::No;
    };
    if first & 0x80 != 0 {
        match header::be_u32(d, 1) {
            // Q046's long header packs both connection ID lengths in one byte.
            Some(version::Q046) => {
                return match header::parse_gquic(d) {
                    Some(g) => Probe::Quic(g.version),
                    None => Probe::No,
                };
            }
            // A legacy Google QUIC header with the (then unused) top bit set.
            Some(v) if header::gquic_number(v).is_some_and(|n| n <= 43) => {
                return if first & 0x38 == 0x08 {
                    Probe::Quic(v)
                } else {
                    Probe::No
                };
            }
            _ => {}
        }
        let Some(h) = header::parse_long(d) else {
            return Probe::No;
        };
        if h.version == 0 {
            // A Version Negotiation: the client's Initial may follow.
            return if header::is_version_negotiation(d) {
                Probe::Maybe
            } else {
                Probe::No
            };
        }
        return match header::parse_long_packet(d) {
            // An Initial that carries anything worth acknowledging fills a 1200-byte datagram
            // (RFC 9000 §14.1); a shorter one (an ACK) waits for a packet that says more.
            Some(p) if p.kind == LongType::Initial && d.len() < MIN_INITIAL_DATAGRAM => {
                Probe::Maybe
            }
            // A greased version only makes sense on a client's Initial.
            Some(p)
                if !header::is_forcing_negotiation(h.version)
                    || (p.kind == LongType::Initial && first & 0x40 != 0) =>
            {
                Probe::Quic(h.version)
            }
            _ => Probe::No,
        };
    }
    match header::parse_gquic(d) {
        Some(g) => Probe::Quic(g.version),
        None => Probe::No,
    }
}

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    let confirmed = matches!(st.state, ProtoState::Quic(s) if s.confirmed);
    if !confirmed {
        match probe(ins.data) {
            Probe::Quic(v) => {
                ins.detect(id::QUIC);
                *st.state = ProtoState::Quic(Box::new(State {
                    confirmed: true,
                    version: v,
                    ..State::default()
                }));
                st.set_str(&VERSION, header::version_name(v));
            }
            Probe::Maybe => return Verdict::Continue,
            Probe::No => return short_header_probe(ins, st),
        }
    }
    let ProtoState::Quic(state) = st.state else {
        return Verdict::Done;
    };
    let progress = read_packet(ins, state, st.meta, st.risks);
    if state.crypto.truncated || state.crypto.hopeless() {
        add_risk(st.risks, RISK_CRYPTO_OVERFLOW);
        if !state.hello_done && state.crypto.hopeless() {
            return Verdict::Done;
        }
    }
    if state.handshake_read() {
        return Verdict::Done;
    }
    if progress {
        state.idle = 0;
    } else {
        state.idle = state.idle.saturating_add(1);
        if state.idle >= MAX_IDLE_PACKETS {
            return Verdict::Done;
        }
    }
    Verdict::Continue
}

/// Confirms QUIC from the client's packets to port 443 in captures that start after the
/// handshake: IETF short headers, or Google QUIC public headers without a version, three in a
/// row with one connection ID (and, for Google QUIC, growing packet numbers); or from a Google
/// QUIC rejection sent from port 443.
fn short_header_probe(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    let (src_port, dst_port) = if ins.to_server() {
        (ins.flow.client_port, ins.flow.server_port)
    } else {
        (ins.flow.server_port, ins.flow.client_port)
    };
    let d = ins.data;
    if src_port == HTTPS_PORT && header::is_gquic_rej(d) {
        ins.detect(id::QUIC);
        *st.state = ProtoState::Quic(Box::new(State {
            confirmed: true,
            hello_done: true,
            ..State::default()
        }));
        return Verdict::Done;
    }
    let first = d.first().copied().unwrap_or(0);
    if first & 0x80 != 0 || ins.packet_no > SH_MAX_PACKETS {
        return Verdict::Exclude;
    }
    if dst_port != HTTPS_PORT {
        // From the server: keep looking for the client's packets.
        return if src_port == HTTPS_PORT {
            Verdict::Continue
        } else {
            Verdict::Exclude
        };
    }
    let Some(seen) = SeenHeader::of(d) else {
        return Verdict::Exclude;
    };
    // Another dissector's state is not ours to replace before anyone confirmed.
    if !matches!(st.state, ProtoState::None | ProtoState::Quic(_)) {
        return Verdict::Continue;
    }
    if !matches!(st.state, ProtoState::Quic(_)) {
        *st.state = ProtoState::Quic(Box::default());
    }
    let ProtoState::Quic(s) = st.state else {
        return Verdict::Exclude;
    };
    match &s.sh {
        Some((prev, n)) => {
            if !seen.follows(prev) {
                return Verdict::Exclude;
            }
            let n = n + 1;
            if n >= SH_PACKETS {
                ins.detect(id::QUIC);
                s.confirmed = true;
                s.hello_done = true;
                return Verdict::Done;
            }
            s.sh = Some((seen, n));
        }
        None => s.sh = Some((seen, 1)),
    }
    Verdict::Continue
}

/// What the short-header heuristic remembers of a client packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SeenHeader {
    /// IETF short header: the first bytes of the Destination Connection ID (its length is not
    /// on the wire; 8 is the common minimum) and the packet's last byte.
    Ietf { cid: [u8; SH_CID_LEN], last: u8 },
    /// Google QUIC public header without version: the 8-byte connection ID and the packet
    /// number, read big- and little-endian (its byte order changed at Q039).
    Gquic {
        cid: [u8; SH_CID_LEN],
        pn_be: u64,
        pn_le: u64,
    },
}

impl SeenHeader {
    fn of(d: &[u8]) -> Option<SeenHeader> {
        let first = *d.first()?;
        let cid: [u8; SH_CID_LEN] = d.get(1..1 + SH_CID_LEN)?.try_into().ok()?;
        if first & 0xc0 == 0x40 {
            let last = *d.last()?;
            if d.len() <= 1 + SH_CID_LEN {
                return None;
            }
            return Some(SeenHeader::Ietf { cid, last });
        }
        // Google QUIC: 8-byte connection ID (0x08, with 0x04 as older clients set it); no
        // version, reset or multipath flags.
        if first & 0xcb != 0x08 {
            return None;
        }
        let pn_len = match (first >> 4) & 0x03 {
            0 => 1,
            1 => 2,
            2 => 4,
            _ => 6,
        };
        let pn = d.get(1 + SH_CID_LEN..1 + SH_CID_LEN + pn_len)?;
        // At least a 12-byte authentication tag or hash after the header.
        if d.len() < 1 + SH_CID_LEN + pn_len + 12 {
            return None;
        }
        let pn_be = pn.iter().fold(0u64, |a, &b| (a << 8) | u64::from(b));
        let pn_le = pn.iter().rev().fold(0u64, |a, &b| (a << 8) | u64::from(b));
        Some(SeenHeader::Gquic { cid, pn_be, pn_le })
    }

    /// Whether this packet plausibly follows `prev` in the same connection.
    fn follows(&self, prev: &SeenHeader) -> bool {
        match (prev, self) {
            // Same connection ID and, QUIC being encrypted, a different last byte.
            (SeenHeader::Ietf { cid: a, last: x }, SeenHeader::Ietf { cid: b, last: y }) => {
                a == b && x != y
            }
            (
                SeenHeader::Gquic {
                    cid: a,
                    pn_be: p,
                    pn_le: q,
                },
                SeenHeader::Gquic {
                    cid: b,
                    pn_be: r,
                    pn_le: t,
                },
            ) => a == b && (r > p || t > q),
            _ => false,
        }
    }
}

/// Reads one datagram of a confirmed flow; returns whether it brought anything new.
fn read_packet(
    ins: &mut Inspect<'_>,
    state: &mut State,
    meta: &mut crate::metadata::Metadata,
    risks: &mut Vec<&'static str>,
) -> bool {
    let d = ins.data;
    let Some(&first) = d.first() else {
        return false;
    };
    if first & 0x80 == 0 || header::be_u32(d, 1) == Some(version::Q046) {
        // Google QUIC with a clear header.
        let Some(g) = header::parse_gquic(d) else {
            return false;
        };
        let frames = d.get(g.frames_at..).unwrap_or_default();
        let Some(data) = gquic::stream_data(frames, g.version) else {
            return false;
        };
        return handshake_data(ins, state, meta, risks, g.version, data);
    }
    if let Some(h) = header::parse_long(d) {
        // Only servers send Retry packets.
        if header::is_ietf(h.version) && LongType::of(h.first, h.version) == LongType::Retry {
            state.retry_cid = Cid::new(h.scid).filter(|c| c.len > 0);
            return state.retry_cid.is_some();
        }
    }
    // IETF long headers, possibly several coalesced in the datagram.
    let mut rest = d;
    let mut progress = false;
    while let Some(pkt) = header::parse_long_packet(rest) {
        let v = pkt.header.version;
        if pkt.kind == LongType::Initial && state.hello_done {
            // After the ClientHello, an Initial that opens with the server's keys is the
            // server's, whichever side the flow took for its client.
            if !state.server_hello_done && server_initial(state, rest, &pkt, meta, risks) {
                progress = true;
            }
        } else if pkt.kind == LongType::Initial {
            if header::is_forcing_negotiation(state.version) && !header::is_forcing_negotiation(v) {
                // The real Initial after a forced version negotiation.
                state.version = v;
                meta.replace(&VERSION, MetaValue::Str(header::version_name(v)));
                progress = true;
            }
            if let Some(plain) = open_initial(state, rest, &pkt) {
                progress = true;
                if header::is_gquic_ietf_header(v) {
                    if let Some(data) = gquic::crypto_frame_data(&plain) {
                        handshake_data(ins, state, meta, risks, v, data);
                    }
                } else {
                    let crypto = &mut state.crypto;
                    // Frames after an unexpected one are lost; the CRYPTO before it are kept.
                    let _ = frames::walk_initial(&plain, |offset, data| crypto.add(offset, data));
                    if let Some(msg) = state.crypto.first_message().map(<[u8]>::to_vec) {
                        handshake_data(ins, state, meta, risks, v, &msg);
                    }
                }
            }
        }
        if state.handshake_read() {
            break;
        }
        rest = rest.get(pkt.end..).unwrap_or_default();
    }
    progress
}

/// Opens a server's Initial packet with the server's keys for the client's connection ID
/// and reads its ServerHello once whole; returns whether the packet brought anything.
fn server_initial(
    state: &mut State,
    d: &[u8],
    pkt: &header::LongPacket<'_>,
    meta: &mut crate::metadata::Metadata,
    risks: &mut Vec<&'static str>,
) -> bool {
    let v = pkt.header.version;
    // The connection ID of the client's ClientHello keys the handshake, or a Retry's (the
    // caller reads server Initials only once the ClientHello is read).
    let key_cid = state.retry_cid.or(state.dcid);
    let Some(cid) = key_cid.filter(|_| header::is_ietf(v)) else {
        return false;
    };
    let Some(keys) = cached_keys(&mut state.server_keys, v, cid, Side::Server) else {
        return false;
    };
    let Some(plain) = crypto::open_long(d, pkt, keys) else {
        return false;
    };
    let server_crypto = &mut state.server_crypto;
    let _ = frames::walk_initial(&plain, |offset, data| server_crypto.add(offset, data));
    if let Some(hello) = state
        .server_crypto
        .first_message()
        .and_then(parse_server_hello)
    {
        tls::server_hello_metadata(&hello, meta, risks);
        state.server_hello_done = true;
    }
    true
}

/// Opens an Initial packet with the client's keys: those of the first Destination Connection ID
/// seen, else (a server's packet seen first, or a Retry) those of this packet's own.
fn open_initial(state: &mut State, d: &[u8], pkt: &header::LongPacket<'_>) -> Option<Vec<u8>> {
    let v = pkt.header.version;
    crypto::initial_params(v)?;
    let own = Cid::new(pkt.header.dcid)?;
    if own.len == 0 {
        // A server's Initial (the client chose no connection ID): not ours to open.
        return None;
    }
    let first = *state.dcid.get_or_insert(own);
    let mut candidates = [Some(first), (own != first).then_some(own)];
    for cid in candidates.iter_mut().flatten() {
        let keys = cached_keys(&mut state.keys, v, *cid, Side::Client)?;
        if let Some(plain) = crypto::open_long(d, pkt, keys) {
            state.dcid = Some(*cid);
            return Some(plain);
        }
    }
    None
}

/// `side`'s Initial keys in version `v` for connection ID `cid`, derived only when `cache`
/// holds another version's or connection ID's.
fn cached_keys(
    cache: &mut Option<(u32, Cid, InitialKeys)>,
    v: u32,
    cid: Cid,
    side: Side,
) -> Option<&InitialKeys> {
    if !matches!(cache, Some((kv, kc, _)) if *kv == v && *kc == cid) {
        *cache = Some((v, cid, crypto::initial_keys(v, cid.as_slice(), side)?));
    }
    cache.as_ref().map(|(_, _, keys)| keys)
}

/// Reads a complete client handshake message: a TLS ClientHello, or a Google QUIC `CHLO`.
fn handshake_data(
    ins: &mut Inspect<'_>,
    state: &mut State,
    meta: &mut crate::metadata::Metadata,
    risks: &mut Vec<&'static str>,
    v: u32,
    data: &[u8],
) -> bool {
    let tls = header::is_ietf(v) || matches!(v, version::T050 | version::T051);
    let (sni, user_agent) = if tls {
        let Some(hello) = parse_client_hello(data) else {
            return false;
        };
        client_hello(ins, meta, &hello);
        (
            hello.sni.map(<[u8]>::to_vec),
            transport_user_agent(&hello, v),
        )
    } else {
        let Some(chlo) = gquic::parse_chlo(data) else {
            return false;
        };
        (
            chlo.sni.map(<[u8]>::to_vec),
            chlo.user_agent.map(<[u8]>::to_vec),
        )
    };
    match sni.filter(|s| !s.is_empty()) {
        Some(s) => {
            let host = String::from_utf8_lossy(&s).to_ascii_lowercase();
            if host.parse::<std::net::IpAddr>().is_ok() {
                add_risk(risks, tls::RISK_NUMERIC_SNI);
            } else {
                ins.app_from_host(&host);
            }
            meta.set_str(&SNI, host);
        }
        None => add_risk(risks, RISK_MISSING_SNI),
    }
    if let Some(ua) = user_agent.filter(|u| !u.is_empty()) {
        meta.set_str(&USER_AGENT, String::from_utf8_lossy(&ua).into_owned());
    }
    state.hello_done = true;
    true
}

/// The ClientHello's ALPN (DNS over QUIC when it offers `doq`) and JA4 fingerprint.
fn client_hello(
    ins: &mut Inspect<'_>,
    meta: &mut crate::metadata::Metadata,
    hello: &ClientHello<'_>,
) {
    if !hello.alpn.is_empty() {
        let alpn: Vec<String> = hello
            .alpn
            .iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        if alpn.first().is_some_and(|a| a.starts_with("doq")) {
            if let Some(app) = ins.sigs.apps().iter().find(|a| a.name == "DoH_DoT") {
                ins.set_app(app.id);
            }
        }
        meta.set(&ALPN, MetaValue::List(alpn));
    }
    meta.set_str(&JA4, fingerprint::ja4(hello, true));
    // The ClientHello is TLS's: its JA3 is the TLS attribute, as the design has QUIC reuse
    // TLS's handshake attributes rather than repeat them.
    meta.set_str(&tls::JA3, fingerprint::ja3(hello));
}

/// The `google_user_agent` transport parameter of the ClientHello, if any.
fn transport_user_agent(hello: &ClientHello<'_>, v: u32) -> Option<Vec<u8>> {
    let ext = hello
        .extensions
        .iter()
        .find(|e| e.ext_type == EXT_TRANSPORT_PARAMS || e.ext_type == EXT_TRANSPORT_PARAMS_DRAFT)?;
    transport_param(
        ext.data,
        header::varint_transport_params(v),
        TP_GOOGLE_USER_AGENT,
    )
    .map(<[u8]>::to_vec)
}

/// A transport parameter's value. Since draft-27 parameters are (varint id, varint length,
/// value); before, a 16-bit list length, then 16-bit ids and lengths.
fn transport_param(data: &[u8], varints: bool, wanted: u64) -> Option<&[u8]> {
    let mut d = if varints {
        data
    } else {
        let len = usize::from(u16::from_be_bytes([*data.first()?, *data.get(1)?]));
        data.get(2..2 + len.min(data.len().saturating_sub(2)))?
    };
    while !d.is_empty() {
        let (id, len, at) = if varints {
            let (id, n) = header::varint(d)?;
            let (len, m) = header::varint(d.get(n..)?)?;
            (id, usize::try_from(len).ok()?, n + m)
        } else {
            let id = u16::from_be_bytes([*d.first()?, *d.get(1)?]);
            let len = u16::from_be_bytes([*d.get(2)?, *d.get(3)?]);
            (u64::from(id), usize::from(len), 4)
        };
        let value = d.get(at..at.checked_add(len)?)?;
        if id == wanted {
            return Some(value);
        }
        d = d.get(at + len..)?;
    }
    None
}

#[cfg(test)]
mod tests;
