//! RakNet (game networking over UDP). Offline (unconnected) messages carry a fixed 16-byte
//! "offline message" magic: right after the message id in the connection requests and
//! replies (ids 0x05-0x08 and vendor ids), after the id and an 8-byte time in unconnected
//! pings (0x01, 0x02), and after id, time and a 64-bit GUID in unconnected pongs (0x1c),
//! which end with a length-prefixed server description.
//!
//! A flow seen mid-session is recognised by its connected datagrams when they parse
//! exactly: frame sets (0x84/0x8c: 24-bit sequence number, then frames of flags, bit
//! length and the reliability/ordering/split fields those flags call for) and ACK/NAK
//! (0xc0/0xa0: a record count, then single sequence numbers or ranges).

use super::wire::be16;
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static DISSECTOR: Dissector = Dissector {
    proto: id::RAKNET,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[19132, 19133],
    inspect,
};

pub const MAGIC: [u8; 16] = [
    0x00, 0xff, 0xff, 0x00, 0xfe, 0xfe, 0xfe, 0xfe, 0xfd, 0xfd, 0xfd, 0xfd, 0x12, 0x34, 0x56, 0x78,
];

/// Whether the datagram is a RakNet offline message.
pub fn is_offline_message(d: &[u8]) -> bool {
    let magic_at = |at: usize| d.get(at..at + MAGIC.len()) == Some(&MAGIC[..]);
    match d.first() {
        Some(0x01 | 0x02) => magic_at(9),
        // Unconnected pong: the description's length must end the datagram exactly
        // (some servers fill the magic with their own bytes).
        Some(0x1c) => {
            magic_at(17) || be16(d, 33).is_some_and(|n| n > 0 && usize::from(n) + 35 == d.len())
        }
        Some(_) => magic_at(1),
        None => false,
    }
}

fn le24(d: &[u8], at: usize) -> Option<u32> {
    let [a, b, c]: [u8; 3] = d.get(at..at + 3)?.try_into().ok()?;
    Some(u32::from_le_bytes([a, b, c, 0]))
}

/// Whether the datagram is a connected frame set or ACK/NAK that parses to its last byte.
pub fn is_connected_datagram(d: &[u8]) -> bool {
    match d.first() {
        // Valid-datagram bit with "needs B and AS" (and continuous-send): what RakNet
        // sends. A bare 0x80 is left out, as it is also RTP's first byte.
        Some(0x84 | 0x8c) => frames_fit(d, 4),
        Some(0xa0 | 0xc0) => ack_records_fit(d),
        _ => false,
    }
}

fn frames_fit(d: &[u8], mut at: usize) -> bool {
    if at >= d.len() {
        return false;
    }
    while at < d.len() {
        let (Some(flags), Some(bits)) = (d.get(at), be16(d, at + 1)) else {
            return false;
        };
        let reliability = flags >> 5;
        if flags & 0x0f != 0 || bits == 0 {
            return false;
        }
        // Only unreliable and reliable (unordered) frames count as evidence: nDPI does not
        // recognise flows seen from their ordered/sequenced frames, and claiming those
        // would disagree with it.
        if !matches!(reliability, 0 | 2 | 5 | 6) {
            return false;
        }
        at += 3;
        // Reliable kinds carry a message index; sequenced ones a sequence index; ordered
        // and sequenced ones an ordering index and channel.
        if matches!(reliability, 2 | 3 | 4 | 6 | 7) {
            at += 3;
        }
        if matches!(reliability, 1 | 4) {
            at += 3;
        }
        if matches!(reliability, 1 | 3 | 4 | 7) {
            at += 4;
        }
        if flags & 0x10 != 0 {
            at += 10;
        }
        at += usize::from(bits).div_ceil(8);
    }
    at == d.len()
}

fn ack_records_fit(d: &[u8]) -> bool {
    let Some(count) = be16(d, 1) else {
        return false;
    };
    if count == 0 {
        return false;
    }
    let mut at = 3;
    for _ in 0..count {
        match d.get(at) {
            Some(1) => at += 4,
            Some(0) => match (le24(d, at + 1), le24(d, at + 4)) {
                (Some(lo), Some(hi)) if lo <= hi => at += 7,
                _ => return false,
            },
            _ => return false,
        }
    }
    at == d.len()
}

