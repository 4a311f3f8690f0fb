//! WireGuard: four message types, each a type byte and three zero bytes, with fixed sizes —
//! handshake initiation (148), handshake response (92), cookie reply (64) — and transport
//! data (at least 32, a multiple of 16). Handshake messages confirm the flow at once; data
//! alone needs a second packet with the same receiver index and a later counter.
//! Some VPN providers append data to the handshake messages: such an initiation is
//! confirmed by the response naming its sender index as receiver. TunnelBear's servers
//! append 8 bytes to the response (100 bytes), which names the provider.

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};
use crate::attrs;

attrs! {
    pub SENDER_INDEX = "wireguard.sender_index", Int, Identifier, "Sender index of the handshake initiation";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[&SENDER_INDEX];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::WIREGUARD,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[51820],
    inspect,
};

const INITIATION: u8 = 1;
const RESPONSE: u8 = 2;
const COOKIE_REPLY: u8 = 3;
const TRANSPORT: u8 = 4;
/// Header (16) and the authentication tag (16) of a transport message.
const MIN_TRANSPORT: usize = 32;

/// The message type, when the datagram has a WireGuard message's shape.
pub fn message_type(d: &[u8]) -> Option<u8> {
    let (&t, reserved) = d.split_first()?;
    if reserved.get(..3)? != [0, 0, 0] {
        return None;
    }
    let ok = match t {
        INITIATION => d.len() == 148,
        RESPONSE => d.len() == 92,
        COOKIE_REPLY => d.len() == 64,
        TRANSPORT => d.len() >= MIN_TRANSPORT && d.len() % 16 == 0,
        _ => false,
    };
    ok.then_some(t)
}

fn le32(d: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(d.get(at..at + 4)?.try_into().ok()?))
}

fn le64(d: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(d.get(at..at + 8)?.try_into().ok()?))
}

/// TunnelBear's handshake response: the standard 92 bytes and 8 of its own.
const TUNNELBEAR_RESPONSE: usize = 100;

/// Whether `d` is a handshake initiation with appended data (longer than 148 bytes).
fn extended_initiation(d: &[u8]) -> bool {
    d.len() > 148 && d.len() <= 148 + 256 && d.get(..4) == Some(&[INITIATION, 0, 0, 0][..])
}

/// Whether `d` is a handshake response (possibly extended) to the initiation `init`: its
/// receiver index is the initiator's sender index.
pub fn answers_initiation(init: &[u8], d: &[u8]) -> bool {
    d.len() >= 92
        && d.len() <= 92 + 256
        && d.get(..4) == Some(&[RESPONSE, 0, 0, 0][..])
        && le32(d, 8).is_some()
        && le32(d, 8) == le32(init, 4)
}

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    let d = ins.data;
    let init = ins.first_payload[0];
    if extended_initiation(init) {
        if ins.to_server() {
            return if ins.dir_packets[1] == 0 && ins.dir_packets[0] <= 4 {
                Verdict::Continue
            } else {
                Verdict::Exclude
            };
        }
        if answers_initiation(init, d) {
            if let Some(i) = le32(init, 4) {
                st.set(&SENDER_INDEX, crate::record::MetaValue::Int(i64::from(i)));
            }
            ins.detect(id::WIREGUARD);
            if d.len() == TUNNELBEAR_RESPONSE {
                if let Some(app) = ins.sigs.app_by_name("TunnelBear") {
                    ins.set_app(app);
                }
            }
            return Verdict::Done;
        }
        return Verdict::Exclude;
    }
    let Some(t) = message_type(d) else {
        return Verdict::Exclude;
    };
    if t == INITIATION {
        if let Some(i) = le32(d, 4) {
            st.set(&SENDER_INDEX, crate::record::MetaValue::Int(i64::from(i)));
        }
    }
    if t != TRANSPORT {
        ins.detect(id::WIREGUARD);
        return Verdict::Done;
    }
    // Transport data: the first packet of this direction must be one too, to the same
    // receiver, with an earlier counter.
    let first = ins
        .first_payload
        .get(ins.dir as usize)
        .copied()
        .unwrap_or_default();
    let same_receiver = first.len() >= MIN_TRANSPORT
        && message_type(first) == Some(TRANSPORT)
        && le32(first, 4) == le32(d, 4);
    match (same_receiver, le64(first, 8), le64(d, 8)) {
        (true, Some(c0), Some(c1)) if c1 > c0 => {
            ins.detect(id::WIREGUARD);
            Verdict::Done
        }
        (true, _, _) => Verdict::Continue,
        _ => Verdict::Exclude,
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    fn msg(t: u8, len: usize, index: u32, counter: u64) -> Vec<u8> {
        let mut m = vec![t, 0, 0, 0];
        m.extend_from_slice(&index.to_le_bytes());
        m.extend_from_slice(&counter.to_le_bytes());
        m.resize(len, 0xaa);
        m
    }

    #[test]
    fn handshake() {
        let mut c = Conv::udp(&DISSECTOR, 43462, 51820);
        c.client(&msg(INITIATION, 148, 0x30d037d8, 0));
        assert_eq!(c.name(), "WireGuard");
        assert_eq!(c.meta(&SENDER_INDEX).as_deref(), Some("818952152"));
    }

    #[test]
    fn transport_needs_two_packets() {
        let mut c = Conv::udp(&DISSECTOR, 36116, 443);
        c.server(&msg(TRANSPORT, 128, 7, 0));
        assert_eq!(c.name(), "Unknown");
        assert!(c.open);
        c.server(&msg(TRANSPORT, 64, 7, 1));
        assert_eq!(c.name(), "WireGuard");
        // Another receiver index: not the same tunnel.
        let mut c = Conv::udp(&DISSECTOR, 36116, 443);
        c.server(&msg(TRANSPORT, 128, 7, 0))
            .server(&msg(TRANSPORT, 128, 8, 1));
        assert!(!c.open);
    }

    #[test]
    fn shapes() {
        assert_eq!(message_type(&msg(INITIATION, 149, 1, 0)), None);
        assert_eq!(message_type(&msg(RESPONSE, 92, 1, 0)), Some(RESPONSE));
        assert_eq!(
            message_type(&msg(COOKIE_REPLY, 64, 1, 0)),
            Some(COOKIE_REPLY)
        );
        assert_eq!(message_type(&msg(TRANSPORT, 40, 1, 0)), None);
        let mut m = msg(INITIATION, 148, 1, 0);
        if let Some(b) = m.get_mut(2) {
            *b = 1;
        }
        assert_eq!(message_type(&m), None);
    }

    #[test]
    fn extended_handshake() {
        let init = msg(1, 204, 0xac18_6631, 0);
        let mut resp = msg(2, 100, 0x001a_ca02, 0);
        resp[8..12].copy_from_slice(&0xac18_6631u32.to_le_bytes());
        assert!(answers_initiation(&init, &resp));
        let mut c = Conv::udp(&DISSECTOR, 57636, 51820);
        c.client(&init);
        assert_eq!(c.name(), "Unknown");
        c.server(&resp);
        assert_eq!(c.name(), "WireGuard.TunnelBear");
        let mut plain = resp.clone();
        plain.truncate(96);
        let mut c = Conv::udp(&DISSECTOR, 57636, 51820);
        c.client(&init).server(&plain);
        assert_eq!(c.name(), "WireGuard");
        let other = msg(2, 100, 0x001a_ca02, 7);
        let mut c = Conv::udp(&DISSECTOR, 57636, 51820);
        c.client(&init).server(&other);
        assert_eq!(c.name(), "Unknown");
    }
}
