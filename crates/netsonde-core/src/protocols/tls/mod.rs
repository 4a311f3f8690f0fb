//! TLS over TCP on any port: records, handshake messages reassembled across records and
//! segments, ClientHello and ServerHello metadata, JA3/JA3S/JA4 fingerprints, and the server
//! certificate (TLS 1.2 and earlier: TLS 1.3 encrypts it).
//!
//! Confirmed by the headers of a ClientHello or ServerHello at the start of a direction (record
//! type and version, handshake type and length, hello version: a hello whose body is broken
//! still names a TLS peer), by an SSL 2.0-format ClientHello, or, for captures that begin
//! mid-connection, by records that follow one another exactly to the end of the data.
//! Metadata only comes from hellos that parse whole. [`client_hello_metadata`] is shared with
//! QUIC, whose ClientHello travels in CRYPTO frames.

pub mod ciphers;
pub mod fingerprint;
pub mod parser;
pub mod x509;

use sha1::{Digest, Sha1};

use super::{id, Dissector, DissectorState, Inspect, ProtoState, Transports, Verdict};
use crate::attrs;
use crate::classify::signatures::{AppId, SignatureSet};
use crate::classify::{Dir, ProtoId};
use crate::record::MetaValue;
use crate::text::colon_hex_upper;
use parser::{ClientHello, Error, ServerHello};

attrs! {
    pub SNI = "tls.sni", Str, Identifier, "Server name the client asked for (server_name extension)";
    pub ALPN = "tls.alpn", StrList, Usage, "Application protocols the client offered (ALPN), in order";
    pub NEGOTIATED_ALPN = "tls.negotiated_alpn", Str, Usage, "Application protocol the server chose (ALPN)";
    pub SUPPORTED_VERSIONS = "tls.supported_versions", StrList, Service, "Versions the client offered (supported_versions extension)";
    pub VERSION = "tls.version", Str, Service, "Negotiated version (TLSv1.2, TLSv1.3, …)";
    pub CIPHER = "tls.cipher", Str, Security, "Negotiated cipher suite, IANA name";
    pub JA3 = "tls.ja3", Str, Identifier, "JA3 fingerprint of the ClientHello (MD5, GREASE removed)";
    pub JA3S = "tls.ja3s", Str, Identifier, "JA3S fingerprint of the ServerHello (MD5)";
    pub JA4 = "tls.ja4", Str, Identifier, "JA4 fingerprint of the ClientHello (FoxIO)";
    pub SUBJECT = "tls.subject", Str, Identifier, "Subject of the server certificate (C, ST, L, O, OU, CN)";
    pub ISSUER = "tls.issuer", Str, Identifier, "Issuer of the server certificate (C, ST, L, O, OU, CN)";
    pub CERT_SHA1 = "tls.cert_sha1", Str, Identifier, "SHA-1 of the server certificate (DER), upper-case hex with colons";
    pub NOT_BEFORE = "tls.not_before", Str, Security, "Server certificate valid from (UTC, YYYY-MM-DD HH:MM:SS)";
    pub NOT_AFTER = "tls.not_after", Str, Security, "Server certificate valid until (UTC, YYYY-MM-DD HH:MM:SS)";
    pub SAN = "tls.san", StrList, Identifier, "DNS names of the server certificate's subject alternative names";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[
    &SNI,
    &ALPN,
    &NEGOTIATED_ALPN,
    &SUPPORTED_VERSIONS,
    &VERSION,
    &CIPHER,
    &JA3,
    &JA3S,
    &JA4,
    &SUBJECT,
    &ISSUER,
    &CERT_SHA1,
    &NOT_BEFORE,
    &NOT_AFTER,
    &SAN,
];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::TLS,
    transports: Transports::TCP,
    tcp_ports: &[
        443, 8443, 993, 995, 465, 853, 5061, 636, 989, 990, 992, 994, 4443, 6697,
    ],
    udp_ports: &[],
    inspect,
};

pub use crate::risks::{
    EXPIRED_CERTIFICATE as RISK_EXPIRED, NUMERIC_IP_SNI as RISK_NUMERIC_SNI,
    OBSOLETE_TLS_VERSION as RISK_OBSOLETE_VERSION, SELF_SIGNED_CERTIFICATE as RISK_SELF_SIGNED,
    WEAK_TLS_CIPHER as RISK_WEAK_CIPHER,
};

/// Handshake bytes buffered per direction while a message is incomplete.
const MAX_HANDSHAKE_BUF: usize = 64 * 1024;

#[derive(Default, Debug)]
struct DirState {
    /// Handshake-record payload not yet parsed into messages.
    hs: Vec<u8>,
    /// ChangeCipherSpec or application data seen: later records are ciphertext.
    encrypted: bool,
    /// Data that is not TLS records (or a message past the bound): stop reading this side.
    stopped: bool,
}

