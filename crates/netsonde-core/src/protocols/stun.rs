//! STUN and TURN (RFC 5389/8489, RFC 8656, classic RFC 3489): a 20-byte header (message
//! type, length, magic cookie, transaction id) followed by attributes that must fill the
//! length exactly. Classic messages have no cookie, so they also need a known message type.
//! Over TCP messages follow each other directly or behind a 2-byte length (RFC 4571).
//!
//! Addresses from (XOR-)MAPPED, RELAYED and PEER attributes and the SOFTWARE attribute are
//! kept. Calls usually carry RTP, RTCP or DTLS on the same 5-tuple: such packets neither
//! confirm nor exclude STUN, so a flow that opens with media is still recognised when its
//! STUN checks come.
//!
//! After the first STUN message the flow is followed for a few more packets (as nDPI does)
//! to see what the checks set up: a DTLS record turns it into DTLS (keeping the call's
//! application), RTP turns it into SRTP when the call's application is known (the media of
//! every application nDPI names is encrypted) and into "STUN.RTP" otherwise.

use super::wire::{be16, be32, slice, u8_at};
use super::{id, Dissector, DissectorState, Inspect, ProtoState, Transports, Verdict};
use crate::attrs;
use crate::record::MetaValue;

attrs! {
    pub SOFTWARE = "stun.software", Str, Identifier, "SOFTWARE attribute (client or server implementation)";
    pub MAPPED = "stun.mapped_address", StrList, Identifier, "Reflexive addresses from (XOR-)MAPPED-ADDRESS";
    pub RELAYED = "stun.relayed_address", StrList, Identifier, "TURN relayed addresses from XOR-RELAYED-ADDRESS";
    pub PEER = "stun.peer_address", StrList, Identifier, "TURN peer addresses from XOR-PEER-ADDRESS";
    pub REALM = "stun.realm", Str, Identifier, "REALM attribute of a TURN server";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[&SOFTWARE, &MAPPED, &RELAYED, &PEER, &REALM];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::STUN,
    transports: Transports::TCP_UDP,
    tcp_ports: &[3478, 3479, 5349],
    udp_ports: &[3478, 3479, 3480, 3481, 5349, 19302, 19305],
    inspect,
};

pub const MAGIC_COOKIE: u32 = 0x2112_A442;
const HEADER_LEN: usize = 20;
/// Addresses kept per attribute kind.
const MAX_ADDRESSES: usize = 8;
/// Messages examined for metadata after confirmation.
const MAX_MESSAGES: u16 = 12;

/// Message types of classic STUN (RFC 3489): binding and shared-secret requests and their
/// answers.
const CLASSIC_TYPES: [u16; 6] = [0x0001, 0x0101, 0x0111, 0x0002, 0x0102, 0x0112];

/// Packets after the first STUN message in which the media the checks set up is looked
/// for; a DTLS handshake gets more room (retransmissions, fragments).
const MEDIA_WINDOW: u16 = 6;
const DTLS_WINDOW: u16 = 10;

/// How the application of a STUN flow was named, strongest last.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StunApp {
    #[default]
    None,
    ByIp,
    ByRealm,
    ByAttribute,
}

/// What a STUN flow carries after its checks, as far as the flow was followed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Media {
    #[default]
    None,
    /// RTP without a known application: "STUN.RTP".
    Rtp,
    /// RTP of a known application: "SRTP.App".
    Srtp,
    /// A DTLS record: "DTLS" (or "DTLS.App").
    Dtls,
}

/// Per-flow state once STUN is confirmed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct State {
    pub app: StunApp,
    /// Payload packet number of the first STUN message.
    pub first: u16,
    /// Payload packet number of the latest STUN message.
    pub last: u16,
    pub media: Media,
}

/// Google's documented media ranges for Meet (the only Google addresses nDPI takes as a
/// Google call): 74.125.250.0/24, 142.250.82.0/24, 2001:4860:4864:5::/64 and
/// 2001:4860:4864:6::/64.
pub fn google_call_address(version: u8, ip: &[u8; 16]) -> bool {
    if version == 4 {
        matches!(ip, [74, 125, 250, ..] | [142, 250, 82, ..])
    } else {
        matches!(ip, [0x20, 0x01, 0x48, 0x60, 0x48, 0x64, 0, 5 | 6, ..])
    }
}

