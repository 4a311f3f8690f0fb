//! Dissector tests: whole datagrams through the classifier with only the QUIC dissector.

#![allow(clippy::indexing_slicing)]

use super::crypto::tests::{unhex, CLIENT_CRYPTO_FRAME, V1_CLIENT_INITIAL, V2_CLIENT_INITIAL};
use super::*;
use crate::classify::{candidate_order, Dir, Dpi, FlowFacts, ProtoId, SignatureSet};
use aes::cipher::generic_array::GenericArray;
use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::Aes128Gcm;

fn facts(client_port: u16, server_port: u16) -> FlowFacts {
    FlowFacts {
        l4: 17,
        client_port,
        server_port,
        ip_version: 4,
        client_ip: [0; 16],
        server_ip: [0; 16],
    }
}

/// A flow under inspection by the QUIC dissector alone.
struct Flow {
    dpi: Box<Dpi>,
    facts: FlowFacts,
    sigs: SignatureSet,
    /// Whether the last packet left inspection going.
    going: bool,
}

impl Flow {
    fn new(client_port: u16, server_port: u16) -> Flow {
        let dissectors: [&'static Dissector; 1] = [&DISSECTOR];
        Flow {
            dpi: Dpi::new(candidate_order(&dissectors, 17, [client_port, server_port])),
            facts: facts(client_port, server_port),
            sigs: SignatureSet::builtin(),
            going: true,
        }
    }

    fn send(&mut self, dir: Dir, datagram: &[u8]) -> &mut Flow {
        self.going = self.dpi.inspect(
            datagram,
            dir,
            self.facts,
            None,
            0,
            &self.sigs,
            &[&DISSECTOR],
            &mut crate::metadata::EventSink::silent(&mut Vec::new()),
        );
        self
    }

    fn master(&self) -> ProtoId {
        self.dpi.class.master
    }

    fn app(&self) -> Option<String> {
        let app = self.dpi.class.app?;
        self.sigs.app(app).map(|a| a.name.clone())
    }

    fn attr(&self, spec: &'static crate::metadata::AttrSpec) -> Option<String> {
        self.dpi.meta.get_str(spec).map(str::to_string)
    }
}

/// Builds a protected client Initial: header, AES-128-GCM payload, header protection, the way a
/// client does (RFC 9001 §5), padded to 1200 bytes.
fn seal_initial(v: u32, key_dcid: &[u8], dcid: &[u8], pn: u32, frames: &[u8]) -> Vec<u8> {
    seal_as(crypto::Side::Client, v, key_dcid, dcid, pn, frames, 1200)
}

/// A server's Initial, protected with the server's keys for the client's `key_dcid`.
fn seal_server_initial(v: u32, key_dcid: &[u8], dcid: &[u8], frames: &[u8]) -> Vec<u8> {
    seal_as(crypto::Side::Server, v, key_dcid, dcid, 0, frames, 0)
}

/// An Initial from `side`, protected with that side's keys for the client's `key_dcid`,
/// padded to a `datagram` of that size.
fn seal_as(
    side: crypto::Side,
    v: u32,
    key_dcid: &[u8],
    dcid: &[u8],
    pn: u32,
    frames: &[u8],
    datagram: usize,
) -> Vec<u8> {
    let keys = crypto::initial_keys(v, key_dcid, side).expect("keys");
    let type_bits = if v == version::V2 { 0x10 } else { 0x00 };
    let mut header = vec![0xc0 | type_bits | 0x03];
    header.extend(v.to_be_bytes());
    header.push(u8::try_from(dcid.len()).unwrap_or(0));
    header.extend(dcid);
    header.push(0); // no source connection ID
    header.push(0); // no token
    let mut payload = frames.to_vec();
    let fixed = header.len() + 2 + 4 + 16;
    payload.resize(datagram.saturating_sub(fixed).max(payload.len()), 0);
    let length = u16::try_from(4 + payload.len() + 16).unwrap_or(0) | 0x4000;
    header.extend(length.to_be_bytes());
    let pn_offset = header.len();
    header.extend(pn.to_be_bytes());
    let mut nonce = keys.iv;
    for (n, p) in nonce
        .iter_mut()
        .rev()
        .zip(u64::from(pn).to_be_bytes().iter().rev())
    {
        *n ^= p;
    }
    let aead = Aes128Gcm::new(GenericArray::from_slice(&keys.key));
    let tag = aead
        .encrypt_in_place_detached(GenericArray::from_slice(&nonce), &header, &mut payload)
        .expect("seal");
    let mut packet = header;
    packet.extend(&payload);
    packet.extend(tag.as_slice());
    let sample: [u8; 16] = packet[pn_offset + 4..pn_offset + 20]
        .try_into()
        .expect("sample");
    let mask = crypto::header_mask(&keys.hp, &sample);
    packet[0] ^= mask[0] & 0x0f;
    for i in 0..4 {
        packet[pn_offset + i] ^= mask[1 + i];
    }
    packet
}

/// A ClientHello handshake message with the given server name, ALPN and transport parameters.
fn client_hello(sni: &str, alpn: &str, transport_params: &[u8]) -> Vec<u8> {
    let mut exts = Vec::new();
    let name = sni.as_bytes();
    exts.extend([0, 0]);
    exts.extend(u16::try_from(name.len() + 5).unwrap_or(0).to_be_bytes());
    exts.extend(u16::try_from(name.len() + 3).unwrap_or(0).to_be_bytes());
    exts.push(0);
    exts.extend(u16::try_from(name.len()).unwrap_or(0).to_be_bytes());
    exts.extend(name);
    exts.extend([0, 16]);
    exts.extend(u16::try_from(alpn.len() + 3).unwrap_or(0).to_be_bytes());
    exts.extend(u16::try_from(alpn.len() + 1).unwrap_or(0).to_be_bytes());
    exts.push(u8::try_from(alpn.len()).unwrap_or(0));
    exts.extend(alpn.as_bytes());
    exts.extend([0, 43, 0, 3, 2, 3, 4]); // supported_versions: TLS 1.3
    exts.extend([0, 0x39]);
    exts.extend(
        u16::try_from(transport_params.len())
            .unwrap_or(0)
            .to_be_bytes(),
    );
    exts.extend(transport_params);
    let mut body = vec![3, 3];
    body.extend([7u8; 32]);
    body.push(0);
    body.extend([0, 2, 0x13, 0x01]);
    body.extend([1, 0]);
    body.extend(u16::try_from(exts.len()).unwrap_or(0).to_be_bytes());
    body.extend(exts);
    let mut msg = vec![1, 0];
    msg.extend(u16::try_from(body.len()).unwrap_or(0).to_be_bytes());
    msg.extend(body);
    msg
}

fn crypto_frame(offset: u16, data: &[u8]) -> Vec<u8> {
    let mut f = vec![0x06];
    f.extend((offset | 0x4000).to_be_bytes());
    f.extend((u16::try_from(data.len()).unwrap_or(0) | 0x4000).to_be_bytes());
    f.extend(data);
    f
}

#[test]
fn rfc9001_client_initial_is_read() {
    let mut f = Flow::new(50000, 443);
    f.send(Dir::ToServer, &unhex(V1_CLIENT_INITIAL));
    assert_eq!(f.master(), id::QUIC);
    assert_eq!(f.attr(&VERSION).as_deref(), Some("V-1"));
    assert_eq!(f.attr(&SNI).as_deref(), Some("example.com"));
    assert_eq!(
        f.dpi.meta.get(&ALPN),
        Some(&MetaValue::List(vec!["alpn".to_string()]))
    );
    // 2 ciphers, 11 extensions, ALPN "alpn", fingerprinted as QUIC.
    assert!(f.attr(&JA4).is_some_and(|j| j.starts_with("q13d0211an_")));
    assert!(f.going, "the server's Initial is still to read");
}

/// A ServerHello handshake message choosing `cipher` in TLS 1.3.
fn server_hello(cipher: u16) -> Vec<u8> {
    let body = crate::protocols::tls::parser::tests::server_hello_body(cipher, true);
    let mut msg = vec![2, 0];
    msg.extend(u16::try_from(body.len()).unwrap_or(0).to_be_bytes());
    msg.extend(body);
    msg
}

/// The ACK and ServerHello (choosing `cipher`) a server answers RFC 9001's client Initial
/// with, and the frames themselves.
fn rfc9001_server_initial(cipher: u16) -> (Vec<u8>, Vec<u8>) {
    // RFC 9001's client Initial goes to 8394c8f03e515708: the server's keys derive from it;
    // the client's connection ID is the server's destination.
    let mut frames = vec![0x02, 0, 0, 0, 0];
    frames.extend(crypto_frame(0, &server_hello(cipher)));
    let key_dcid = unhex("8394c8f03e515708");
    let packet = seal_server_initial(version::V1, &key_dcid, &[0x0a; 8], &frames);
    (packet, frames)
}

#[test]
fn the_servers_initial_gives_the_version_cipher_and_ja3s() {
    let mut f = Flow::new(50000, 443);
    f.send(Dir::ToServer, &unhex(V1_CLIENT_INITIAL));
    let (server, frames) = rfc9001_server_initial(0x1302);
    let key_dcid = unhex("8394c8f03e515708");
    // Sealed with the client's keys it is not the server's: nothing is read.
    let forged = seal_as(
        crypto::Side::Client,
        version::V1,
        &key_dcid,
        &[0x0a; 8],
        0,
        &frames,
        0,
    );
    f.send(Dir::ToClient, &forged);
    assert_eq!(f.attr(&tls::CIPHER), None);
    assert!(f.going);
    f.send(Dir::ToClient, &server);
    assert_eq!(f.attr(&tls::VERSION).as_deref(), Some("TLSv1.3"));
    assert_eq!(
        f.attr(&tls::CIPHER).as_deref(),
        Some("TLS_AES_256_GCM_SHA384")
    );
    assert!(f.attr(&tls::JA3S).is_some_and(|j| j.len() == 32));
    assert!(!f.going, "nothing left to learn after both hellos");
}

#[test]
fn both_hellos_are_read_whichever_side_the_flow_took_for_the_client() {
    // A capture that starts with the server's packet makes the server the flow's client.
    let mut f = Flow::new(443, 50000);
    f.send(Dir::ToClient, &unhex(V1_CLIENT_INITIAL));
    f.send(Dir::ToServer, &rfc9001_server_initial(0x1301).0);
    assert_eq!(f.attr(&SNI).as_deref(), Some("example.com"));
    assert_eq!(
        f.attr(&tls::CIPHER).as_deref(),
        Some("TLS_AES_128_GCM_SHA256")
    );
}

#[test]
fn after_a_retry_the_servers_keys_derive_from_the_connection_id_it_gave() {
    let v = version::V1;
    let hello = crypto_frame(0, &client_hello("example.org", "h3", &[]));
    let mut f = Flow::new(50000, 443);
    f.send(Dir::ToServer, &seal_initial(v, &[1; 8], &[1; 8], 0, &hello));
    // Retry: first byte 0xf0 (long header, type 3), the new connection ID as its source, a
    // token and the 16-byte integrity tag.
    let mut retry = vec![0xf0];
    retry.extend(v.to_be_bytes());
    retry.extend([8, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b]);
    retry.extend([8, 7, 7, 7, 7, 7, 7, 7, 7]);
    retry.extend([0x55; 24]);
    f.send(Dir::ToClient, &retry);
    f.send(Dir::ToServer, &seal_initial(v, &[7; 8], &[7; 8], 1, &hello));
    let mut frames = crypto_frame(0, &server_hello(0x1301));
    frames.push(0x01);
    f.send(
        Dir::ToClient,
        &seal_server_initial(v, &[7; 8], &[0x0b; 8], &frames),
    );
    assert_eq!(f.attr(&SNI).as_deref(), Some("example.org"));
    assert_eq!(
        f.attr(&tls::CIPHER).as_deref(),
        Some("TLS_AES_128_GCM_SHA256")
    );
}

#[test]
fn rfc9369_v2_client_initial_is_read() {
    let mut f = Flow::new(50000, 4443);
    f.send(Dir::ToServer, &unhex(V2_CLIENT_INITIAL));
    assert_eq!(f.master(), id::QUIC);
    assert_eq!(f.attr(&VERSION).as_deref(), Some("V-2"));
    assert_eq!(f.attr(&SNI).as_deref(), Some("example.com"));
}

#[test]
fn undecryptable_initial_is_still_quic() {
    let mut packet = unhex(V1_CLIENT_INITIAL);
    packet[700] ^= 0xff;
    let mut f = Flow::new(50000, 443);
    f.send(Dir::ToServer, &packet);
    assert_eq!(f.master(), id::QUIC);
    assert_eq!(f.attr(&VERSION).as_deref(), Some("V-1"));
    assert_eq!(f.attr(&SNI), None);
    assert!(f.going, "later Initials may still carry the ClientHello");
}

#[test]
fn client_hello_split_over_packets_out_of_order_with_new_dcid() {
    // Google's user agent as Chrome sends it, in varint transport parameters.
    let ua = b"dev Chrome/92.0.4503.5 Windows NT 10.0; Win64; x64";
    let mut tp = vec![0x01, 0x02, 0x67, 0x10]; // max_idle_timeout
    tp.extend([0x80, 0x00, 0x31, 0x29, u8::try_from(ua.len()).unwrap_or(0)]);
    tp.extend(ua);
    let hello = client_hello("www.youtube.com", "h3-29", &tp);
    assert!(hello.len() > 120);
    let (a, b) = hello.split_at(50);
    let (b, c) = b.split_at(50);
    let v = 0xff00_001d;
    let first_dcid = [1u8, 2, 3, 4, 5, 6, 7, 8];
    // The tail first; then the middle and the head in one packet, head last, under a new DCID
    // (the client switched to the server's connection ID but keeps its first Initial keys).
    let p1 = seal_initial(v, &first_dcid, &first_dcid, 0, &crypto_frame(100, c));
    let mut frames = crypto_frame(50, b);
    frames.push(0x01); // PING
    frames.extend(crypto_frame(0, a));
    let p2 = seal_initial(v, &first_dcid, &[9u8; 12], 1, &frames);
    let mut f = Flow::new(40000, 443);
    f.send(Dir::ToServer, &p1);
    assert_eq!(f.master(), id::QUIC);
    assert_eq!(f.attr(&SNI), None);
    assert!(f.going);
    f.send(Dir::ToServer, &p2);
    assert_eq!(f.attr(&VERSION).as_deref(), Some("Draft-29"));
    assert_eq!(f.attr(&SNI).as_deref(), Some("www.youtube.com"));
    assert_eq!(f.app().as_deref(), Some("YouTube"));
    assert_eq!(
        f.attr(&USER_AGENT).as_deref(),
        Some("dev Chrome/92.0.4503.5 Windows NT 10.0; Win64; x64")
    );
    assert!(f.going, "the server's Initial is still to read");
}

#[test]
fn server_name_risks() {
    let v = version::V1;
    let numeric = client_hello("192.0.2.1", "h3", &[]);
    let mut f = Flow::new(50000, 443);
    f.send(
        Dir::ToServer,
        &seal_initial(v, &[4; 8], &[4; 8], 0, &crypto_frame(0, &numeric)),
    );
    assert_eq!(f.attr(&SNI).as_deref(), Some("192.0.2.1"));
    assert!(f.dpi.risks.contains(&tls::RISK_NUMERIC_SNI));
    let empty = client_hello("", "h3", &[]);
    let mut g = Flow::new(50000, 443);
    g.send(
        Dir::ToServer,
        &seal_initial(v, &[4; 8], &[4; 8], 0, &crypto_frame(0, &empty)),
    );
    assert_eq!(g.attr(&SNI), None);
    assert_eq!(g.dpi.risks, vec![RISK_MISSING_SNI]);
    assert!(g.attr(&JA4).is_some());
}

#[test]
fn oversized_client_hello_is_given_up() {
    // A handshake message announcing 64 KiB: past the reassembly bound, never complete.
    let mut msg = vec![0x01, 0x01, 0x00, 0x00];
    msg.extend([0u8; 900]);
    let mut f = Flow::new(50000, 443);
    f.send(
        Dir::ToServer,
        &seal_initial(version::V1, &[2; 8], &[2; 8], 0, &crypto_frame(0, &msg)),
    );
    assert_eq!(f.master(), id::QUIC);
    assert!(f.dpi.risks.contains(&RISK_CRYPTO_OVERFLOW));
    assert!(!f.going);
}

#[test]
fn short_initial_waits_for_more() {
    // An ACK-only Initial (no padding needed) does not confirm QUIC alone.
    let ack = seal_as(
        crypto::Side::Client,
        version::V1,
        &[3; 8],
        &[3; 8],
        0,
        &[0x02, 0, 0, 0, 0],
        60,
    );
    assert_eq!(ack.len(), 60);
    let mut f = Flow::new(50000, 443);
    f.send(Dir::ToServer, &ack);
    assert_eq!(f.master(), ProtoId::UNKNOWN);
    assert!(f.going);
    f.send(Dir::ToServer, &unhex(V1_CLIENT_INITIAL));
    assert_eq!(f.master(), id::QUIC);
}

#[test]
fn forced_version_negotiation_then_real_initial() {
    let hello = unhex(CLIENT_CRYPTO_FRAME);
    let grease = 0x1a2a_3a4a;
    // The greased Initial cannot be opened: its keys are meaningless.
    let p1 = seal_initial(version::V1, &[5; 8], &[5; 8], 0, &hello);
    let mut p1 = p1;
    p1[1..5].copy_from_slice(&u32::to_be_bytes(grease));
    let mut vn = vec![0x80, 0, 0, 0, 0, 0, 8];
    vn.extend([5u8; 8]);
    vn.extend(1u32.to_be_bytes());
    let p3 = seal_initial(version::V1, &[6; 8], &[6; 8], 0, &hello);
    let mut f = Flow::new(50000, 4433);
    f.send(Dir::ToServer, &p1);
    assert_eq!(f.attr(&VERSION).as_deref(), Some("Ver-Negotiation"));
    f.send(Dir::ToClient, &vn).send(Dir::ToServer, &p3);
    assert_eq!(f.attr(&VERSION).as_deref(), Some("V-1"));
    assert_eq!(f.attr(&SNI).as_deref(), Some("example.com"));
}

/// A Q025-style client packet: public header, hash, private flags, STREAM frame with a CHLO.
fn gquic_chlo(version: &[u8; 4], sni: &str, ua: &str) -> Vec<u8> {
    let mut chlo = b"CHLO".to_vec();
    chlo.extend([2, 0, 0, 0]);
    chlo.extend(b"SNI\0");
    chlo.extend(u32::try_from(sni.len()).unwrap_or(0).to_le_bytes());
    chlo.extend(b"UAID");
    chlo.extend(
        u32::try_from(sni.len() + ua.len())
            .unwrap_or(0)
            .to_le_bytes(),
    );
    chlo.extend(sni.as_bytes());
    chlo.extend(ua.as_bytes());
    let mut p = vec![0x0d, 1, 2, 3, 4, 5, 6, 7, 8];
    p.extend(version);
    p.push(1);
    p.extend([0xaa; 12]);
    p.push(0);
    p.extend([0xa0, 0x01]);
    p.extend(u16::try_from(chlo.len()).unwrap_or(0).to_le_bytes());
    p.extend(chlo);
    p.resize(1350, 0);
    p
}

#[test]
fn google_quic_chlo() {
    let mut f = Flow::new(35236, 443);
    f.send(
        Dir::ToServer,
        &gquic_chlo(
            b"Q030",
            "www.youtube.com",
            "Chrome/50.0.2661.102 Linux x86_64",
        ),
    );
    assert_eq!(f.master(), id::QUIC);
    assert_eq!(f.attr(&VERSION).as_deref(), Some("Q030"));
    assert_eq!(f.attr(&SNI).as_deref(), Some("www.youtube.com"));
    assert_eq!(f.app().as_deref(), Some("YouTube"));
    assert_eq!(
        f.attr(&USER_AGENT).as_deref(),
        Some("Chrome/50.0.2661.102 Linux x86_64")
    );
}

#[test]
fn short_header_packets_to_443() {
    let sh = |last: u8| {
        let mut p = vec![0x47, 9, 9, 9, 9, 9, 9, 9, 9, 0x31, 0x32];
        p.extend([0x55; 40]);
        p.push(last);
        p
    };
    let mut f = Flow::new(40000, 443);
    f.send(Dir::ToServer, &sh(1))
        .send(Dir::ToClient, &[0x41; 60]);
    f.send(Dir::ToServer, &sh(2));
    assert_eq!(f.master(), ProtoId::UNKNOWN);
    f.send(Dir::ToServer, &sh(3));
    assert_eq!(f.master(), id::QUIC);
    assert_eq!(f.attr(&VERSION), None);
    // A repeated packet (same last byte) is not QUIC's encrypted traffic; nor another port.
    let mut g = Flow::new(40000, 443);
    g.send(Dir::ToServer, &sh(1)).send(Dir::ToServer, &sh(1));
    g.send(Dir::ToServer, &sh(2));
    assert_eq!(g.master(), ProtoId::UNKNOWN);
    let mut h = Flow::new(40000, 8443);
    h.send(Dir::ToServer, &sh(1)).send(Dir::ToServer, &sh(2));
    h.send(Dir::ToServer, &sh(3));
    assert_eq!(h.master(), ProtoId::UNKNOWN);
}

#[test]
fn google_quic_mid_flow_packets_to_443() {
    // Public flags 0x0c (8-byte connection ID), no version, 1-byte packet number.
    let gq = |pn: u8| {
        let mut p = vec![0x0c, 0xee, 0x4f, 0xa0, 0xe1, 0xda, 0xc8, 0x93, 0x44, pn];
        p.extend([0x5d; 30]);
        p
    };
    let mut f = Flow::new(41993, 443);
    f.send(Dir::ToServer, &gq(0x0f))
        .send(Dir::ToClient, &[0x00, 0x0e, 0x72, 0xfd, 0x50]);
    f.send(Dir::ToServer, &gq(0x10));
    assert_eq!(f.master(), ProtoId::UNKNOWN);
    f.send(Dir::ToServer, &gq(0x12));
    assert_eq!(f.master(), id::QUIC);
    // Packet numbers going back are not one connection's packets.
    let mut g = Flow::new(41993, 443);
    g.send(Dir::ToServer, &gq(9)).send(Dir::ToServer, &gq(8));
    g.send(Dir::ToServer, &gq(7));
    assert_eq!(g.master(), ProtoId::UNKNOWN);
}

#[test]
fn other_udp_is_not_quic() {
    // A DNS query, an unknown long-header version, a truncated Initial, random bytes.
    let dns = unhex("12340100000100000000000003777777076578616d706c6503636f6d0000010001");
    let mut unknown = unhex(V1_CLIENT_INITIAL);
    unknown[1..5].copy_from_slice(&[0x12, 0x34, 0x56, 0x78]);
    let truncated = unhex(V1_CLIENT_INITIAL)[..600].to_vec();
    let noise: Vec<u8> = (0..1300u32).map(|i| (i * 7919 % 251) as u8).collect();
    for payload in [dns, unknown, truncated, noise] {
        let mut f = Flow::new(50000, 443);
        f.send(Dir::ToServer, &payload);
        assert_eq!(f.master(), ProtoId::UNKNOWN, "{:02x?}", &payload[..8]);
        assert!(!f.going);
    }
}

#[test]
fn transport_parameters_in_both_encodings() {
    let varint = [
        0x04, 0x02, 0x40, 0x10, 0x80, 0x00, 0x31, 0x29, 0x03, b'u', b'a', b'!',
    ];
    assert_eq!(transport_param(&varint, true, 0x3129), Some(&b"ua!"[..]));
    assert_eq!(transport_param(&varint, true, 0x05), None);
    // Before draft-27: list length, then 16-bit id and length.
    let old = [
        0x00, 0x0b, 0x00, 0x04, 0x00, 0x01, 0x07, 0x31, 0x29, 0x00, 0x02, b'u', b'a',
    ];
    assert_eq!(transport_param(&old, false, 0x3129), Some(&b"ua"[..]));
    // A value longer than the list is not read.
    assert_eq!(transport_param(&varint[..10], true, 0x3129), None);
}