/// Per-flow TLS state. Dissectors of protocols that switch to TLS mid-stream (STARTTLS in
/// SMTP, IMAP, POP3, FTP; RDP) can keep one in their own state and hand it the bytes that
/// follow the switch with [`State::feed`], to get the same `tls.*` metadata.
#[derive(Default, Debug)]
pub struct State {
    dirs: [DirState; 2],
    client_hello: bool,
    server_hello: bool,
    /// Negotiated version, once the ServerHello is seen.
    version: Option<u16>,
    /// The direction the ServerHello came from.
    server_dir: Option<usize>,
    certificate: bool,
    server_done: bool,
    /// An application was set from the SNI.
    app_from_sni: bool,
    /// The handshake is DTLS's (JA4 starts with `d`).
    datagram: bool,
}

/// TLS 1.3 (final, drafts, Facebook's Fizz) or DTLS 1.3: certificates are encrypted.
fn is_tls13(v: u16) -> bool {
    matches!(v, 0x0304 | 0xfb1a | 0xfefc) || v >> 8 == 0x7f
}

impl State {
    /// Reads the complete records at the start of `data` (one direction's stream) and sets
    /// the metadata they carry; returns the bytes read, to be consumed.
    pub fn feed(
        &mut self,
        data: &[u8],
        dir: Dir,
        st: &mut DissectorState,
        ins: &mut Inspect,
    ) -> usize {
        read_records(data, dir, self, st, ins)
    }

    /// The state of a DTLS handshake, whose records and fragments DTLS reads itself and
    /// hands over as whole messages with [`State::handshake_message`].
    pub fn datagram() -> State {
        State {
            datagram: true,
            ..State::default()
        }
    }

    /// Handles one whole handshake message (type and body) sent in direction `dir`.
    pub fn handshake_message(
        &mut self,
        msg_type: u8,
        body: &[u8],
        dir: Dir,
        st: &mut DissectorState,
        ins: &mut Inspect,
    ) {
        let hs = parser::Handshake { msg_type, body };
        message(hs, dir as usize, self, st, ins);
    }

    /// Direction `dir` sent ChangeCipherSpec: what follows from it is ciphertext.
    pub fn encrypted_from(&mut self, dir: Dir) {
        if let Some(d) = self.dirs.get_mut(dir as usize) {
            d.encrypted = true;
        }
    }

    /// Nothing more to learn: hellos and certificate seen, or both sides encrypted.
    pub fn finished(&self) -> bool {
        let both_encrypted = self.dirs.iter().all(|d| d.encrypted || d.stopped);
        let server_finished =
            self.certificate || self.server_done || self.version.is_some_and(is_tls13);
        both_encrypted || (self.client_hello && self.server_hello && server_finished)
    }
}

/// nDPI's name of a TLS version value.
pub fn version_name(v: u16) -> String {
    match v {
        0x0300 => "SSLv3".into(),
        0x0301 => "TLSv1".into(),
        0x0302 => "TLSv1.1".into(),
        0x0303 => "TLSv1.2".into(),
        0x0304 => "TLSv1.3".into(),
        0xfb1a => "TLSv1.3 (Fizz)".into(),
        0xfeff => "DTLSv1.0".into(),
        0xfefd => "DTLSv1.2".into(),
        0xfefc => "DTLSv1.3".into(),
        parser::DTLS_OPENSSL_PRE_STANDARD => "DTLSv1.0 (OpenSSL pre 0.9.8f)".into(),
        v if v >> 8 == 0x7f => "TLSv1.3 (draft)".into(),
        v if parser::is_grease(v) => "GREASE".into(),
        v => format!("TLS ({v:04X})"),
    }
}

/// Whether a host name is a literal IPv4 or IPv6 address.
fn is_ip_literal(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.parse::<std::net::IpAddr>().is_ok()
}

/// The application an ALPN value names when the SNI did not: AnyDesk offers
/// `anydesk/<version>/<platform>`; DNS over TLS and over QUIC offer `dot` and `doq` (RFC 9250).
fn alpn_app(alpn: &[u8]) -> Option<&'static str> {
    if alpn.starts_with(b"anydesk/") {
        Some("AnyDesk")
    } else if alpn == b"dot" || alpn == b"doq" || alpn.starts_with(b"doq-i") {
        Some("DoH_DoT")
    } else {
        None
    }
}

/// Sets the ClientHello's metadata (SNI and the application it names, ALPN, supported
/// versions, JA3, JA4) and risks; QUIC calls this with `quic = true`.
pub fn client_hello_metadata(
    hello: &ClientHello,
    quic: bool,
    st: &mut DissectorState,
    ins: &mut Inspect,
) -> bool {
    client_hello_metadata_as(hello, if quic { 'q' } else { 't' }, st, ins)
}

/// [`client_hello_metadata`] for a transport given by its JA4 letter (`t`, `q`, `d`).
fn client_hello_metadata_as(
    hello: &ClientHello,
    transport: char,
    st: &mut DissectorState,
    ins: &mut Inspect,
) -> bool {
    let mut app = false;
    if let Some(sni) = hello.sni_str() {
        let sni = sni.to_ascii_lowercase();
        if is_ip_literal(&sni) {
            st.risk(RISK_NUMERIC_SNI);
        } else {
            app = ins.app_from_host(&sni);
        }
        st.set_str(&SNI, sni);
    }
    if !hello.alpn.is_empty() {
        let list = hello
            .alpn
            .iter()
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .collect();
        st.set(&ALPN, MetaValue::List(list));
        if !app {
            if let Some(name) = hello.alpn.iter().find_map(|p| alpn_app(p)) {
                if let Some(id) = ins.sigs.app_by_name(name) {
                    ins.set_app(id);
                    app = true;
                }
            }
        }
    }
    if !hello.supported_versions.is_empty() {
        let list = hello
            .supported_versions
            .iter()
            .map(|&v| version_name(v))
            .collect();
        st.set(&SUPPORTED_VERSIONS, MetaValue::List(list));
    }
    st.set_str(&JA3, fingerprint::ja3(hello));
    st.set_str(&JA4, fingerprint::ja4_with_proto(hello, transport));
    app
}