/// Whether the datagram is RTP (not RTCP), as media set up by the checks.
fn is_rtp(d: &[u8]) -> bool {
    super::rtp::rtp_header(d).is_some() && !super::rtp::is_rtcp(d)
}

/// Follows a confirmed STUN flow's media within the window: DTLS records turn it into
/// DTLS, RTP into SRTP (application known) or STUN.RTP.
fn follow_media(ins: &mut Inspect<'_>, s: &mut State) {
    if s.media != Media::Dtls && super::dtls::records(ins.data).is_some() {
        ins.detect(id::DTLS);
        if s.media == Media::Rtp {
            ins.set_sub_protocol(id::SRTP);
        }
        s.media = Media::Dtls;
    } else if is_rtp(ins.data) {
        match (s.media, s.app) {
            (Media::Dtls, StunApp::None) => ins.set_sub_protocol(id::SRTP),
            (Media::None | Media::Rtp, StunApp::None) => {
                ins.set_sub_protocol(id::RTP);
                s.media = Media::Rtp;
            }
            (Media::None | Media::Rtp, _) => {
                ins.detect(id::SRTP);
                s.media = Media::Srtp;
            }
            _ => {}
        }
    }
}

/// A recognised STUN message.
#[derive(Debug, PartialEq, Eq)]
pub struct Message<'a> {
    pub msg_type: u16,
    pub cookie: bool,
    pub transaction: &'a [u8],
    pub attributes: &'a [u8],
}

impl Message<'_> {
    /// Length of the whole message.
    pub fn len(&self) -> usize {
        HEADER_LEN + self.attributes.len()
    }

    pub fn is_empty(&self) -> bool {
        false
    }
}

/// Whether an attribute header at `at` fits in `attrs` with its value.
fn fits(attrs: &[u8], at: usize) -> bool {
    at == attrs.len() || be16(attrs, at + 2).is_some_and(|l| at + 4 + usize::from(l) <= attrs.len())
}

/// Walks TLV attributes, calling `f(type, value)` for each; returns whether they fill
/// `attrs` exactly. Values are padded to 4 bytes, except in old MS-TURN messages; where the
/// padded position cannot hold the next attribute, the unpadded one is tried.
fn walk(attrs: &[u8], mut f: impl FnMut(u16, &[u8])) -> bool {
    let mut at = 0;
    while at < attrs.len() {
        let (Some(t), Some(l)) = (be16(attrs, at), be16(attrs, at + 2)) else {
            return false;
        };
        let l = usize::from(l);
        let Some(v) = slice(attrs, at + 4, l) else {
            return false;
        };
        f(t, v);
        let unpadded = at + 4 + l;
        let padded = at + 4 + l.div_ceil(4) * 4;
        at = if fits(attrs, padded) || !fits(attrs, unpadded) {
            padded
        } else {
            unpadded
        };
    }
    at == attrs.len()
}

/// Parses the STUN message at the start of `d`.
pub fn parse(d: &[u8]) -> Option<Message<'_>> {
    let msg_type = be16(d, 0)?;
    let len = usize::from(be16(d, 2)?);
    // The two top bits of the type are zero.
    if msg_type & 0xC000 != 0 {
        return None;
    }
    // Classic messages need a known type and a length in words; with the cookie some
    // stacks (WhatsApp, Teams) leave their last attribute unpadded.
    let cookie = be32(d, 4)? == MAGIC_COOKIE;
    if !cookie && (!CLASSIC_TYPES.contains(&msg_type) || len % 4 != 0) {
        return None;
    }
    let attributes = slice(d, HEADER_LEN, len)?;
    if !walk(attributes, |_, _| {}) {
        return None;
    }
    Some(Message {
        msg_type,
        cookie,
        transaction: slice(d, 8, 12)?,
        attributes,
    })
}

