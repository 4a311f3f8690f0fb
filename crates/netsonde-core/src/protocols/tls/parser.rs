//! TLS record and handshake parsing over borrowed bytes (RFC 5246, RFC 8446): pure functions,
//! no state, no copies. The dissector in `mod.rs` and the QUIC dissector (ClientHello carried in
//! CRYPTO frames) both parse handshakes through here.

/// Record content types.
pub const CT_CHANGE_CIPHER_SPEC: u8 = 20;
pub const CT_ALERT: u8 = 21;
pub const CT_HANDSHAKE: u8 = 22;
pub const CT_APPLICATION_DATA: u8 = 23;
pub const CT_HEARTBEAT: u8 = 24;

/// Handshake message types.
pub const HS_CLIENT_HELLO: u8 = 1;
pub const HS_SERVER_HELLO: u8 = 2;
pub const HS_CERTIFICATE: u8 = 11;
pub const HS_SERVER_HELLO_DONE: u8 = 14;

/// Extension types used for metadata and fingerprints.
pub const EXT_SERVER_NAME: u16 = 0x0000;
pub const EXT_SUPPORTED_GROUPS: u16 = 0x000a;
pub const EXT_EC_POINT_FORMATS: u16 = 0x000b;
pub const EXT_SIGNATURE_ALGORITHMS: u16 = 0x000d;
pub const EXT_ALPN: u16 = 0x0010;
pub const EXT_SUPPORTED_VERSIONS: u16 = 0x002b;

/// Record header length: type (1), version (2), length (2).
pub const RECORD_HEADER_LEN: usize = 5;
/// Largest record payload any TLS version allows (2^14 plus the TLS 1.2 expansion allowance).
pub const MAX_RECORD_LEN: usize = (1 << 14) + 2048;
/// Smallest ClientHello body: version (2), random (32), session id length, cipher suites
/// length and one suite, compression length (an empty list is taken, see below).
const MIN_CLIENT_HELLO_BODY: usize = 2 + 32 + 1 + 2 + 2 + 1;
/// Smallest ServerHello body: version, random, session id length, cipher, compression.
const MIN_SERVER_HELLO_BODY: usize = 2 + 32 + 1 + 2 + 1;

/// Why bytes are not a TLS record or message.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Error {
    /// More bytes are needed to decide.
    Incomplete,
    /// The bytes break the format.
    Invalid,
}

/// A record: its header fields and its payload (plaintext or ciphertext).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Record<'a> {
    pub content_type: u8,
    pub version: u16,
    pub fragment: &'a [u8],
}

fn be16(d: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*d.get(at)?, *d.get(at + 1)?]))
}

fn be24(d: &[u8], at: usize) -> Option<usize> {
    Some(
        usize::from(*d.get(at)?) << 16
            | usize::from(*d.get(at + 1)?) << 8
            | usize::from(*d.get(at + 2)?),
    )
}

/// Whether `v` is a record-layer version TLS uses (SSL 3.0 to TLS 1.3).
pub fn is_tls_version(v: u16) -> bool {
    (0x0300..=0x0304).contains(&v)
}

/// Whether `v` is a GREASE value (RFC 8701): 0x?A?A with both bytes equal.
pub fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && v >> 8 == v & 0xff
}

/// Checks a record header at the start of `d` and returns (content type, version, payload
/// length); `Incomplete` when fewer than five bytes are there.
pub fn record_header(d: &[u8]) -> Result<(u8, u16, usize), Error> {
    let &[ct, v0, v1, l0, l1, ..] = d else {
        return Err(Error::Incomplete);
    };
    let version = u16::from_be_bytes([v0, v1]);
    let len = usize::from(u16::from_be_bytes([l0, l1]));
    if !(CT_CHANGE_CIPHER_SPEC..=CT_HEARTBEAT).contains(&ct)
        || !is_tls_version(version)
        || len > MAX_RECORD_LEN
    {
        return Err(Error::Invalid);
    }
    Ok((ct, version, len))
}