/// Sets the ServerHello's metadata (version, cipher, JA3S, chosen ALPN) and risks, TLS's
/// or QUIC's.
pub fn server_hello_metadata(
    hello: &ServerHello,
    meta: &mut crate::metadata::Metadata,
    risks: &mut Vec<&'static str>,
) {
    let version = hello.negotiated_version();
    meta.set_str(&VERSION, version_name(version));
    meta.set_str(&CIPHER, ciphers::display_name(hello.cipher_suite));
    meta.set_str(&JA3S, fingerprint::ja3s(hello));
    if let Some(p) = hello.alpn {
        meta.set_str(&NEGOTIATED_ALPN, String::from_utf8_lossy(p).into_owned());
    }
    if version < 0x0303 && version >> 8 == 0x03 {
        crate::classify::add_risk(risks, RISK_OBSOLETE_VERSION);
    }
    if ciphers::strength(hello.cipher_suite) != ciphers::Strength::Safe {
        crate::classify::add_risk(risks, RISK_WEAK_CIPHER);
    }
}

/// Upper-case hex with colons, as certificate fingerprints are usually shown.
/// Sets the metadata of the server's first certificate.
fn certificate_metadata(der: &[u8], state: &mut State, st: &mut DissectorState, ins: &mut Inspect) {
    state.certificate = true;
    server_certificate(der, !state.app_from_sni, st, ins);
}

/// Sets the metadata (and risks) of a server's certificate, TLS's or DTLS's, and, when
/// `name_app`, the application its names give.
pub(crate) fn server_certificate(
    der: &[u8],
    name_app: bool,
    st: &mut DissectorState,
    ins: &mut Inspect,
) {
    st.set_str(&CERT_SHA1, colon_hex_upper(&Sha1::digest(der)));
    let Some(info) = x509::parse_certificate(der) else {
        return;
    };
    if !info.issuer.is_empty() {
        st.set_str(&ISSUER, info.issuer.clone());
    }
    if !info.subject.is_empty() {
        st.set_str(&SUBJECT, info.subject.clone());
    }
    if let Some(t) = info.not_before {
        st.set_str(&NOT_BEFORE, x509::format_time(t));
    }
    if let Some(t) = info.not_after {
        st.set_str(&NOT_AFTER, x509::format_time(t));
    }
    if info.self_signed() {
        st.risk(RISK_SELF_SIGNED);
    }
    let now = ins.ts_ns.div_euclid(1_000_000_000);
    if let (Some(nb), Some(na)) = (info.not_before, info.not_after) {
        if now < nb || now > na {
            st.risk(RISK_EXPIRED);
        }
    }
    if name_app {
        // No SNI match: the certificate's names may still name the application.
        if let Some(app) = certificate_app(&info, ins.sigs) {
            ins.set_app(app);
        }
    }
    if !info.san.is_empty() {
        st.set(&SAN, MetaValue::List(info.san));
    }
}

/// The application a server certificate names, for a flow whose SNI named none: the
/// first of the subject alternative names that a pack knows, else the subject's common
/// name, else an organization written as a domain (`O=ntop.org`), else a subject name the
/// packs list as `cert_names` (a program's "AnyDesk Client", a company's "Cloudflare, Inc.":
/// a shared certificate of a content network names its customers' sites first).
fn certificate_app(info: &x509::CertInfo, sigs: &SignatureSet) -> Option<AppId> {
    let host_like = |s: &&String| s.contains('.') && !s.contains(' ');
    let by_host = |s: &String| sigs.match_host(s.trim_start_matches("*."));
    info.san
        .iter()
        .find_map(by_host)
        .or_else(|| info.subject_cn.iter().filter(host_like).find_map(by_host))
        .or_else(|| info.subject_org.iter().filter(host_like).find_map(by_host))
        .or_else(|| {
            info.subject_org
                .iter()
                .chain(&info.subject_cn)
                .find_map(|n| sigs.match_cert_name(n))
        })
}

/// What the first bytes of a direction say before the flow is confirmed.
#[derive(PartialEq, Eq, Debug)]
enum Probe {
    Tls,
    NeedMore,
    NotTls,
}