/// Decodes a (XOR-)address attribute value as `ip:port` (`[ip]:port` for IPv6).
pub fn address(v: &[u8], xor: bool, transaction: &[u8]) -> Option<String> {
    let family = u8_at(v, 1)?;
    let mut port = be16(v, 2)?;
    let cookie = MAGIC_COOKIE.to_be_bytes();
    if xor {
        port ^= (MAGIC_COOKIE >> 16) as u16;
    }
    match family {
        1 => {
            let mut a: [u8; 4] = slice(v, 4, 4)?.try_into().ok()?;
            if xor {
                for (b, k) in a.iter_mut().zip(cookie) {
                    *b ^= k;
                }
            }
            Some(format!("{}:{port}", std::net::Ipv4Addr::from(a)))
        }
        2 => {
            let mut a: [u8; 16] = slice(v, 4, 16)?.try_into().ok()?;
            if xor {
                let key = cookie.iter().chain(transaction.iter());
                for (b, k) in a.iter_mut().zip(key) {
                    *b ^= k;
                }
            }
            Some(format!("[{}]:{port}", std::net::Ipv6Addr::from(a)))
        }
        _ => None,
    }
}

/// TURN ChannelData: channel number 0x4000-0x7FFF, length, data.
fn channel_data_len(d: &[u8]) -> Option<usize> {
    let channel = be16(d, 0)?;
    let len = usize::from(be16(d, 2)?);
    ((0x4000..=0x7FFF).contains(&channel) && 4 + len <= d.len()).then_some(4 + len)
}

/// RTP/RTCP (version 2) or DTLS records: media that shares the 5-tuple with STUN checks.
fn looks_like_media(d: &[u8]) -> bool {
    match d.first() {
        Some(0x80..=0xBF) => d.len() >= 8,
        Some(20..=63) => d.get(1) == Some(&0xFE),
        _ => false,
    }
}

fn push_addr(st: &mut DissectorState<'_>, spec: &'static crate::metadata::AttrSpec, a: String) {
    let mut list = match st.meta.get(spec) {
        Some(MetaValue::List(l)) => l.clone(),
        _ => Vec::new(),
    };
    if list.len() < MAX_ADDRESSES && !list.contains(&a) {
        list.push(a);
        st.meta.replace(spec, MetaValue::List(list));
    }
}

/// The call application that a vendor-specific attribute type reveals: WhatsApp's
/// 0x4000-0x4007 range, Microsoft's MS-IMPLEMENTATION-VERSION (Skype, Teams).
pub fn app_by_attribute(t: u16) -> Option<&'static str> {
    match t {
        0x4000..=0x4007 => Some("WhatsAppCall"),
        0x8070 => Some("Skype_TeamsCall"),
        _ => None,
    }
}

/// The call application of a service recognised by the TURN realm or the peer's address.
pub fn call_app_of(service: &str) -> Option<&'static str> {
    Some(match service {
        "WhatsApp" => "WhatsAppCall",
        "Signal" => "SignalVoip",
        "Telegram" => "TelegramVoip",
        "Skype_Teams" | "Teams" => "Skype_TeamsCall",
        "Google" | "GoogleServices" => "GoogleCall",
        "Viber" => "ViberVoip",
        "Zoom" => "Zoom",
        _ => return None,
    })
}

