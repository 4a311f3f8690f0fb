//! Spotify. LAN discovery: the desktop client broadcasts UDP datagrams to port 57621 that
//! start with the ASCII tag `SpotUdp0`; the tag alone (not the port) confirms the flow.
//! Access point (TCP, usually port 4070): the client's hello is a version (`00 04`), the
//! 32-bit length of the whole message and a protobuf message (field 10, length-delimited:
//! `0x52`); the server answers with a 32-bit length of its whole message and a protobuf
//! message starting the same way. Both messages are needed to confirm.

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::SPOTIFY,
    transports: Transports::TCP_UDP,
    tcp_ports: &[4070],
    udp_ports: &[57621],
    inspect,
};

const TAG: &[u8] = b"SpotUdp0";

/// The length a framed message declares at `at` (32-bit, big endian) when the message can
/// be that long and starts, after the length, with a protobuf length-delimited field 10.
fn framed(d: &[u8], at: usize) -> Option<usize> {
    let len = d.get(at..at + 4)?;
    let len = u32::from_be_bytes([*len.first()?, *len.get(1)?, *len.get(2)?, *len.get(3)?]);
    let len = usize::try_from(len).ok()?;
    (len > at + 5 && len <= 64 * 1024 && d.get(at + 4) == Some(&0x52)).then_some(len)
}

/// Whether a client's first message is an access point hello.
fn client_hello(d: &[u8]) -> bool {
    d.starts_with(&[0x00, 0x04]) && framed(d, 2).is_some_and(|len| len >= d.len())
}

/// Whether a server's first message is an access point answer.
fn server_answer(d: &[u8]) -> bool {
    framed(d, 0).is_some()
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if ins.flow.l4 == 6 {
        let [to_server, to_client] = ins.first_payload;
        if !client_hello(to_server) {
            return Verdict::Exclude;
        }
        if to_client.is_empty() {
            return Verdict::Continue;
        }
        if server_answer(to_client) {
            ins.detect(id::SPOTIFY);
            return Verdict::Done;
        }
        return Verdict::Exclude;
    }
    if ins.data.starts_with(TAG) {
        ins.detect(id::SPOTIFY);
        Verdict::Done
    } else {
        Verdict::Exclude
    }
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn discovery_broadcast() {
        let mut c = Conv::udp(&DISSECTOR, 57621, 57621);
        c.client(b"SpotUdp0\xdc\x15t(.RbL\x00\x01\x00\x04H\x95\xc2\x03\xa2A\xde \x89\xb9x\xd8");
        assert_eq!(c.name(), "Spotify");
    }

    #[test]
    fn access_point_hello_and_answer() {
        let mut hello = vec![
            0x00, 0x04, 0x00, 0x00, 0x00, 0x0c, 0x52, 0x0f, 0x50, 0x02, 0xa0, 0x01,
        ];
        let mut c = Conv::tcp(&DISSECTOR, 48628, 4070);
        c.client(&hello);
        assert_eq!(c.name(), "Unknown");
        c.server(&[0x00, 0x00, 0x00, 0x0a, 0x52, 0x97, 0x04, 0x52, 0xec, 0x02]);
        assert_eq!(c.name(), "Spotify");
        // A wrong length is not a hello.
        if let Some(b) = hello.get_mut(5) {
            *b = 0x02;
        }
        let mut c = Conv::tcp(&DISSECTOR, 48628, 4070);
        c.client(&hello);
        c.server(&[0x00, 0x00, 0x00, 0x0a, 0x52, 0x97, 0x04, 0x52, 0xec, 0x02]);
        assert_eq!(c.name(), "Unknown");
    }

    #[test]
    fn other_datagrams_are_not_spotify() {
        let mut c = Conv::udp(&DISSECTOR, 57621, 57621);
        c.client(b"SpotUdp\x00\x01\x02\x03");
        assert_eq!(c.name(), "Unknown");
    }
}