/// Checks that a direction's stream starts with TLS. A ClientHello or ServerHello (or an SSL
/// 2.0 ClientHello) is accepted on its headers even when cut short or malformed: record type
/// and version, handshake type and length, hello version. Without a hello (a capture that
/// starts mid-connection), records must follow one another exactly to the end of the data.
fn probe(d: &[u8]) -> Probe {
    let Some(&first) = d.first() else {
        return Probe::NeedMore;
    };
    if first & 0x80 != 0 {
        return match parser::parse_sslv2_client_hello(d) {
            Ok(_) => Probe::Tls,
            Err(Error::Incomplete) => Probe::NeedMore,
            Err(Error::Invalid) => Probe::NotTls,
        };
    }
    if !(parser::CT_CHANGE_CIPHER_SPEC..=parser::CT_HEARTBEAT).contains(&first) {
        return Probe::NotTls;
    }
    let len = match parser::record_header(d) {
        Ok((_, _, len)) => len,
        Err(Error::Incomplete) => {
            // Check what is there: version major and minor.
            let ok = d.get(1).map_or(true, |&b| b == 3) && d.get(2).map_or(true, |&b| b <= 4);
            return if ok { Probe::NeedMore } else { Probe::NotTls };
        }
        Err(Error::Invalid) => return Probe::NotTls,
    };
    if first == parser::CT_HANDSHAKE {
        if let Some(p) = probe_hello(d, len) {
            return p;
        }
        // Not a hello: judge the record framing.
    }
    probe_framing(d)
}

/// Checks a hello at the start of a handshake record of payload length `len`; `None` when
/// the record does not start with a ClientHello or ServerHello.
fn probe_hello(d: &[u8], len: usize) -> Option<Probe> {
    let frag = d.get(parser::RECORD_HEADER_LEN..).unwrap_or_default();
    let frag = frag.get(..len).unwrap_or(frag);
    let msg_type = *frag.first()?;
    if msg_type != parser::HS_CLIENT_HELLO && msg_type != parser::HS_SERVER_HELLO {
        return None;
    }
    // Handshake header (4) and hello version (2), possibly cut across records.
    let [_, l0, l1, l2, v0, v1] = match handshake_prefix(d) {
        Ok(h) => h,
        Err(more) => return Some(if more { Probe::NeedMore } else { Probe::NotTls }),
    };
    let msg_len = usize::from(l0) << 16 | usize::from(l1) << 8 | usize::from(l2);
    let ok = (38..=0xffff).contains(&msg_len) && v0 == 3 && v1 <= 4;
    Some(if ok { Probe::Tls } else { Probe::NotTls })
}

/// The first 6 bytes of the handshake messages at the start of `d`. A sender may cut a
/// handshake message across records as short as one byte (an evasion as much as a right of
/// the protocol), so the leading handshake records are read on until there are 6 bytes.
/// `Err(true)`: more data is needed; `Err(false)`: the leading records cannot carry them.
fn handshake_prefix(d: &[u8]) -> Result<[u8; 6], bool> {
    let mut out = [0u8; 6];
    let mut n = 0usize;
    let mut off = 0usize;
    while n < out.len() {
        let rest = d.get(off..).unwrap_or_default();
        let len = match parser::record_header(rest) {
            Ok((parser::CT_HANDSHAKE, _, len)) if len > 0 => len,
            Ok(_) | Err(Error::Invalid) => return Err(false),
            Err(Error::Incomplete) => return Err(true),
        };
        let frag = rest.get(parser::RECORD_HEADER_LEN..).unwrap_or_default();
        let frag = frag.get(..len).unwrap_or(frag);
        for &b in frag {
            match out.get_mut(n) {
                Some(slot) => *slot = b,
                None => break,
            }
            n += 1;
        }
        if frag.len() < len && n < out.len() {
            return Err(true);
        }
        off += parser::RECORD_HEADER_LEN + len;
    }
    Ok(out)
}

/// Mid-connection data: whole records, each with a valid header, up to the end of the data
/// (a last record may be cut short once one record is whole).
fn probe_framing(d: &[u8]) -> Probe {
    let mut off = 0usize;
    let mut whole = 0usize;
    while let Some(rest) = d.get(off..).filter(|r| !r.is_empty()) {
        match parser::parse_record(rest) {
            Ok((rec, n)) => {
                let plausible = match rec.content_type {
                    parser::CT_CHANGE_CIPHER_SPEC => rec.fragment == [1],
                    _ => rec.fragment.len() >= 2,
                };
                if !plausible {
                    return Probe::NotTls;
                }
                off += n;
                whole += 1;
            }
            Err(Error::Incomplete) if whole > 0 => return Probe::Tls,
            Err(Error::Incomplete) => return Probe::NeedMore,
            Err(Error::Invalid) => return Probe::NotTls,
        }
    }
    Probe::Tls
}

/// The master protocol for TLS on well-known ports of other protocols (nDPI's refinement).
fn master_for_ports(ins: &Inspect) -> ProtoId {
    let ports = [ins.flow.client_port, ins.flow.server_port];
    if ports.iter().any(|&p| p == 465 || p == 587) {
        id::SMTPS
    } else if ports.contains(&993) {
        id::IMAPS
    } else if ports.contains(&995) {
        id::POPS
    } else {
        id::TLS
    }
}

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    if !matches!(st.state, ProtoState::Tls(_)) {
        match probe(ins.data) {
            Probe::NotTls => return Verdict::Exclude,
            Probe::NeedMore => return Verdict::Continue,
            Probe::Tls => {}
        }
        ins.detect(master_for_ports(ins));
        *st.state = ProtoState::Tls(Box::default());
    }
    let ProtoState::Tls(state) = &mut *st.state else {
        return Verdict::Done;
    };
    let mut state = std::mem::take(state);
    let consumed = state.feed(ins.data, ins.dir, st, ins);
    ins.consume(consumed);
    let finished = state.finished();
    if let ProtoState::Tls(slot) = &mut *st.state {
        *slot = state;
    }
    if finished {
        Verdict::Done
    } else {
        Verdict::Continue
    }
}

