//! TeamSpeak 3 voice (UDP 9987): a connection opens with the init handshake, whose
//! packets carry the fixed MAC `TS3INIT1`, packet id 101 and the init packet type (0x88,
//! unencrypted, 8 with the unencrypted flag); the rest of the session is encrypted.

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

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if init_packet(ins.data) {
        ins.detect(id::TEAMSPEAK);
        return Verdict::Done;
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
}