/// Parses one record at the start of `d`; returns it and the bytes it spans.
pub fn parse_record(d: &[u8]) -> Result<(Record<'_>, usize), Error> {
    let (content_type, version, len) = record_header(d)?;
    let end = RECORD_HEADER_LEN + len;
    let fragment = d.get(RECORD_HEADER_LEN..end).ok_or(Error::Incomplete)?;
    Ok((
        Record {
            content_type,
            version,
            fragment,
        },
        end,
    ))
}

/// The DTLS version number OpenSSL used before 0.9.8f (RFC 4347 was not final yet).
pub const DTLS_OPENSSL_PRE_STANDARD: u16 = 0x0100;

/// A handshake message: its type and body (the bytes after the 4-byte header).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Handshake<'a> {
    pub msg_type: u8,
    pub body: &'a [u8],
}

/// Parses one handshake message at the start of `d` (the concatenated payloads of handshake
/// records); returns it and the bytes it spans.
pub fn parse_handshake(d: &[u8]) -> Result<(Handshake<'_>, usize), Error> {
    let msg_type = *d.first().ok_or(Error::Incomplete)?;
    let len = be24(d, 1).ok_or(Error::Incomplete)?;
    let end = 4 + len;
    let body = d.get(4..end).ok_or(Error::Incomplete)?;
    Ok((Handshake { msg_type, body }, end))
}

/// Length of the handshake message announced at the start of `d`, header included.
pub fn handshake_len(d: &[u8]) -> Option<usize> {
    be24(d, 1).map(|l| l + 4)
}

/// A bounds-checked cursor over a message body.
struct Reader<'a> {
    d: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn new(d: &'a [u8]) -> Self {
        Reader { d, at: 0 }
    }
    fn u8(&mut self) -> Option<u8> {
        let v = *self.d.get(self.at)?;
        self.at += 1;
        Some(v)
    }
    fn u16(&mut self) -> Option<u16> {
        let v = be16(self.d, self.at)?;
        self.at += 2;
        Some(v)
    }
    fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let v = self.d.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(v)
    }
    fn vec8(&mut self) -> Option<&'a [u8]> {
        let n = self.u8()?;
        self.bytes(usize::from(n))
    }
    fn vec16(&mut self) -> Option<&'a [u8]> {
        let n = self.u16()?;
        self.bytes(usize::from(n))
    }
    fn rest(&self) -> &'a [u8] {
        self.d.get(self.at..).unwrap_or_default()
    }
}

/// Big-endian 16-bit values of a byte list (an odd trailing byte is ignored).
pub fn u16_list(d: &[u8]) -> impl Iterator<Item = u16> + '_ {
    d.chunks_exact(2).map(|c| be16(c, 0).unwrap_or_default())
}

/// An extension: its type and raw data.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Extension<'a> {
    pub ext_type: u16,
    pub data: &'a [u8],
}

/// Splits an extensions block (without its 2-byte length) into extensions; `None` when an
/// extension overruns the block.
fn parse_extensions(mut d: &[u8]) -> Option<Vec<Extension<'_>>> {
    let mut out = Vec::new();
    while !d.is_empty() {
        let mut r = Reader::new(d);
        let ext_type = r.u16()?;
        let data = r.vec16()?;
        out.push(Extension { ext_type, data });
        d = r.rest();
    }
    Some(out)
}

/// A parsed ClientHello. Lists keep wire order and GREASE values; the fingerprint code
/// filters what each fingerprint excludes.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct ClientHello<'a> {
    /// `legacy_version` of the hello (0x0303 for TLS 1.2 and 1.3).
    pub version: u16,
    pub random: &'a [u8],
    pub session_id: &'a [u8],
    pub cipher_suites: Vec<u16>,
    pub compression_methods: &'a [u8],
    pub extensions: Vec<Extension<'a>>,
    /// The host name of the server_name extension, raw bytes.
    pub sni: Option<&'a [u8]>,
    /// ALPN protocol names offered, in order.
    pub alpn: Vec<&'a [u8]>,
    /// supported_versions extension values, in order.
    pub supported_versions: Vec<u16>,
    pub signature_algorithms: Vec<u16>,
    pub supported_groups: Vec<u16>,
    pub ec_point_formats: &'a [u8],
}