/// Reads the complete records at the start of `data`; returns the bytes read.
fn read_records(
    data: &[u8],
    dir: Dir,
    state: &mut State,
    st: &mut DissectorState,
    ins: &mut Inspect,
) -> usize {
    let d = dir as usize;
    let mut off = 0usize;
    while let Some(rest) = data.get(off..).filter(|r| !r.is_empty()) {
        if state.dirs.get(d).map_or(true, |s| s.stopped) {
            return data.len();
        }
        if off == 0 && rest.first().is_some_and(|b| b & 0x80 != 0) {
            // An SSL 2.0-format ClientHello opens the stream: nothing to fingerprint.
            match parser::parse_sslv2_client_hello(rest) {
                Ok((_, n)) => {
                    state.client_hello = true;
                    off += n;
                    continue;
                }
                Err(Error::Incomplete) => return off,
                Err(Error::Invalid) => {}
            }
        }
        match parser::parse_record(rest) {
            Ok((rec, n)) => {
                off += n;
                record(rec, d, state, st, ins);
            }
            Err(Error::Incomplete) => return off,
            Err(Error::Invalid) => {
                if let Some(s) = state.dirs.get_mut(d) {
                    s.stopped = true;
                }
                return data.len();
            }
        }
    }
    off
}

fn record(
    rec: parser::Record<'_>,
    d: usize,
    state: &mut State,
    st: &mut DissectorState,
    ins: &mut Inspect,
) {
    let Some(ds) = state.dirs.get_mut(d) else {
        return;
    };
    match rec.content_type {
        parser::CT_HANDSHAKE if !ds.encrypted => {
            if ds.hs.len() + rec.fragment.len() > MAX_HANDSHAKE_BUF {
                ds.stopped = true;
                ds.hs = Vec::new();
                return;
            }
            ds.hs.extend_from_slice(rec.fragment);
            let buf = std::mem::take(&mut ds.hs);
            let used = handshake_messages(&buf, d, state, st, ins);
            if let Some(ds) = state.dirs.get_mut(d) {
                ds.hs = buf;
                ds.hs.drain(..used.min(ds.hs.len()));
            }
        }
        parser::CT_CHANGE_CIPHER_SPEC | parser::CT_APPLICATION_DATA => ds.encrypted = true,
        _ => {}
    }
}

/// Handles the complete handshake messages at the start of `buf`; returns the bytes used.
fn handshake_messages(
    buf: &[u8],
    d: usize,
    state: &mut State,
    st: &mut DissectorState,
    ins: &mut Inspect,
) -> usize {
    let mut off = 0usize;
    while let Some(rest) = buf.get(off..).filter(|r| !r.is_empty()) {
        match parser::parse_handshake(rest) {
            Ok((hs, n)) => {
                off += n;
                message(hs, d, state, st, ins);
            }
            Err(_) => {
                // Incomplete: the first certificate may already be whole.
                if rest.first() == Some(&parser::HS_CERTIFICATE)
                    && !state.certificate
                    && state.server_dir == Some(d)
                {
                    if let Ok(der) = parser::first_certificate(rest.get(4..).unwrap_or_default()) {
                        certificate_metadata(der, state, st, ins);
                    }
                }
                break;
            }
        }
    }
    off
}

