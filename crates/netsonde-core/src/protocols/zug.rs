//! ZUG (a crypto-currency node protocol over UDP, port 19000): a datagram starts with its
//! own length (big-endian 16-bit), the magic `UG` and the version byte 0x10. A session
//! opens with the client's fixed-size (122-byte) announce; only that message confirms, as
//! other messages are not known well enough to tell apart.

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::ZUG,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[19000],
    inspect,
};

const MAGIC: &[u8] = b"UG\x10";
const ANNOUNCE_LEN: usize = 122;

/// A ZUG datagram: its length field matches and the magic follows.
pub fn is_zug(d: &[u8]) -> bool {
    let Some(len) = d
        .get(..2)
        .and_then(|b| b.try_into().ok())
        .map(u16::from_be_bytes)
    else {
        return false;
    };
    usize::from(len) == d.len() && d.get(2..5) == Some(MAGIC)
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    let d = ins.data;
    if !is_zug(d) {
        return Verdict::Exclude;
    }
    if d.len() == ANNOUNCE_LEN {
        ins.detect(id::ZUG);
        return Verdict::Done;
    }
    Verdict::Continue
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    fn msg(len: usize) -> Vec<u8> {
        let mut m = vec![0x5a; len];
        m[..2].copy_from_slice(&(len as u16).to_be_bytes());
        m[2..5].copy_from_slice(MAGIC);
        m
    }

    #[test]
    fn announce() {
        let mut c = Conv::udp(&DISSECTOR, 39594, 19000);
        c.client(&msg(122));
        assert_eq!(c.name(), "ZUG");
    }

    #[test]
    fn other_messages_do_not_confirm() {
        assert!(is_zug(&msg(410)));
        let mut c = Conv::udp(&DISSECTOR, 19000, 48793);
        c.client(&msg(410));
        assert!(c.open);
        assert_eq!(c.name(), "Unknown");
        let mut bad = msg(122);
        bad[1] = 0x7b;
        assert!(!is_zug(&bad));
        c.client(&bad);
        assert!(!c.open);
    }
}