impl ClientHello<'_> {
    /// The highest version offered: supported_versions when present, else `legacy_version`
    /// (GREASE ignored).
    pub fn max_version(&self) -> u16 {
        self.supported_versions
            .iter()
            .copied()
            .filter(|v| !is_grease(*v))
            .max()
            .unwrap_or(self.version)
    }

    /// Extension types in wire order.
    pub fn extension_types(&self) -> impl Iterator<Item = u16> + '_ {
        self.extensions.iter().map(|e| e.ext_type)
    }

    /// The server name as text, when it is printable ASCII.
    pub fn sni_str(&self) -> Option<&str> {
        let s = self.sni?;
        if s.is_empty() || !s.iter().all(|b| b.is_ascii_graphic()) {
            return None;
        }
        std::str::from_utf8(s).ok()
    }
}

/// Parses a ClientHello. `msg` is either a whole handshake message (type 1, 3-byte length,
/// body) or the body alone (starting with the 0x03 of its version); a whole message may be
/// followed by more bytes (the next message), which are ignored.
pub fn parse_client_hello(msg: &[u8]) -> Option<ClientHello<'_>> {
    let body = match msg.first()? {
        &HS_CLIENT_HELLO => parse_handshake(msg).ok()?.0.body,
        0x03 => msg,
        _ => return None,
    };
    parse_client_hello_body(body)
}

/// Parses the body of a ClientHello message.
pub fn parse_client_hello_body(body: &[u8]) -> Option<ClientHello<'_>> {
    if body.len() < MIN_CLIENT_HELLO_BODY {
        return None;
    }
    let mut r = Reader::new(body);
    let version = r.u16()?;
    // 0xfe: DTLS, for the DTLS dissector's use of the same layout after its cookie; 0x0100
    // is the pre-standard DTLS of OpenSSL before 0.9.8f, still spoken by VPN gateways.
    let dtls = version >> 8 == 0xfe || version == DTLS_OPENSSL_PRE_STANDARD;
    if version >> 8 != 0x03 && !dtls {
        return None;
    }
    let random = r.bytes(32)?;
    let session_id = r.vec8()?;
    if session_id.len() > 32 {
        return None;
    }
    if dtls {
        r.vec8()?; // DTLS cookie
    }
    let suites = r.vec16()?;
    if suites.is_empty() || suites.len() % 2 != 0 {
        return None;
    }
    let compression_methods = r.vec8()?;
    // The list must hold the null method; some scanners send it empty. Taken only when
    // the message ends right there, so that the lengths still account for every byte.
    if compression_methods.is_empty() && !r.rest().is_empty() {
        return None;
    }
    let mut hello = ClientHello {
        version,
        random,
        session_id,
        cipher_suites: u16_list(suites).collect(),
        compression_methods,
        ..ClientHello::default()
    };
    if r.rest().is_empty() {
        return Some(hello); // no extensions (SSL 3.0, old clients)
    }
    let block = r.vec16()?;
    hello.extensions = parse_extensions(block)?;
    for ext in &hello.extensions {
        match ext.ext_type {
            EXT_SERVER_NAME => hello.sni = parse_sni(ext.data),
            EXT_ALPN => hello.alpn = parse_alpn(ext.data),
            EXT_SUPPORTED_VERSIONS => {
                let mut e = Reader::new(ext.data);
                if let Some(list) = e.vec8() {
                    hello.supported_versions = u16_list(list).collect();
                }
            }
            EXT_SIGNATURE_ALGORITHMS => {
                let mut e = Reader::new(ext.data);
                if let Some(list) = e.vec16() {
                    hello.signature_algorithms = u16_list(list).collect();
                }
            }
            EXT_SUPPORTED_GROUPS => {
                let mut e = Reader::new(ext.data);
                if let Some(list) = e.vec16() {
                    hello.supported_groups = u16_list(list).collect();
                }
            }
            EXT_EC_POINT_FORMATS => {
                let mut e = Reader::new(ext.data);
                if let Some(list) = e.vec8() {
                    hello.ec_point_formats = list;
                }
            }
            _ => {}
        }
    }
    Some(hello)
}

