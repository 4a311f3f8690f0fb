//! Ethereum peer-to-peer (devp2p). UDP: node discovery v4 packets, `hash || signature ||
//! type || data`, where the hash is the Keccak-256 of everything after it — checked, so a
//! match is certain. TCP: the RLPx handshake, an ECIES message whose plaintext starts with
//! an uncompressed public key (0x04); EIP-8 prefixes it with its 16-bit size, the original
//! format has fixed sizes (307-byte auth, 210-byte ack).

use sha3::{Digest, Keccak256};

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};
use crate::attrs;

attrs! {
    pub DISCOVERY = "ethereum.discovery", Str, Usage, "First node-discovery v4 message (ping, pong, findnode, neighbors, enrrequest, enrresponse)";
    pub HANDSHAKE = "ethereum.handshake", Str, Usage, "RLPx handshake format seen: eip8 or legacy";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[&DISCOVERY, &HANDSHAKE];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::ETHEREUM,
    transports: Transports::TCP_UDP,
    tcp_ports: &[30303],
    udp_ports: &[30303],
    inspect,
};

const HASH_LEN: usize = 32;
const SIGNATURE_LEN: usize = 65;
/// Offset of the packet-type byte: after the hash and the signature.
const TYPE_AT: usize = HASH_LEN + SIGNATURE_LEN;
/// Discovery packets are at most 1280 bytes.
const MAX_DISCOVERY: usize = 1280;
/// ECIES overhead: ephemeral public key (65), IV (16), MAC (32).
const ECIES_OVERHEAD: usize = 65 + 16 + 32;
/// EIP-8 handshake messages carry at least 100 bytes of padding.
const MIN_EIP8: usize = ECIES_OVERHEAD + 100;
const MAX_EIP8: usize = 2048;
const LEGACY_AUTH: usize = 307;
const LEGACY_ACK: usize = 210;

/// The message name of a valid discovery v4 packet.
pub fn discovery_v4(d: &[u8]) -> Option<&'static str> {
    if d.len() <= TYPE_AT || d.len() > MAX_DISCOVERY {
        return None;
    }
    let name = match d.get(TYPE_AT)? {
        1 => "ping",
        2 => "pong",
        3 => "findnode",
        4 => "neighbors",
        5 => "enrrequest",
        6 => "enrresponse",
        _ => return None,
    };
    let hash = Keccak256::digest(d.get(HASH_LEN..)?);
    (d.get(..HASH_LEN)? == hash.as_slice()).then_some(name)
}

/// The RLPx handshake format of a first TCP message, if it is one.
pub fn rlpx_handshake(d: &[u8], to_server: bool) -> Option<&'static str> {
    let size = usize::from(u16::from_be_bytes([*d.first()?, *d.get(1)?]));
    if d.len() == size + 2 && (MIN_EIP8..=MAX_EIP8).contains(&size) && d.get(2) == Some(&0x04) {
        return Some("eip8");
    }
    let legacy = if to_server { LEGACY_AUTH } else { LEGACY_ACK };
    (d.len() == legacy && d.first() == Some(&0x04)).then_some("legacy")
}

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    if ins.flow.l4 == 17 {
        return match discovery_v4(ins.data) {
            Some(msg) => {
                ins.detect(id::ETHEREUM);
                st.set_str(&DISCOVERY, msg);
                Verdict::Done
            }
            None => Verdict::Exclude,
        };
    }
    // TCP: only the first message of a direction is a handshake (wait while it arrives).
    if let [a, b, 0x04, ..] = *ins.data {
        let size = usize::from(u16::from_be_bytes([a, b]));
        if (MIN_EIP8..=MAX_EIP8).contains(&size) && ins.data.len() < size + 2 {
            return Verdict::Continue;
        }
    }
    if ins.dir_packets.get(ins.dir as usize).copied().unwrap_or(0) > 1 {
        return Verdict::Exclude;
    }
    match rlpx_handshake(ins.data, ins.to_server()) {
        Some(format) => {
            ins.detect(id::ETHEREUM);
            st.set_str(&HANDSHAKE, format);
            Verdict::Done
        }
        None => Verdict::Exclude,
    }
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    fn discovery_packet(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut rest = vec![0x11u8; SIGNATURE_LEN];
        rest.push(kind);
        rest.extend_from_slice(body);
        let mut pkt = Keccak256::digest(&rest).to_vec();
        pkt.extend_from_slice(&rest);
        pkt
    }

    #[test]
    fn keccak_known_answer() {
        assert_eq!(
            Keccak256::digest(b"").as_slice(),
            &[
                0xc5, 0xd2, 0x46, 0x01, 0x86, 0xf7, 0x23, 0x3c, 0x92, 0x7e, 0x7d, 0xb2, 0xdc, 0xc7,
                0x03, 0xc0, 0xe5, 0x00, 0xb6, 0x53, 0xca, 0x82, 0x27, 0x3b, 0x7b, 0xfa, 0xd8, 0x04,
                0x5d, 0x85, 0xa4, 0x70
            ]
        );
    }

    #[test]
    fn discovery() {
        let pkt = discovery_packet(1, &[0xc0; 30]);
        assert_eq!(discovery_v4(&pkt), Some("ping"));
        let mut c = Conv::udp(&DISSECTOR, 56693, 30303);
        c.client(&pkt);
        assert_eq!(c.name(), "ETHEREUM");
        assert_eq!(c.meta(&DISCOVERY).as_deref(), Some("ping"));
        // One flipped bit breaks the hash.
        let mut bad = pkt.clone();
        if let Some(b) = bad.get_mut(40) {
            *b ^= 1;
        }
        assert_eq!(discovery_v4(&bad), None);
        assert_eq!(discovery_v4(&discovery_packet(9, &[0xc0; 30])), None);
        let mut c = Conv::udp(&DISSECTOR, 30303, 30303);
        c.client(&bad);
        assert_eq!(c.name(), "Unknown");
    }

    #[test]
    fn rlpx() {
        let mut auth = vec![0x01, 0xed, 0x04];
        auth.resize(0x1ed + 2, 0xab);
        let mut c = Conv::tcp(&DISSECTOR, 56615, 30303);
        c.client(&auth);
        assert_eq!(c.name(), "ETHEREUM");
        assert_eq!(c.meta(&HANDSHAKE).as_deref(), Some("eip8"));
        let mut legacy = vec![0x04];
        legacy.resize(LEGACY_AUTH, 1);
        assert_eq!(rlpx_handshake(&legacy, true), Some("legacy"));
        assert_eq!(rlpx_handshake(&legacy, false), None);
        // Wrong size prefix, wrong key marker, too small.
        let mut wrong = auth.clone();
        wrong.push(0);
        assert_eq!(rlpx_handshake(&wrong, true), None);
        let mut wrong = auth.clone();
        if let Some(b) = wrong.get_mut(2) {
            *b = 0x02;
        }
        assert_eq!(rlpx_handshake(&wrong, true), None);
        assert_eq!(rlpx_handshake(&[0x00, 0x02, 0x04, 0x00], true), None);
    }
}
