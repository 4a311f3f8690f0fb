//! QUIC: header parsing, Initial decryption, frame walking, CRYPTO reassembly and the
//! ClientHello/CHLO and ServerHello readers. The input is split into datagrams; most are also
//! sealed as real Initials, the client's or the server's by direction (so the fuzzer's bytes
//! reach the decrypted-frames path on both sides), and all go through the classifier with the
//! QUIC dissector. Nothing may panic; reassembly stays bounded.
#![no_main]
use aes_gcm::aead::generic_array::GenericArray;
use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::Aes128Gcm;
use libfuzzer_sys::fuzz_target;
use netsonde_core::classify::{candidate_order, Dir, Dpi, FlowFacts, SignatureSet};
use netsonde_core::protocols::quic::{crypto, frames, gquic, header, DISSECTOR};
use std::sync::OnceLock;

/// Seals `frames` as an Initial of version `v` (draft-29 or v1 or v2) from `side`, with the
/// keys of a fixed client DCID.
fn seal(v: u32, pn: u8, frames: &[u8], side: crypto::Side) -> Option<Vec<u8>> {
    let dcid = [0x42u8; 8];
    let keys = crypto::initial_keys(v, &dcid, side)?;
    let mut packet = vec![if v == header::version::V2 { 0xd0 } else { 0xc0 }];
    packet.extend(v.to_be_bytes());
    packet.push(8);
    packet.extend(dcid);
    packet.extend([0, 0]);
    let mut payload = frames.get(..frames.len().min(1400))?.to_vec();
    if payload.len() < 20 {
        payload.resize(20, 0);
    }
    let len = u16::try_from(1 + payload.len() + 16).ok()? | 0x4000;
    packet.extend(len.to_be_bytes());
    let pn_at = packet.len();
    packet.push(pn);
    let mut nonce = keys.iv;
    if let Some(last) = nonce.last_mut() {
        *last ^= pn;
    }
    let tag = Aes128Gcm::new(GenericArray::from_slice(&keys.key))
        .encrypt_in_place_detached(GenericArray::from_slice(&nonce), &packet, &mut payload)
        .ok()?;
    packet.extend(&payload);
    packet.extend(tag.as_slice());
    let sample: [u8; 16] = packet.get(pn_at + 4..pn_at + 20)?.try_into().ok()?;
    let mask = crypto::header_mask(&keys.hp, &sample);
    *packet.first_mut()? ^= mask[0] & 0x0f;
    *packet.get_mut(pn_at)? ^= mask[1];
    Some(packet)
}

fuzz_target!(|data: &[u8]| {
    // The pure parsers on the raw input.
    let _ = header::parse_long_packet(data);
    let _ = header::parse_gquic(data);
    let _ = header::is_gquic_rej(data);
    let _ = gquic::parse_chlo(data);
    let _ = gquic::stream_data(data, 0x5130_3433);
    let _ = gquic::crypto_frame_data(data);
    let mut stream = frames::CryptoStream::default();
    let _ = frames::walk_initial(data, |offset, bytes| stream.add(offset, bytes));
    let _ = stream.first_message();
    assert!(stream.contiguous().len() <= frames::MAX_CRYPTO_BYTES);

    // The dissector over datagrams: [dir/kind byte][u16 length][bytes]...
    static SIGS: OnceLock<SignatureSet> = OnceLock::new();
    let sigs = SIGS.get_or_init(SignatureSet::builtin);
    let dissectors = [&DISSECTOR];
    let mut dpi = Dpi::new(candidate_order(&dissectors, 17, [40000, 443]));
    let facts = FlowFacts {
        l4: 17,
        client_port: 40000,
        server_port: 443,
        ip_version: 4,
        client_ip: [0; 16],
        server_ip: [0; 16],
    };
    let mut rest = data;
    let mut pn = 0u8;
    while let [kind, l0, l1, tail @ ..] = rest {
        let n = usize::from(u16::from_be_bytes([*l0, *l1])).min(tail.len());
        let (chunk, next) = tail.split_at(n);
        rest = next;
        let (dir, side) = if kind & 1 == 0 {
            (Dir::ToServer, crypto::Side::Client)
        } else {
            (Dir::ToClient, crypto::Side::Server)
        };
        let version = match kind >> 1 & 3 {
            0 => None,
            1 => Some(header::version::V1),
            2 => Some(header::version::V2),
            _ => Some(0xff00_001d),
        };
        let sealed = version.and_then(|v| seal(v, pn, chunk, side));
        pn = pn.wrapping_add(1);
        let datagram = sealed.as_deref().unwrap_or(chunk);
        let mut events = Vec::new();
        let mut sink = netsonde_core::metadata::EventSink::silent(&mut events);
        if !dpi.inspect(datagram, dir, facts, None, 0, sigs, &dissectors, &mut sink) {
            break;
        }
    }
});
