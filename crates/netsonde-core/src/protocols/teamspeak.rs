//! TeamSpeak 3 voice (UDP 9987): a connection opens with the init handshake, whose
//! packets carry the fixed MAC `TS3INIT1`, packet id 101 and the init packet type (0x88,
//! unencrypted, 8 with the unencrypted flag); the rest of the session is encrypted.
//!
//! A TeamSpeak 3 server also talks to TeamSpeak's accounting (licence) servers over UDP
//! (ports 2010/2011) with small messages: a version byte 1, a sequence byte (high bit set,
//! one up per message), 0x84 and the message kind. The server opens with a 4-byte kind-1
//! message, the accounting server echoes it with a 4-byte challenge, and the next message
//! (kind 2, next sequence) carries the challenge back: that exchange confirms.

use super::wire::be16;
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::TEAMSPEAK,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[9987],
    inspect,
};

const INIT_MAC: &[u8] = b"TS3INIT1";
const INIT_PACKET_ID: u16 = 101;

/// Whether a datagram is a TeamSpeak 3 init packet (client's or server's).
pub fn init_packet(d: &[u8]) -> bool {
    if d.get(..8) != Some(INIT_MAC) || be16(d, 8) != Some(INIT_PACKET_ID) {
        return false;
    }
    // Client packets carry a 2-byte client id before the type byte; server ones do not.
    [10usize, 12]
        .iter()
        .any(|&at| d.get(at).is_some_and(|&t| t & 0x0f == 8 && t & 0x80 != 0))
}

/// The sequence byte of an accounting opening (`01 seq 84 01`).
fn accounting_opening(d: &[u8]) -> Option<u8> {
    match d {
        [1, seq, 0x84, 1] if seq & 0x80 != 0 => Some(*seq),
        _ => None,
    }
}

/// Whether `answer` and `next` complete the accounting exchange opened by `open`: the echo
/// with a challenge, then the kind-2 message with the next sequence and that challenge.
pub fn accounting_exchange(open: &[u8], answer: &[u8], next: &[u8]) -> bool {
    let Some(seq) = accounting_opening(open) else {
        return false;
    };
    let challenge = answer.get(4..8);
    answer.len() == 8
        && answer.get(..4) == Some(open)
        && next.len() >= 8
        && next.get(..4) == Some(&[1, seq.wrapping_add(1), 0x84, 2][..])
        && next.get(4..8) == challenge
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if init_packet(ins.data) {
        ins.detect(id::TEAMSPEAK);
        return Verdict::Done;
    }
    let [open, answer] = ins.first_payload;
    if accounting_opening(open).is_some() {
        match (ins.to_server(), ins.dir_packets) {
            (true, [1, 0]) | (false, [1, 1]) => return Verdict::Continue,
            (true, [2, 1]) if accounting_exchange(open, answer, ins.data) => {
                ins.detect(id::TEAMSPEAK);
                return Verdict::Done;
            }
            _ => {}
        }
    }
    Verdict::Exclude
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::*;

    #[test]
    fn init_packets() {
        let mut client = b"TS3INIT1".to_vec();
        client.extend_from_slice(&[0x00, 0x65, 0x00, 0x00, 0x88, 0x0d, 0xd0, 0x57]);
        assert!(init_packet(&client));
        let mut server = b"TS3INIT1".to_vec();
        server.extend_from_slice(&[0x00, 0x65, 0x88, 0x01, 0x02]);
        assert!(init_packet(&server));
        let mut other_id = client.clone();
        other_id[9] = 0x66;
        assert!(!init_packet(&other_id));
        assert!(!init_packet(b"TS3INIT2\x00\x65\x00\x00\x88"));
        assert!(!init_packet(b"TS3INIT1"));
    }

    #[test]
    fn accounting() {
        use crate::protocols::harness::Conv;
        let open = [0x01, 0x80, 0x84, 0x01];
        let answer = [0x01, 0x80, 0x84, 0x01, 0x7c, 0x65, 0xd9, 0xa7];
        let next = [
            0x01, 0x81, 0x84, 0x02, 0x7c, 0x65, 0xd9, 0xa7, 0x03, 0x27, 0x20, 0, 0, 0, 0, 0,
        ];
        assert!(accounting_exchange(&open, &answer, &next));
        let mut wrong = next;
        wrong[5] = 0;
        assert!(!accounting_exchange(&open, &answer, &wrong));
        let mut c = Conv::udp(&DISSECTOR, 2011, 2010);
        c.client(&open).server(&answer);
        assert_eq!(c.name(), "Unknown");
        c.client(&next);
        assert_eq!(c.name(), "TeamSpeak");
    }
}
