//! Radmin (remote administration, TCP 4899): each message has a 9-byte header — the byte
//! 0x01, the payload length (big-endian 32-bit) and four bytes of flags and type — and then
//! exactly that payload. Confirmed by a first message whose header announces what arrived,
//! answered by the server with another such message.

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::RADMIN,
    transports: Transports::TCP,
    tcp_ports: &[4899],
    udp_ports: &[],
    inspect,
};

const HEADER_LEN: usize = 9;

/// A single whole message.
pub fn is_message(d: &[u8]) -> bool {
    let Some(len) = d
        .get(1..5)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_be_bytes)
        .and_then(|l| usize::try_from(l).ok())
    else {
        return false;
    };
    d.first() == Some(&1) && len > 0 && HEADER_LEN.checked_add(len) == Some(d.len())
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    let d = ins.data;
    if !is_message(d) {
        return Verdict::Exclude;
    }
    let other = ins
        .first_payload
        .get(1 - ins.dir as usize)
        .copied()
        .unwrap_or_default();
    if is_message(other) {
        ins.detect(id::RADMIN);
        return Verdict::Done;
    }
    ins.consume(d.len());
    Verdict::Continue
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn request_and_answer() {
        let mut c = Conv::tcp(&DISSECTOR, 49736, 4899);
        c.client(b"\x01\x00\x00\x00\x01\x00\x00\x00\x08\x08");
        assert_eq!(c.name(), "Unknown");
        let mut answer = b"\x01\x00\x00\x00\x25\x00\x00\x02\x12".to_vec();
        answer.extend_from_slice(&[0u8; 0x25]);
        c.server(&answer);
        assert_eq!(c.name(), "Radmin");
    }

    #[test]
    fn others() {
        assert!(!is_message(b"\x01\x00\x00\x00\x02\x00\x00\x00\x08\x08"));
        assert!(!is_message(b"\x02\x00\x00\x00\x01\x00\x00\x00\x08\x08"));
    }
}