fn message(
    hs: parser::Handshake<'_>,
    d: usize,
    state: &mut State,
    st: &mut DissectorState,
    ins: &mut Inspect,
) {
    match hs.msg_type {
        parser::HS_CLIENT_HELLO if !state.client_hello => {
            if let Some(hello) = parser::parse_client_hello_body(hs.body) {
                state.client_hello = true;
                let transport = if state.datagram { 'd' } else { 't' };
                state.app_from_sni = client_hello_metadata_as(&hello, transport, st, ins);
            }
        }
        parser::HS_SERVER_HELLO if !state.server_hello => {
            if let Some(hello) = parser::parse_server_hello_body(hs.body) {
                state.server_hello = true;
                state.server_dir = Some(d);
                state.version = Some(hello.negotiated_version());
                server_hello_metadata(&hello, st.meta, st.risks);
            }
        }
        // The server's certificate: a client's (mutual TLS) is not the one reported.
        parser::HS_CERTIFICATE if !state.certificate && state.server_dir == Some(d) => {
            if state.version.is_some_and(is_tls13) {
                return;
            }
            if let Ok(der) = parser::first_certificate(hs.body) {
                certificate_metadata(der, state, st, ins);
            }
        }
        parser::HS_SERVER_HELLO_DONE => state.server_done = true,
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing)]
    use super::parser::tests::{client_hello_body, handshake, records, server_hello_body};
    use super::*;
    use crate::classify::{Dpi, FlowFacts, SignatureSet};

    fn facts() -> FlowFacts {
        FlowFacts {
            l4: 6,
            client_port: 50000,
            server_port: 8443,
            ip_version: 4,
            client_ip: [0; 16],
            server_ip: [0; 16],
        }
    }

    /// Feeds `stream` to the flow as TCP segments of `seg` bytes.
    fn feed(dpi: &mut Dpi, dir: Dir, stream: &[u8], seg: usize, seq: &mut u32, ts_ns: i64) {
        let sigs = SignatureSet::default();
        for chunk in stream.chunks(seg) {
            dpi.inspect(
                chunk,
                dir,
                facts(),
                Some((*seq, 0x18)),
                ts_ns,
                &sigs,
                &[&DISSECTOR],
                &mut crate::metadata::EventSink::silent(&mut Vec::new()),
            );
            *seq = seq.wrapping_add(chunk.len() as u32);
        }
    }

    fn meta(dpi: &Dpi, spec: &'static crate::metadata::AttrSpec) -> Option<String> {
        dpi.meta.get(spec).map(crate::protocols::harness::as_text)
    }

    #[test]
    fn hello_split_across_records_and_segments_then_certificate() {
        let mut dpi = Dpi::new(vec![0]);
        let ch = handshake(parser::HS_CLIENT_HELLO, &client_hello_body());
        let mut cseq = 1000u32;
        // 60-byte records cut into 37-byte segments: nothing lines up.
        feed(
            &mut dpi,
            Dir::ToServer,
            &records(22, &ch, 60),
            37,
            &mut cseq,
            0,
        );
        assert_eq!(dpi.class.master, id::TLS);
        assert_eq!(meta(&dpi, &SNI).as_deref(), Some("example.com"));
        assert_eq!(meta(&dpi, &ALPN).as_deref(), Some("h2,http/1.1"));
        assert_eq!(
            meta(&dpi, &SUPPORTED_VERSIONS).as_deref(),
            Some("GREASE,TLSv1.3,TLSv1.2")
        );
        let hello = parser::parse_client_hello(&ch).expect("hello");
        assert_eq!(meta(&dpi, &JA3), Some(fingerprint::ja3(&hello)));
        assert_eq!(meta(&dpi, &JA4), Some(fingerprint::ja4(&hello, false)));

        // Server: ServerHello and Certificate in one handshake stream, 100-byte records,
        // 500-byte segments; then a ChangeCipherSpec.
        let mut flight = handshake(parser::HS_SERVER_HELLO, &server_hello_body(0x002f, false));
        let cert = x509::tests::sample_certificate();
        let mut list = vec![0u8; 3];
        list.extend_from_slice(&(cert.len() as u32).to_be_bytes()[1..]);
        list.extend_from_slice(&cert);
        let n = (list.len() - 3) as u32;
        list[..3].copy_from_slice(&n.to_be_bytes()[1..]);
        flight.extend(handshake(parser::HS_CERTIFICATE, &list));
        let mut sseq = 5000u32;
        // 2024-01-01: after the certificate's validity.
        let ts = 1_704_067_200 * 1_000_000_000;
        feed(
            &mut dpi,
            Dir::ToClient,
            &records(22, &flight, 100),
            500,
            &mut sseq,
            ts,
        );
        assert_eq!(meta(&dpi, &VERSION).as_deref(), Some("TLSv1.2"));
        assert_eq!(
            meta(&dpi, &CIPHER).as_deref(),
            Some("TLS_RSA_WITH_AES_128_CBC_SHA")
        );
        assert_eq!(
            meta(&dpi, &ISSUER).as_deref(),
            Some("C=US, O=Let's Encrypt, CN=R3")
        );
        assert_eq!(meta(&dpi, &SUBJECT).as_deref(), Some("CN=example.com"));
        assert_eq!(
            meta(&dpi, &NOT_AFTER).as_deref(),
            Some("2023-08-27 13:13:27")
        );
        assert_eq!(
            meta(&dpi, &SAN).as_deref(),
            Some("example.com,*.example.com")
        );
        let sha = meta(&dpi, &CERT_SHA1).expect("sha1");
        assert_eq!(sha, colon_hex_upper(&Sha1::digest(&cert)));
        assert_eq!(sha.len(), 59);
        assert!(dpi.risks.contains(&RISK_EXPIRED));
        assert!(dpi.risks.contains(&RISK_WEAK_CIPHER));
        assert!(!dpi.risks.contains(&RISK_SELF_SIGNED));
        assert!(!dpi.risks.contains(&RISK_OBSOLETE_VERSION));
    }

    #[test]
    fn probe_rejects_other_protocols_and_waits_for_short_prefixes() {
        assert_eq!(probe(b"GET / HTTP/1.1\r\n"), Probe::NotTls);
        assert_eq!(probe(b"SSH-2.0-OpenSSH"), Probe::NotTls);
        assert_eq!(probe(&[22]), Probe::NeedMore);
        assert_eq!(probe(&[22, 3, 1]), Probe::NeedMore);
        assert_eq!(probe(&[22, 4]), Probe::NotTls);
        let ch = records(22, &handshake(1, &client_hello_body()), 1000);
        assert_eq!(probe(&ch), Probe::Tls);
        assert_eq!(probe(&ch[..20]), Probe::Tls);
        assert_eq!(probe(&ch[..8]), Probe::NeedMore);
        // The hello cut across one-byte records is still a hello.
        let body = handshake(1, &client_hello_body());
        let tiny: Vec<u8> = body.iter().flat_map(|&b| [22, 3, 1, 0, 1, b]).collect();
        assert_eq!(probe(&tiny), Probe::Tls);
        assert_eq!(probe(&tiny[..20]), Probe::NeedMore);
        assert_eq!(
            probe(&[22, 3, 1, 0, 1, 1, 23, 3, 1, 0, 1, 0]),
            Probe::NotTls
        );
        // A hello with a broken body is still a TLS client (nDPI agrees): headers decide.
        let mut bad = ch.clone();
        bad[5 + 4 + 34] = 40;
        assert_eq!(probe(&bad), Probe::Tls);
        // A hello whose version is not 3.x is not.
        let mut bad = ch.clone();
        bad[5 + 4] = 2;
        assert_eq!(probe(&bad), Probe::NotTls);
    }

    #[test]
    fn probe_accepts_mid_connection_records_by_exact_framing() {
        let app = [23, 3, 3, 0, 4, 0xde, 0xad, 0xbe, 0xef];
        assert_eq!(probe(&app), Probe::Tls);
        let mut two = app.to_vec();
        two.extend_from_slice(&[21, 3, 3, 0, 2, 1, 0]);
        assert_eq!(probe(&two), Probe::Tls);
        // One whole record, then the start of the next.
        assert_eq!(probe(&two[..12]), Probe::Tls);
        // The first record is not whole yet.
        assert_eq!(probe(&app[..7]), Probe::NeedMore);
        // A whole record followed by bytes that are no record header.
        let mut junk = app.to_vec();
        junk.extend_from_slice(b"HTTP/1.1 200 OK");
        assert_eq!(probe(&junk), Probe::NotTls);
        // ChangeCipherSpec must carry the single byte 1.
        assert_eq!(probe(&[20, 3, 3, 0, 1, 1]), Probe::Tls);
        assert_eq!(probe(&[20, 3, 3, 0, 1, 7]), Probe::NotTls);
        // A handshake record that is not a hello (an encrypted Finished).
        assert_eq!(probe(&[22, 3, 3, 0, 4, 0x9c, 1, 2, 3]), Probe::Tls);
        assert_eq!(probe(&[25, 3, 3, 0, 4, 0, 1, 2, 3]), Probe::NotTls);
    }

    #[test]
    fn tls13_server_hello_ends_inspection_and_names_versions() {
        let mut dpi = Dpi::new(vec![0]);
        let sigs = SignatureSet::default();
        let ch = records(22, &handshake(1, &client_hello_body()), 16384);
        assert!(dpi.inspect(
            &ch,
            Dir::ToServer,
            facts(),
            Some((1, 0x18)),
            0,
            &sigs,
            &[&DISSECTOR],
            &mut crate::metadata::EventSink::silent(&mut Vec::new()),
        ));
        let mut sh = records(22, &handshake(2, &server_hello_body(0x1302, true)), 16384);
        sh.extend_from_slice(&[20, 3, 3, 0, 1, 1, 23, 3, 3, 0, 2, 0xaa, 0xbb]);
        let more = dpi.inspect(
            &sh,
            Dir::ToClient,
            facts(),
            Some((1, 0x18)),
            0,
            &sigs,
            &[&DISSECTOR],
            &mut crate::metadata::EventSink::silent(&mut Vec::new()),
        );
        assert!(!more, "nothing left to learn after a TLS 1.3 ServerHello");
        assert_eq!(meta(&dpi, &VERSION).as_deref(), Some("TLSv1.3"));
        assert_eq!(
            meta(&dpi, &CIPHER).as_deref(),
            Some("TLS_AES_256_GCM_SHA384")
        );
        assert_eq!(version_name(0x7f1c), "TLSv1.3 (draft)");
        assert_eq!(version_name(0x0100), "DTLSv1.0 (OpenSSL pre 0.9.8f)");
        assert_eq!(version_name(0x0200), "TLS (0200)");
    }

    #[test]
    fn a_client_certificate_is_not_the_server_certificate() {
        let mut dpi = Dpi::new(vec![0]);
        let (mut cs, mut ss) = (1u32, 1u32);
        let ch = records(22, &handshake(1, &client_hello_body()), 16384);
        feed(&mut dpi, Dir::ToServer, &ch, 1500, &mut cs, 0);
        let sh = records(22, &handshake(2, &server_hello_body(0xc02f, false)), 16384);
        feed(&mut dpi, Dir::ToClient, &sh, 1500, &mut ss, 0);
        let cert = x509::tests::sample_certificate();
        let mut list = vec![0u8, 0, 0];
        list.extend_from_slice(&(cert.len() as u32).to_be_bytes()[1..]);
        list.extend_from_slice(&cert);
        let n = (list.len() - 3) as u32;
        list[..3].copy_from_slice(&n.to_be_bytes()[1..]);
        let client_cert = records(22, &handshake(11, &list), 16384);
        feed(&mut dpi, Dir::ToServer, &client_cert, 1500, &mut cs, 0);
        assert_eq!(
            meta(&dpi, &CIPHER).as_deref(),
            Some("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")
        );
        assert_eq!(meta(&dpi, &SUBJECT), None);
        assert_eq!(meta(&dpi, &CERT_SHA1), None);
    }

    /// Mutated handshakes (bytes flipped, streams cut) through the whole dissector and the
    /// certificate reader: no panic, whatever the input.
    #[test]
    fn mutated_handshakes_never_panic() {
        let mut client = records(22, &handshake(1, &client_hello_body()), 90);
        client.extend_from_slice(&[20, 3, 3, 0, 1, 1]);
        let cert = x509::tests::sample_certificate();
        let mut list = vec![0u8, 0, 0];
        list.extend_from_slice(&(cert.len() as u32).to_be_bytes()[1..]);
        list.extend_from_slice(&cert);
        let n = (list.len() - 3) as u32;
        list[..3].copy_from_slice(&n.to_be_bytes()[1..]);
        let mut flight = handshake(2, &server_hello_body(0xc02f, false));
        flight.extend(handshake(11, &list));
        let server = records(22, &flight, 200);
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let sigs = SignatureSet::default();
        for _ in 0..3000 {
            let mut c = client.clone();
            let mut s = server.clone();
            let mut x = cert.clone();
            for buf in [&mut c, &mut s, &mut x] {
                for _ in 0..(next() % 4 + 1) {
                    let at = (next() as usize) % buf.len();
                    buf[at] = next() as u8;
                }
                let keep = buf.len() - (next() as usize) % (buf.len() / 4 + 1);
                buf.truncate(keep);
            }
            let _ = x509::parse_certificate(&x);
            let mut dpi = Dpi::new(vec![0]);
            let (mut cs, mut ss) = (1u32, 1u32);
            let seg = (next() % 300 + 1) as usize;
            feed(&mut dpi, Dir::ToServer, &c, seg, &mut cs, 0);
            feed(&mut dpi, Dir::ToClient, &s, seg, &mut ss, 0);
            let _ = dpi.inspect(
                &[],
                Dir::ToClient,
                facts(),
                Some((ss, 0x18)),
                0,
                &sigs,
                &[&DISSECTOR],
                &mut crate::metadata::EventSink::silent(&mut Vec::new()),
            );
        }
    }
}