/// Whether the flow's first datagram is a full-MTU offline message behind a 31-byte
/// header (RakNet as extended by Roblox: the MTU-discovery connection request is wrapped).
pub fn is_wrapped_offline_message(d: &[u8]) -> bool {
    d.len() >= 1200 && d.get(32..48) == Some(&MAGIC[..])
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    let d = ins.data;
    let wrapped = ins.packet_no == 1 && is_wrapped_offline_message(d);
    if wrapped || is_offline_message(d) || (d.len() >= 7 && is_connected_datagram(d)) {
        ins.detect(id::RAKNET);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn open_connection_request() {
        let mut p = vec![0x05];
        p.extend_from_slice(&MAGIC);
        p.push(6);
        p.resize(1464, 0);
        let mut c = Conv::udp(&DISSECTOR, 44501, 60030);
        c.client(&p);
        assert_eq!(c.name(), "RakNet");
    }

    #[test]
    fn wrapped_connection_request() {
        let mut p = vec![0x01, 0x00, 0x00, 0x1f, 0x01, 0x11, 0x01];
        p.resize(31, 0x5a);
        p.push(0x7b);
        p.extend_from_slice(&MAGIC);
        p.resize(1356, 0);
        assert!(is_wrapped_offline_message(&p));
        assert!(!is_wrapped_offline_message(&p[..1000]));
        let mut c = Conv::udp(&DISSECTOR, 45693, 53385);
        c.client(&p);
        assert_eq!(c.name(), "RakNet");
    }

    #[test]
    fn pings_and_pongs() {
        let mut ping = vec![0x01];
        ping.extend_from_slice(&[0; 8]);
        ping.extend_from_slice(&MAGIC);
        assert!(is_offline_message(&ping));
        let mut pong = vec![0x1c];
        pong.extend_from_slice(&[1; 16]);
        pong.extend_from_slice(&MAGIC);
        pong.extend_from_slice(b"\x00\x05MCPE;");
        assert!(is_offline_message(&pong));
        // The magic in the wrong place.
        let mut bad = vec![0x01];
        bad.extend_from_slice(&MAGIC);
        assert!(!is_offline_message(&bad));
        assert!(!is_offline_message(&[0x84, 0, 0, 0]));
    }

    #[test]
    fn connected_datagrams() {
        // Frame set: one reliable frame of 18 bytes.
        let mut f = vec![0x84, 0, 0, 0, 0x40, 0x00, 0x90, 0, 0, 0];
        f.extend_from_slice(&[9; 18]);
        assert!(is_connected_datagram(&f));
        let mut c = Conv::udp(&DISSECTOR, 32953, 60021);
        c.client(&f);
        assert_eq!(c.name(), "RakNet");
        f.push(0);
        assert!(!is_connected_datagram(&f));
        f.pop();
        f[0] = 0x80;
        assert!(!is_connected_datagram(&f));
        // Unreliable frame of 17 bytes.
        let mut u = vec![0x84, 2, 0, 0, 0x00, 0x00, 0x88];
        u.extend_from_slice(&[3; 17]);
        assert!(is_connected_datagram(&u));
        // Reliable ordered frames are not used as evidence.
        let mut o = vec![0x84, 0, 0, 0, 0x60, 0x00, 0x10, 0, 0, 0, 0, 0, 0, 0];
        o.extend_from_slice(&[0x10, 0]);
        assert!(!is_connected_datagram(&o));
        // ACK with one range 1..2, and five single records.
        assert!(is_connected_datagram(
            b"\xc0\x00\x01\x00\x01\x00\x00\x02\x00\x00"
        ));
        let mut a = vec![0xc0, 0, 5];
        for _ in 0..5 {
            a.extend_from_slice(&[1, 0, 0, 0]);
        }
        assert!(is_connected_datagram(&a));
        // A reversed range, and a wrong count.
        assert!(!is_connected_datagram(
            b"\xc0\x00\x01\x00\x02\x00\x00\x01\x00\x00"
        ));
        assert!(!is_connected_datagram(
            b"\xc0\x00\x02\x00\x01\x00\x00\x02\x00\x00"
        ));
    }
}
