//! OPC UA binary over TCP (OPC 10000-6, "UA TCP"): every message starts with a 3-letter
//! type (HEL, ACK, ERR, RHE, OPN, MSG, CLO), a chunk type (F, C, A) and the message size
//! (little-endian, header included). A connection opens with the client's Hello — protocol
//! version, buffer sizes, limits and the endpoint URL as a length-prefixed string that ends
//! the message — or, reversed, the server's ReverseHello (server URI and endpoint URL). A
//! connection seen after its opening is recognised by whole messages of the other types
//! filling the segment.

use super::wire::le32;
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static DISSECTOR: Dissector = Dissector {
    proto: id::OPC_UA,
    transports: Transports::TCP,
    tcp_ports: &[4840],
    udp_ports: &[],
    inspect,
};

/// Longest URL accepted (the specification limits it to 4096 bytes).
const MAX_URL: usize = 4096;

/// A length-prefixed string at `at`; returns the offset after it (-1 is a null string).
fn string_end(d: &[u8], at: usize) -> Option<usize> {
    let len = le32(d, at)?;
    if len == u32::MAX {
        return Some(at + 4);
    }
    let len = usize::try_from(len).ok().filter(|&l| l <= MAX_URL)?;
    Some(at + 4 + len)
}

/// Whether `d` is a whole Hello (or ReverseHello) message.
pub fn is_hello(d: &[u8]) -> bool {
    let Some(size) = le32(d, 4).and_then(|s| usize::try_from(s).ok()) else {
        return false;
    };
    if size != d.len() {
        return false;
    }
    match d.get(..4) {
        // Version, receive and send buffer sizes, max message size, max chunk count.
        Some(b"HELF") => le32(d, 8) == Some(0) && string_end(d, 28) == Some(size),
        Some(b"RHEF") => string_end(d, 8).and_then(|e| string_end(d, e)) == Some(size),
        _ => false,
    }
}

/// Smallest message of the secure channel: header, channel id, a 4-byte token or length.
const MIN_MESSAGE: usize = 16;

/// Whether `d` is made of whole messages of the established connection (acknowledge,
/// error, open/close secure channel, message chunks).
pub fn is_messages(d: &[u8]) -> bool {
    let mut rest = d;
    while !rest.is_empty() {
        let kind_ok = matches!(
            rest.get(..4),
            Some(b"ACKF" | b"ERRF" | b"OPNF" | b"CLOF" | b"MSGF" | b"MSGC" | b"MSGA")
        );
        let Some(size) = le32(rest, 4).and_then(|s| usize::try_from(s).ok()) else {
            return false;
        };
        if !kind_ok || size < MIN_MESSAGE || size > rest.len() {
            return false;
        }
        rest = rest.get(size..).unwrap_or_default();
    }
    !d.is_empty()
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if is_hello(ins.data) || is_messages(ins.data) {
        ins.detect(id::OPC_UA);
        return Verdict::Done;
    }
    // A Hello split over segments: its header is already there.
    let split = matches!(ins.data.get(..4), Some(b"HELF" | b"RHEF"))
        && le32(ins.data, 4).is_some_and(|s| (s as usize) > ins.data.len() && s < 8192);
    if split || ins.data.len() < 8 {
        return Verdict::Continue;
    }
    Verdict::Exclude
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    fn hello(url: &[u8]) -> Vec<u8> {
        let mut m = b"HELF\0\0\0\0\0\0\0\0\0\0\x01\0\0\0\x01\0\0\0\0\x01\0\0\0\0".to_vec();
        m.extend_from_slice(&(url.len() as u32).to_le_bytes());
        m.extend_from_slice(url);
        let n = (m.len() as u32).to_le_bytes();
        m.splice(4..8, n);
        m
    }

    #[test]
    fn hello_message() {
        let h = hello(b"opc.tcp://localhost:4840");
        assert_eq!(h.len(), 56);
        let mut c = Conv::tcp(&DISSECTOR, 57420, 4840);
        c.client(&h);
        assert_eq!(c.name(), "OPC-UA");
        // In two segments.
        let mut c = Conv::tcp(&DISSECTOR, 57420, 4840);
        c.client(&h[..20]);
        assert!(c.open);
        c.client(&h[20..]);
        assert_eq!(c.name(), "OPC-UA");
    }

    #[test]
    fn established_connection() {
        let mut m =
            b"MSGF\x1c\0\0\0\x01\0\0\0\x02\0\0\0\x03\0\0\0\x04\0\0\0\x01\0\xad\x01".to_vec();
        assert!(is_messages(&m));
        let mut c = Conv::tcp(&DISSECTOR, 57420, 4840);
        c.server(&m);
        assert_eq!(c.name(), "OPC-UA");
        m.push(0);
        assert!(!is_messages(&m));
        m[4] = 0x1d;
        assert!(is_messages(&m));
        m[3] = b'X';
        assert!(!is_messages(&m));
    }

    #[test]
    fn rejects() {
        let mut h = hello(b"opc.tcp://x");
        h.push(0);
        assert!(!is_hello(&h));
        let mut h = hello(b"opc.tcp://x");
        h[8] = 1;
        assert!(!is_hello(&h));
        let mut c = Conv::tcp(&DISSECTOR, 57420, 4840);
        c.client(b"HELO mail.example.com\r\n");
        assert!(!c.open);
    }
}