/// The first host_name entry of a server_name extension.
fn parse_sni(d: &[u8]) -> Option<&[u8]> {
    let mut r = Reader::new(d);
    let mut list = Reader::new(r.vec16()?);
    while !list.rest().is_empty() {
        let name_type = list.u8()?;
        let name = list.vec16()?;
        if name_type == 0 {
            return Some(name);
        }
    }
    None
}

/// ALPN protocol names of an ALPN extension (client list or server's single choice).
fn parse_alpn(d: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut r = Reader::new(d);
    let Some(list) = r.vec16() else {
        return out;
    };
    let mut l = Reader::new(list);
    while let Some(p) = l.vec8() {
        out.push(p);
    }
    out
}

/// A parsed ServerHello (or HelloRetryRequest, which has the same layout).
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct ServerHello<'a> {
    pub version: u16,
    pub random: &'a [u8],
    pub session_id: &'a [u8],
    pub cipher_suite: u16,
    pub compression_method: u8,
    pub extensions: Vec<Extension<'a>>,
    /// The version chosen in supported_versions (TLS 1.3), if any.
    pub selected_version: Option<u16>,
    /// The ALPN protocol chosen, if any.
    pub alpn: Option<&'a [u8]>,
}

impl ServerHello<'_> {
    /// The negotiated version: supported_versions' choice, else `legacy_version`.
    pub fn negotiated_version(&self) -> u16 {
        self.selected_version.unwrap_or(self.version)
    }
}

/// Parses the body of a ServerHello message.
pub fn parse_server_hello_body(body: &[u8]) -> Option<ServerHello<'_>> {
    if body.len() < MIN_SERVER_HELLO_BODY {
        return None;
    }
    let mut r = Reader::new(body);
    let version = r.u16()?;
    if version >> 8 != 0x03 && version >> 8 != 0xfe && version != DTLS_OPENSSL_PRE_STANDARD {
        return None;
    }
    let random = r.bytes(32)?;
    let session_id = r.vec8()?;
    if session_id.len() > 32 {
        return None;
    }
    let cipher_suite = r.u16()?;
    let compression_method = r.u8()?;
    let mut hello = ServerHello {
        version,
        random,
        session_id,
        cipher_suite,
        compression_method,
        ..ServerHello::default()
    };
    if r.rest().is_empty() {
        return Some(hello);
    }
    hello.extensions = parse_extensions(r.vec16()?)?;
    for ext in &hello.extensions {
        match ext.ext_type {
            EXT_SUPPORTED_VERSIONS => hello.selected_version = be16(ext.data, 0),
            EXT_ALPN => hello.alpn = parse_alpn(ext.data).into_iter().next(),
            _ => {}
        }
    }
    Some(hello)
}

/// Parses a ServerHello given as a whole handshake message or as its body.
pub fn parse_server_hello(msg: &[u8]) -> Option<ServerHello<'_>> {
    match msg.first()? {
        &HS_SERVER_HELLO => parse_server_hello_body(parse_handshake(msg).ok()?.0.body),
        0x03 => parse_server_hello_body(msg),
        _ => None,
    }
}

/// The DER certificates of a Certificate message body (TLS 1.2 and earlier layout: a 3-byte
/// list length, then 3-byte length-prefixed certificates). A body cut short yields the
/// certificates that are complete.
pub fn certificates(body: &[u8]) -> impl Iterator<Item = &[u8]> {
    let list_len = be24(body, 0).unwrap_or(0);
    let list = body.get(3..).unwrap_or_default();
    let list = list.get(..list_len).unwrap_or(list);
    let mut at = 0usize;
    std::iter::from_fn(move || {
        let len = be24(list, at)?;
        let cert = list.get(at + 3..at + 3 + len)?;
        at += 3 + len;
        (!cert.is_empty()).then_some(cert)
    })
}

