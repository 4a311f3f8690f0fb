//! AVAST client protocol over TCP (seen on port 80): each message opens with the magic
//! `NOSA`, the message length (big-endian 16-bit, header included), a version byte (1) and
//! a message type. Confirmed by the magic, the version and a length that covers the header
//! and does not exceed what arrived.

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::AVAST,
    transports: Transports::TCP,
    tcp_ports: &[],
    udp_ports: &[],
    inspect,
};

const MAGIC: &[u8] = b"NOSA";
const VERSION: u8 = 1;
/// Magic, length, version, type, and the four bytes that follow.
const HEADER_LEN: usize = 12;

/// The message type, when `d` starts with a well-formed message.
pub fn message(d: &[u8]) -> Option<u8> {
    if d.get(..4)? != MAGIC || *d.get(6)? != VERSION {
        return None;
    }
    let len = usize::from(u16::from_be_bytes(d.get(4..6)?.try_into().ok()?));
    (len >= HEADER_LEN && len <= d.len()).then_some(*d.get(7)?)
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    let d = ins.data;
    if d.len() < HEADER_LEN {
        let n = d.len().min(MAGIC.len());
        return if d.get(..n) == MAGIC.get(..n) {
            Verdict::Continue
        } else {
            Verdict::Exclude
        };
    }
    if message(d).is_none() {
        return Verdict::Exclude;
    }
    ins.detect(id::AVAST);
    Verdict::Done
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn server_reply() {
        let m = b"NOSA\x00\x10\x01\x02\x00\x00\x00\x00\xe8\xe6\x7a\x0c";
        assert_eq!(message(m), Some(2));
        let mut c = Conv::all(6, 64357, 80);
        c.client(m);
        assert_eq!(c.name(), "AVAST");
    }

    #[test]
    fn rejects_bad_lengths() {
        assert_eq!(
            message(b"NOSA\x00\x11\x01\x02\x00\x00\x00\x00\xe8\xe6\x7a\x0c"),
            None
        );
        assert_eq!(message(b"NOSA\x00\x04\x01\x02\x00\x00\x00\x00"), None);
        assert_eq!(message(b"NOSA\x00\x0c\x02\x02\x00\x00\x00\x00"), None);
        let mut c = Conv::tcp(&DISSECTOR, 64357, 80);
        c.client(b"GET / HTTP/1.1\r\n");
        assert!(!c.open);
    }
}