#[cfg(test)]
mod certificate_app_tests {
    use super::{certificate_app, x509::CertInfo};
    use crate::classify::signatures::SignatureSet;

    fn sigs() -> SignatureSet {
        let mut set = SignatureSet::default();
        let pack = r#"
            [[app]]
            id = 7000
            name = "Cdn"
            category = "Web"
            hosts = ["cdnssl.example"]
            cert_names = ["Cdn, Inc."]
            [[app]]
            id = 7001
            name = "Shop"
            category = "Web"
            hosts = ["shop.example"]
            cert_names = ["Shop Devices, Inc"]
        "#;
        set.load_str(pack, "test").expect("valid");
        set
    }

    fn cert(cn: &[&str], org: &[&str], san: &[&str]) -> CertInfo {
        let v = |l: &[&str]| l.iter().map(|s| s.to_string()).collect();
        CertInfo {
            subject_cn: v(cn),
            subject_org: v(org),
            san: v(san),
            ..CertInfo::default()
        }
    }

    #[test]
    fn alternative_names_then_subject_names() {
        let sigs = sigs();
        let app = |c: &CertInfo| certificate_app(c, &sigs).map(|a| a.0);
        // A network's shared certificate: the first known alternative name wins.
        let shared = cert(
            &["sni.other.example"],
            &["Cdn, Inc."],
            &["sni.other.example", "www.shop.example", "cdnssl.example"],
        );
        assert_eq!(app(&shared), Some(7001));
        // No known alternative name: the network's company.
        let own = cert(&["sni.other.example"], &["Cdn, Inc."], &["*.other.example"]);
        assert_eq!(app(&own), Some(7000));
        // The common name, then an organization written as a domain.
        assert_eq!(app(&cert(&["Shop.Example"], &[], &[])), Some(7001));
        assert_eq!(app(&cert(&["x.other"], &["shop.example"], &[])), Some(7001));
        assert_eq!(
            app(&cert(&["cdnssl.example"], &["shop.example"], &[])),
            Some(7000)
        );
        // Listed subject names, whole and case ignored.
        assert_eq!(
            app(&cert(&["1A2B3C"], &["shop devices, inc"], &[])),
            Some(7001)
        );
        assert_eq!(app(&cert(&["Shop Devices, Inc"], &[], &[])), Some(7001));
        assert_eq!(app(&cert(&["1A2B3C"], &["Shop Devices"], &[])), None);
        assert_eq!(app(&cert(&["localhost"], &["Some Org"], &[])), None);
    }
}

#[cfg(test)]
mod alpn_tests {
    use super::alpn_app;

    #[test]
    fn applications_named_by_alpn() {
        assert_eq!(alpn_app(b"anydesk/6.2.0/linux"), Some("AnyDesk"));
        assert_eq!(alpn_app(b"doq"), Some("DoH_DoT"));
        assert_eq!(alpn_app(b"dot"), Some("DoH_DoT"));
        assert_eq!(alpn_app(b"h2"), None);
        assert_eq!(alpn_app(b"anydesk"), None);
    }
}