/// Keeps a message's attributes; returns a REALM seen for the first time and the call
/// application named by a vendor attribute.
fn record(
    msg: &Message<'_>,
    st: &mut DissectorState<'_>,
) -> (Option<String>, Option<&'static str>) {
    let mut realm = None;
    let mut hint = None;
    let mut found: Vec<(&'static crate::metadata::AttrSpec, String)> = Vec::new();
    walk(msg.attributes, |t, v| {
        if hint.is_none() {
            hint = app_by_attribute(t);
        }
        let xor = matches!(t, 0x0020 | 0x8020 | 0x0016 | 0x0012);
        let spec = match t {
            0x0001 | 0x0020 | 0x8020 => Some(&MAPPED),
            0x0016 => Some(&RELAYED),
            0x0012 => Some(&PEER),
            0x8022 => {
                found.push((&SOFTWARE, super::wire::text(v)));
                None
            }
            0x0014 => {
                found.push((&REALM, super::wire::text(v)));
                None
            }
            _ => None,
        };
        if let Some(spec) = spec {
            // MAPPED-ADDRESS of a classic message is not XORed; 0x8020 is the pre-RFC
            // XOR-MAPPED-ADDRESS.
            if let Some(a) = address(v, xor && (msg.cookie || t == 0x8020), msg.transaction) {
                found.push((spec, a));
            }
        }
    });
    for (spec, value) in found {
        if std::ptr::eq(spec, &REALM) && !st.meta.has(&REALM) {
            realm = Some(value.clone());
        }
        match spec.ty {
            crate::metadata::AttrType::StrList => push_addr(st, spec, value),
            _ if !value.is_empty() => st.set_str(spec, value),
            _ => {}
        }
    }
    (realm, hint)
}

/// Names the call application: a vendor attribute first, then the TURN realm's service,
/// then the service owning the peer's address. Returns whether one was set.
fn name_app(ins: &mut Inspect<'_>, hint: Option<&'static str>, realm: Option<&str>) -> bool {
    let sigs = ins.sigs;
    let by_service = |id: Option<crate::classify::AppId>| {
        id.and_then(|a| sigs.app(a))
            .and_then(|a| call_app_of(&a.name))
    };
    // Google's addresses serve far more than calls: only its Meet media ranges name one.
    let f = ins.flow;
    let google_call = google_call_address(f.ip_version, &f.server_ip)
        || google_call_address(f.ip_version, &f.client_ip);
    let by_ip = by_service(ins.app_by_ip()).filter(|&a| a != "GoogleCall" || google_call);
    let name = hint
        .or_else(|| by_service(realm.and_then(|r| sigs.match_host(r))))
        .or(by_ip);
    match name.and_then(|n| sigs.app_by_name(n)) {
        Some(app) => {
            ins.set_app(app);
            true
        }
        None => false,
    }
}

fn state_of(st: &DissectorState<'_>) -> Option<State> {
    match &*st.state {
        ProtoState::Stun(s, _) => Some(*s),
        _ => None,
    }
}

/// A DTLS handshake of the flow's media has started and has more to tell (the packet
/// budget of the flow still bounds how long it is followed).
fn dtls_in_progress(st: &DissectorState<'_>) -> bool {
    matches!(&*st.state, ProtoState::Stun(_, Some(d)) if !d.finished())
}

/// The DTLS handshake state of the flow's media, taken out of the flow's state.
fn take_dtls(st: &mut DissectorState<'_>) -> Option<Box<super::dtls::State>> {
    match &mut *st.state {
        ProtoState::Stun(_, dtls) => dtls.take(),
        _ => None,
    }
}

fn set_app_state(st: &mut DissectorState<'_>, app: StunApp, first: u16) {
    let s = state_of(st).unwrap_or(State {
        first,
        last: first,
        ..State::default()
    });
    let dtls = take_dtls(st);
    *st.state = ProtoState::Stun(State { app, ..s }, dtls);
}

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    let tcp = ins.flow.l4 == 6;
    let confirmed = matches!(st.state, ProtoState::Stun(..));
    let mut data = ins.data;
    let mut consumed = 0;
    let mut seen = false;
    // TCP may carry several messages, framed or not.
    loop {
        let (framed, msg) = if tcp {
            match parse(data) {
                Some(m) => (0, Some(m)),
                None => {
                    let framed = be16(data, 0)
                        .map(usize::from)
                        .and_then(|n| data.get(2..2 + n))
                        .and_then(parse);
                    (2, framed)
                }
            }
        } else {
            (0, parse(data))
        };
        let Some(msg) = msg else {
            break;
        };
        // One datagram is one message.
        if !tcp && msg.len() != data.len() {
            break;
        }
        seen = true;
        let (realm, hint) = record(&msg, st);
        // A vendor attribute or the TURN server's domain names the service behind it.
        let attributed = state_of(st).is_some_and(|s| s.app == StunApp::ByAttribute);
        if hint.is_some() || (realm.is_some() && !attributed) {
            let named = name_app(ins, hint, realm.as_deref());
            if named && hint.is_some() {
                set_app_state(st, StunApp::ByAttribute, ins.packet_no);
            } else if named {
                set_app_state(st, StunApp::ByRealm, ins.packet_no);
            } else if let Some(realm) = realm {
                if ins.app_from_host(&realm) {
                    set_app_state(st, StunApp::ByRealm, ins.packet_no);
                }
            }
        }
        let n = framed + msg.len();
        consumed += n;
        data = data.get(n..).unwrap_or_default();
        if !tcp || data.is_empty() {
            break;
        }
    }
    if seen {
        if let ProtoState::Stun(s, _) = &mut *st.state {
            s.last = ins.packet_no;
        }
        // Checks go on beside the media: a flow that became DTLS or SRTP stays so.
        if state_of(st).map_or(true, |s| matches!(s.media, Media::None | Media::Rtp)) {
            ins.detect(id::STUN);
        }
        if !confirmed {
            // The service owning the peer's address, until better evidence comes.
            if !matches!(st.state, ProtoState::Stun(..)) {
                let by_ip = name_app(ins, None, None);
                let app = if by_ip { StunApp::ByIp } else { StunApp::None };
                set_app_state(st, app, ins.packet_no);
            }
        }
        if tcp {
            ins.consume(consumed);
        }
        return if ins.packet_no >= MAX_MESSAGES && !dtls_in_progress(st) {
            Verdict::Done
        } else {
            Verdict::Continue
        };
    }
    if confirmed {
        // The media the checks set up: DTLS keeps the call's application, RTP becomes SRTP
        // of the call or STUN.RTP.
        if let Some(mut s) = state_of(st).filter(|_| !tcp) {
            let window = MEDIA_WINDOW
                + if s.media == Media::Dtls {
                    DTLS_WINDOW
                } else {
                    0
                };
            // A DTLS handshake may start after checks that went on for longer (ICE repeats
            // them): one close to the latest check is followed as well.
            let dtls_after_checks = ins.packet_no.saturating_sub(s.last) <= MEDIA_WINDOW
                && super::dtls::records(ins.data).is_some();
            if ins.packet_no.saturating_sub(s.first) <= window
                || dtls_after_checks
                || dtls_in_progress(st)
            {
                follow_media(ins, &mut s);
                let mut dtls = take_dtls(st);
                if s.media == Media::Dtls {
                    super::dtls::follow(&mut dtls, ins, st);
                }
                *st.state = ProtoState::Stun(s, dtls);
            }
        }
        if tcp {
            ins.consume(channel_data_len(ins.data).unwrap_or(ins.data.len()));
        }
        return if ins.packet_no >= MAX_MESSAGES && !dtls_in_progress(st) {
            Verdict::Done
        } else {
            Verdict::Continue
        };
    }
    // Not STUN (yet): media may precede the checks; a partial TCP header may be arriving.
    if (!tcp && looks_like_media(ins.data)) || (tcp && ins.data.len() < HEADER_LEN) {
        return Verdict::Continue;
    }
    Verdict::Exclude
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::*;

    /// A binding success response with XOR-MAPPED-ADDRESS 192.0.2.1:32853 and SOFTWARE.
    fn binding_response() -> Vec<u8> {
        let mut m = vec![0x01, 0x01, 0, 0];
        m.extend_from_slice(&MAGIC_COOKIE.to_be_bytes());
        m.extend_from_slice(&[7u8; 12]);
        // XOR-MAPPED-ADDRESS: port 32853 ^ 0x2112, address 192.0.2.1 ^ cookie.
        let port = 32853u16 ^ 0x2112;
        let ip: Vec<u8> = [192u8, 0, 2, 1]
            .iter()
            .zip(MAGIC_COOKIE.to_be_bytes())
            .map(|(a, k)| a ^ k)
            .collect();
        m.extend_from_slice(&[0x00, 0x20, 0, 8, 0, 1]);
        m.extend_from_slice(&port.to_be_bytes());
        m.extend_from_slice(&ip);
        // SOFTWARE "test" (4 bytes, no padding needed).
        m.extend_from_slice(&[0x80, 0x22, 0, 4]);
        m.extend_from_slice(b"test");
        let len = (m.len() - HEADER_LEN) as u16;
        m[2..4].copy_from_slice(&len.to_be_bytes());
        m
    }

    #[test]
    fn parses_rfc5389_message_and_xor_address() {
        let m = binding_response();
        let msg = parse(&m).expect("valid");
        assert!(msg.cookie);
        assert_eq!(msg.msg_type, 0x0101);
        assert_eq!(msg.len(), m.len());
        let mut addrs = Vec::new();
        walk(msg.attributes, |t, v| {
            if t == 0x0020 {
                addrs.extend(address(v, true, msg.transaction));
            }
        });
        assert_eq!(addrs, vec!["192.0.2.1:32853".to_string()]);
        // Attributes that overrun the length are refused.
        let mut bad = m.clone();
        bad[23] = 12;
        assert!(parse(&bad).is_none());
        for n in 0..m.len() {
            assert!(parse(&m[..n]).is_none(), "prefix {n}");
        }
    }

    #[test]
    fn classic_needs_a_known_type() {
        // RFC 3489 binding request with CHANGE-REQUEST, no cookie.
        let mut m = vec![0x00, 0x01, 0x00, 0x08];
        m.extend_from_slice(&[0x94, 0x29, 0xef, 0x88, 0x29, 0x4d, 0xd5, 0x26]);
        m.extend_from_slice(&[0x32, 0xc7, 0x29, 0x31, 0xcb, 0x8d, 0xbb, 0x4c]);
        m.extend_from_slice(&[0x00, 0x03, 0x00, 0x04, 0, 0, 0, 0]);
        let msg = parse(&m).expect("classic");
        assert!(!msg.cookie);
        m[1] = 0x03;
        assert!(parse(&m).is_none());
    }

    #[test]
    fn ipv6_xor_address() {
        let txn = [1u8; 12];
        let ip: std::net::Ipv6Addr = "2001:db8::1".parse().expect("ip");
        let mut v = vec![0, 2];
        v.extend_from_slice(&(443u16 ^ 0x2112).to_be_bytes());
        let key: Vec<u8> = MAGIC_COOKIE
            .to_be_bytes()
            .iter()
            .chain(txn.iter())
            .copied()
            .collect();
        v.extend(ip.octets().iter().zip(key).map(|(a, k)| a ^ k));
        assert_eq!(
            address(&v, true, &txn).as_deref(),
            Some("[2001:db8::1]:443")
        );
    }

    #[test]
    fn vendor_attributes_name_the_call() {
        // A WhatsApp binding request: attribute 0x4000 (opaque), then XOR-MAPPED-ADDRESS.
        let mut m = vec![0x00, 0x01, 0, 0];
        m.extend_from_slice(&MAGIC_COOKIE.to_be_bytes());
        m.extend_from_slice(&[9u8; 12]);
        m.extend_from_slice(&[0x40, 0x00, 0, 4, 1, 2, 3, 4]);
        m.extend_from_slice(&[0x00, 0x20, 0, 8, 0, 1, 0x2c, 0x84, 0x7c, 0x2b, 0xdf, 0xa1]);
        let len = (m.len() - HEADER_LEN) as u16;
        m[2..4].copy_from_slice(&len.to_be_bytes());
        let msg = parse(&m).expect("valid");
        let mut hint = None;
        walk(msg.attributes, |t, _| hint = hint.or(app_by_attribute(t)));
        assert_eq!(hint, Some("WhatsAppCall"));
        assert_eq!(app_by_attribute(0x8070), Some("Skype_TeamsCall"));
        assert_eq!(app_by_attribute(0x0020), None);
        assert_eq!(app_by_attribute(0xc057), None);
        assert_eq!(call_app_of("Signal"), Some("SignalVoip"));
        assert_eq!(call_app_of("Telegram"), Some("TelegramVoip"));
        assert_eq!(call_app_of("Zoom"), Some("Zoom"));
        assert_eq!(call_app_of("NetFlix"), None);
    }
    fn rtp(seq: u8) -> Vec<u8> {
        let mut p = vec![0x80, 0x00, 0x12, seq, 0, 0, 0, 160, 0xde, 0xad, 0xbe, 0xef];
        p.extend_from_slice(&[0x55; 160]);
        p
    }

    const DTLS_APP_DATA: [u8; 17] = [23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 1, 0, 4, 1, 2, 3, 4];

    fn whatsapp_request() -> Vec<u8> {
        let mut m = vec![0x00, 0x01, 0, 8];
        m.extend_from_slice(&MAGIC_COOKIE.to_be_bytes());
        m.extend_from_slice(&[9u8; 12]);
        m.extend_from_slice(&[0x40, 0x00, 0, 4, 1, 2, 3, 4]);
        m
    }

    #[test]
    fn rtp_after_checks() {
        use crate::protocols::harness::Conv;
        // No application: STUN.RTP.
        let mut c = Conv::udp(&DISSECTOR, 40000, 13958);
        c.server(&binding_response()).server(&rtp(1));
        assert_eq!(c.name(), "STUN.RTP");
        // The call's application known: its media is SRTP, and later checks keep it so.
        let mut c = Conv::udp(&DISSECTOR, 40000, 13958);
        c.client(&whatsapp_request()).client(&rtp(1));
        assert_eq!(c.name(), "SRTP.WhatsAppCall");
        c.server(&binding_response());
        assert_eq!(c.name(), "SRTP.WhatsAppCall");
        // Media past the window does not count.
        let mut c = Conv::udp(&DISSECTOR, 40000, 13958);
        c.server(&binding_response());
        for _ in 0..MEDIA_WINDOW {
            c.client(&[0x17; 30]);
        }
        c.server(&rtp(1));
        assert_eq!(c.name(), "STUN");
    }

    #[test]
    fn dtls_after_checks() {
        use crate::protocols::harness::Conv;
        let mut c = Conv::udp(&DISSECTOR, 40000, 3478);
        c.client(&whatsapp_request()).client(&DTLS_APP_DATA);
        assert_eq!(c.name(), "DTLS.WhatsAppCall");
        c.server(&binding_response()).client(&rtp(2));
        assert_eq!(c.name(), "DTLS.WhatsAppCall");
        // STUN.RTP then DTLS: DTLS carrying SRTP.
        let mut c = Conv::udp(&DISSECTOR, 40000, 3478);
        c.server(&binding_response())
            .server(&rtp(1))
            .client(&DTLS_APP_DATA);
        assert_eq!(c.name(), "DTLS.SRTP");
        let mut c = Conv::udp(&DISSECTOR, 40000, 3478);
        c.server(&binding_response()).client(&DTLS_APP_DATA);
        assert_eq!(c.name(), "DTLS");
    }

    #[test]
    fn the_media_dtls_handshake_gives_its_metadata_past_the_checks_window() {
        use crate::protocols::dtls::tests::{dtls_client_hello, fragments};
        use crate::protocols::harness::Conv;
        let mut c = Conv::udp(&DISSECTOR, 40000, 3478);
        c.server(&binding_response());
        // The ClientHello starts in the window; checks go on; its last fragments come after.
        let parts = fragments(1, 0, &dtls_client_hello(), 60);
        c.client(&parts[0]);
        for _ in 0..MAX_MESSAGES {
            c.server(&binding_response());
        }
        assert_eq!(c.meta(&crate::protocols::tls::SNI), None);
        for part in &parts[1..] {
            c.client(part);
        }
        assert_eq!(c.name(), "DTLS");
        assert_eq!(
            c.meta(&crate::protocols::tls::SNI).as_deref(),
            Some("example.com")
        );
    }

    #[test]
    fn google_call_ranges() {
        let mut ip = [0u8; 16];
        ip[..4].copy_from_slice(&[142, 250, 82, 76]);
        assert!(google_call_address(4, &ip));
        ip[..4].copy_from_slice(&[172, 253, 121, 127]);
        assert!(!google_call_address(4, &ip));
        let v6: std::net::Ipv6Addr = "2001:4860:4864:5::81".parse().expect("ip");
        assert!(google_call_address(6, &v6.octets()));
        let v6: std::net::Ipv6Addr = "2001:4860:4864:7::81".parse().expect("ip");
        assert!(!google_call_address(6, &v6.octets()));
    }
}