/// The first certificate of a (possibly incomplete) Certificate message body, once its bytes
/// are all there: `Err(Incomplete)` until then.
pub fn first_certificate(body: &[u8]) -> Result<&[u8], Error> {
    let list_len = be24(body, 0).ok_or(Error::Incomplete)?;
    let len = be24(body, 3).ok_or(Error::Incomplete)?;
    if len == 0 || len + 3 > list_len {
        return Err(Error::Invalid);
    }
    body.get(6..6 + len).ok_or(Error::Incomplete)
}

/// An SSL 2.0-format ClientHello (sent by old clients to reach SSL 3.0/TLS servers).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Sslv2ClientHello<'a> {
    pub version: u16,
    /// 3-byte cipher specs.
    pub cipher_specs: &'a [u8],
    pub challenge: &'a [u8],
}

/// Parses an SSLv2-format ClientHello record (2-byte header with the high bit set).
pub fn parse_sslv2_client_hello(d: &[u8]) -> Result<(Sslv2ClientHello<'_>, usize), Error> {
    let h0 = *d.first().ok_or(Error::Incomplete)?;
    if h0 & 0x80 == 0 {
        return Err(Error::Invalid);
    }
    let len = usize::from(be16(d, 0).ok_or(Error::Incomplete)? & 0x7fff);
    if len < 9 {
        return Err(Error::Invalid);
    }
    let mut r = Reader::new(d.get(2..).unwrap_or_default());
    let msg_type = r.u8().ok_or(Error::Incomplete)?;
    let version = r.u16().ok_or(Error::Incomplete)?;
    if msg_type != 1 || !(version == 0x0002 || is_tls_version(version)) {
        return Err(Error::Invalid);
    }
    let spec_len = usize::from(r.u16().ok_or(Error::Incomplete)?);
    let sid_len = usize::from(r.u16().ok_or(Error::Incomplete)?);
    let chal_len = usize::from(r.u16().ok_or(Error::Incomplete)?);
    if spec_len == 0
        || spec_len % 3 != 0
        || !(sid_len == 0 || sid_len == 16)
        || !(16..=32).contains(&chal_len)
        || 9 + spec_len + sid_len + chal_len != len
    {
        return Err(Error::Invalid);
    }
    let body = d.get(2..2 + len).ok_or(Error::Incomplete)?;
    let cipher_specs = body.get(9..9 + spec_len).ok_or(Error::Invalid)?;
    let challenge = body
        .get(9 + spec_len + sid_len..9 + spec_len + sid_len + chal_len)
        .ok_or(Error::Invalid)?;
    Ok((
        Sslv2ClientHello {
            version,
            cipher_specs,
            challenge,
        },
        2 + len,
    ))
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::indexing_slicing)]
    use super::*;

    /// Builds a handshake message of `msg_type` around `body`.
    pub fn handshake(msg_type: u8, body: &[u8]) -> Vec<u8> {
        let mut m = vec![msg_type];
        m.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        m.extend_from_slice(body);
        m
    }

    /// Wraps `payload` in records of `content_type`, at most `max` payload bytes each.
    pub fn records(content_type: u8, payload: &[u8], max: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for chunk in payload.chunks(max) {
            out.extend_from_slice(&[content_type, 0x03, 0x03]);
            out.extend_from_slice(&(chunk.len() as u16).to_be_bytes());
            out.extend_from_slice(chunk);
        }
        out
    }

    fn ext(t: u16, data: &[u8]) -> Vec<u8> {
        let mut e = t.to_be_bytes().to_vec();
        e.extend_from_slice(&(data.len() as u16).to_be_bytes());
        e.extend_from_slice(data);
        e
    }

    fn vec16(d: &[u8]) -> Vec<u8> {
        let mut v = (d.len() as u16).to_be_bytes().to_vec();
        v.extend_from_slice(d);
        v
    }

    /// A ClientHello body as a Chrome-like TLS 1.3 client sends it: GREASE in the suites,
    /// the extensions and the versions; SNI `example.com`; ALPN h2 and http/1.1.
    pub fn client_hello_body() -> Vec<u8> {
        let mut b = vec![0x03, 0x03];
        b.extend_from_slice(&[0x11; 32]); // random
        b.push(32);
        b.extend_from_slice(&[0x22; 32]); // session id
        let suites: [u16; 6] = [0x4a4a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f];
        let s: Vec<u8> = suites.iter().flat_map(|s| s.to_be_bytes()).collect();
        b.extend_from_slice(&vec16(&s));
        b.extend_from_slice(&[1, 0]); // compression: null
        let mut exts = Vec::new();
        exts.extend(ext(0x1a1a, &[]));
        let name = b"example.com";
        let mut sni = vec![0u8];
        sni.extend_from_slice(&vec16(name));
        exts.extend(ext(EXT_SERVER_NAME, &vec16(&sni)));
        exts.extend(ext(0x0017, &[])); // extended_master_secret
        exts.extend(ext(
            EXT_SUPPORTED_GROUPS,
            &vec16(&[0x2a, 0x2a, 0x00, 0x1d, 0x00, 0x17]),
        ));
        exts.extend(ext(EXT_EC_POINT_FORMATS, &[1, 0]));
        exts.extend(ext(EXT_ALPN, &vec16(b"\x02h2\x08http/1.1")));
        exts.extend(ext(
            EXT_SIGNATURE_ALGORITHMS,
            &vec16(&[0x04, 0x03, 0x08, 0x04, 0x04, 0x01]),
        ));
        exts.extend(ext(
            EXT_SUPPORTED_VERSIONS,
            &[6, 0x3a, 0x3a, 0x03, 0x04, 0x03, 0x03],
        ));
        b.extend_from_slice(&vec16(&exts));
        b
    }

    pub fn server_hello_body(cipher: u16, tls13: bool) -> Vec<u8> {
        let mut b = vec![0x03, 0x03];
        b.extend_from_slice(&[0x33; 32]);
        b.push(0);
        b.extend_from_slice(&cipher.to_be_bytes());
        b.push(0);
        let mut exts = Vec::new();
        if tls13 {
            exts.extend(ext(EXT_SUPPORTED_VERSIONS, &[0x03, 0x04]));
        } else {
            exts.extend(ext(0xff01, &[0]));
            exts.extend(ext(EXT_ALPN, &vec16(b"\x02h2")));
        }
        b.extend_from_slice(&vec16(&exts));
        b
    }

    #[test]
    fn parses_a_client_hello_whole_or_body() {
        let body = client_hello_body();
        let msg = handshake(HS_CLIENT_HELLO, &body);
        for input in [&msg[..], &body[..]] {
            let ch = parse_client_hello(input).expect("client hello");
            assert_eq!(ch.version, 0x0303);
            assert_eq!(
                ch.cipher_suites,
                vec![0x4a4a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f]
            );
            assert_eq!(ch.sni_str(), Some("example.com"));
            assert_eq!(ch.alpn, vec![&b"h2"[..], &b"http/1.1"[..]]);
            assert_eq!(ch.supported_versions, vec![0x3a3a, 0x0304, 0x0303]);
            assert_eq!(ch.max_version(), 0x0304);
            assert_eq!(ch.signature_algorithms, vec![0x0403, 0x0804, 0x0401]);
            assert_eq!(ch.supported_groups, vec![0x2a2a, 0x001d, 0x0017]);
            assert_eq!(ch.ec_point_formats, &[0]);
            assert_eq!(
                ch.extension_types().collect::<Vec<_>>(),
                vec![0x1a1a, 0, 0x17, 0x0a, 0x0b, 0x10, 0x0d, 0x2b]
            );
        }
    }

    #[test]
    fn rejects_truncated_and_malformed_hellos() {
        let body = client_hello_body();
        let no_extensions = body.len() - 2 - usize::from(u16::from_be_bytes([body[83], body[84]]));
        for n in (0..body.len()).filter(|&n| n != no_extensions) {
            // Any cut breaks a length, except one right before the extensions block.
            assert!(parse_client_hello_body(&body[..n]).is_none(), "cut at {n}");
        }
        let mut bad = body.clone();
        bad[34] = 33; // session id longer than 32
        assert!(parse_client_hello_body(&bad).is_none());
        // No compression method: taken at the very end of the message (old scanners send
        // such hellos), not before extensions.
        let methods_at = no_extensions - 2;
        let mut empty = body[..methods_at].to_vec();
        empty.push(0);
        let hello = parse_client_hello_body(&empty).expect("hello without compression");
        assert!(hello.compression_methods.is_empty() && hello.extensions.is_empty());
        let mut then_more = empty.clone();
        then_more.extend_from_slice(&body[no_extensions..]);
        assert!(parse_client_hello_body(&then_more).is_none());
        assert!(parse_client_hello(&[0x02, 0, 0, 1, 0]).is_none());
        assert!(parse_client_hello(&[]).is_none());
    }

    #[test]
    fn parses_server_hellos() {
        let msg = handshake(HS_SERVER_HELLO, &server_hello_body(0x1301, true));
        let sh = parse_server_hello(&msg).expect("server hello");
        assert_eq!(sh.cipher_suite, 0x1301);
        assert_eq!(sh.negotiated_version(), 0x0304);
        let body = server_hello_body(0xc02f, false);
        let sh = parse_server_hello_body(&body).expect("sh");
        assert_eq!(sh.negotiated_version(), 0x0303);
        assert_eq!(sh.alpn, Some(&b"h2"[..]));
        assert_eq!(sh.extensions.len(), 2);
    }

    #[test]
    fn records_and_handshakes_report_incomplete_and_invalid() {
        let msg = handshake(HS_CLIENT_HELLO, &client_hello_body());
        let recs = records(CT_HANDSHAKE, &msg, 100);
        let (rec, n) = parse_record(&recs).expect("record");
        assert_eq!(
            (rec.content_type, rec.version, rec.fragment.len(), n),
            (22, 0x0303, 100, 105)
        );
        assert_eq!(parse_record(&recs[..4]), Err(Error::Incomplete));
        assert_eq!(parse_record(&recs[..50]), Err(Error::Incomplete));
        assert_eq!(parse_record(b"GET / HTTP/1.1\r\n"), Err(Error::Invalid));
        assert_eq!(parse_record(&[22, 3, 5, 0, 1, 0]), Err(Error::Invalid));
        assert_eq!(parse_handshake(&msg[..10]), Err(Error::Incomplete));
        let (hs, n) = parse_handshake(&msg).expect("handshake");
        assert_eq!((hs.msg_type, n), (HS_CLIENT_HELLO, msg.len()));
    }

    #[test]
    fn grease_values() {
        assert!(is_grease(0x0a0a) && is_grease(0xfafa) && is_grease(0x3a3a));
        assert!(!is_grease(0x0a1a) && !is_grease(0x1301) && !is_grease(0x0a0b));
    }

    #[test]
    fn certificate_lists() {
        let mut body = vec![0, 0, 13];
        body.extend_from_slice(&[0, 0, 3, 1, 2, 3]);
        body.extend_from_slice(&[0, 0, 4, 4, 5, 6, 7]);
        let certs: Vec<&[u8]> = certificates(&body).collect();
        assert_eq!(certs, vec![&[1, 2, 3][..], &[4, 5, 6, 7][..]]);
        assert_eq!(first_certificate(&body), Ok(&[1, 2, 3][..]));
        assert_eq!(first_certificate(&body[..7]), Err(Error::Incomplete));
        assert_eq!(certificates(&body[..10]).count(), 1);
    }

    #[test]
    fn sslv2_client_hello() {
        let mut d = vec![0x80, 0];
        let mut body = vec![1, 0x03, 0x01, 0, 6, 0, 0, 0, 16];
        body.extend_from_slice(&[0x00, 0x00, 0x04, 0x01, 0x00, 0x80]);
        body.extend_from_slice(&[0x55; 16]);
        d[1] = body.len() as u8;
        d.extend_from_slice(&body);
        let (h, n) = parse_sslv2_client_hello(&d).expect("sslv2");
        assert_eq!((h.version, h.cipher_specs.len(), n), (0x0301, 6, d.len()));
        assert_eq!(parse_sslv2_client_hello(&d[..10]), Err(Error::Incomplete));
        assert_eq!(
            parse_sslv2_client_hello(&[0x16, 3, 1, 0, 5]),
            Err(Error::Invalid)
        );
    }
}
