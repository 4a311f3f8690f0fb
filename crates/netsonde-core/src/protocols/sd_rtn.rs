//! Agora SD-RTN (Software Defined Real-Time Network) edge hand-shake over UDP. A datagram
//! starts with the sender's connection id (4 bytes), two zero bytes, a message type and a
//! zero byte, the peer's connection id (zero in the client hello) and a version byte; the
//! hello messages then carry tag-value entries: a four-character tag (`SNI\0`, `PDMD`,
//! `CPTO`, `NONC`, … in the client hello, `PEID`, `PROF`, … in the server's) and a
//! little-endian 16-bit value length. Confirmed by two consecutive well-formed entries; the
//! client hello's `SNI` value names the edge server.

use super::lines::text;
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};
use crate::attrs;

attrs! {
    pub HOSTNAME = "sd_rtn.hostname", Str, Identifier, "Edge server named by the client hello's SNI tag";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[&HOSTNAME];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::SD_RTN,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[8130],
    inspect,
};

const CLIENT_HELLO: u8 = 0x21;
const SERVER_HELLO: u8 = 0x23;
/// Offset of the first tag-value entry.
const TAGS_AT: usize = 13;

/// One tag-value entry at `at`: the tag and the value, or `None` when malformed.
fn entry(d: &[u8], at: usize) -> Option<(&[u8], &[u8])> {
    let tag = d.get(at..at + 4)?;
    let well_formed = tag.first().is_some_and(u8::is_ascii_uppercase)
        && tag
            .iter()
            .all(|&b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == 0);
    if !well_formed {
        return None;
    }
    let len = usize::from(u16::from_le_bytes(d.get(at + 4..at + 6)?.try_into().ok()?));
    Some((tag, d.get(at + 6..at + 6 + len)?))
}

/// The hello's message type and its first entry, when the datagram has a hello's shape.
pub fn hello(d: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let t = *d.get(6)?;
    if d.get(4..6)? != [0, 0] || d.get(7) != Some(&0) || !matches!(t, CLIENT_HELLO | SERVER_HELLO) {
        return None;
    }
    let (tag, value) = entry(d, TAGS_AT)?;
    // A second entry must follow the first.
    entry(d, TAGS_AT + 6 + value.len())?;
    Some((t, tag, value))
}

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    let Some((t, tag, value)) = hello(ins.data) else {
        return Verdict::Exclude;
    };
    ins.detect(id::SD_RTN);
    if t == CLIENT_HELLO && tag == b"SNI\0" && !value.is_empty() {
        st.set_str(&HOSTNAME, text(value, 255));
    }
    Verdict::Done
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    fn client_hello(host: &[u8]) -> Vec<u8> {
        let mut m = b"\x00\x5a\x38\x4c\x00\x00\x21\x00\x00\x00\x00\x00\x04SNI\x00".to_vec();
        m.extend_from_slice(&(host.len() as u16).to_le_bytes());
        m.extend_from_slice(host);
        m.extend_from_slice(b"PDMD\x00\x00CPTO\x02\x00ab");
        m
    }

    #[test]
    fn client_hello_names_the_edge() {
        let mut c = Conv::udp(&DISSECTOR, 35778, 8130);
        c.client(&client_hello(b"23-248-186-179.edge.agora.io"));
        assert_eq!(c.name(), "SD-RTN");
        assert_eq!(
            c.meta(&HOSTNAME).as_deref(),
            Some("23-248-186-179.edge.agora.io")
        );
    }

    #[test]
    fn server_hello() {
        let m = b"\x00\x6a\x2e\x07\x00\x00\x23\x00\x5a\x38\x4c\x00\x04PEID\x04\x00\x01\x00\x1c\x00PROF\x01\x00\x88";
        assert_eq!(hello(m).map(|h| h.0), Some(SERVER_HELLO));
    }

    #[test]
    fn rejects_malformed_entries() {
        let mut m = client_hello(b"edge.agora.io");
        // Value length past the end.
        m[17] = 0xff;
        assert_eq!(hello(&m), None);
        let mut m = client_hello(b"edge.agora.io");
        m[6] = 0x02;
        assert_eq!(hello(&m), None);
        // No second entry.
        let m = &client_hello(b"x")[..20];
        assert_eq!(hello(m), None);
        let mut c = Conv::udp(&DISSECTOR, 35778, 8130);
        c.client(b"\x00\x5a\x38\x4c\x00\x00\x02\x00\x6a\x2e\x07\x00");
        assert!(!c.open);
    }
}
