//! Raft over TCP as the C raft library (canonical/raft's uv transport) speaks it: a
//! connection opens with a handshake of 64-bit little-endian words — the protocol version
//! (1), the sender's server id and the length of its address — followed by the address
//! (`host:port`) NUL-padded to that length, a multiple of 8. Confirmed by that handshake.

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::RAFT,
    transports: Transports::TCP,
    tcp_ports: &[],
    udp_ports: &[],
    inspect,
};

const PROTOCOL: u64 = 1;
const MAX_ADDRESS: usize = 256;

fn le64(d: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(d.get(at..at + 8)?.try_into().ok()?))
}

/// The handshake: its sender's address.
pub fn handshake(d: &[u8]) -> Option<&[u8]> {
    if le64(d, 0)? != PROTOCOL || le64(d, 8)? == 0 {
        return None;
    }
    let len = usize::try_from(le64(d, 16)?).ok()?;
    if len == 0 || len > MAX_ADDRESS || len % 8 != 0 {
        return None;
    }
    let field = d.get(24..24 + len)?;
    let end = field.iter().position(|&b| b == 0)?;
    let (addr, pad) = field.split_at(end);
    let ok = addr.contains(&b':')
        && addr.iter().all(|&b| b.is_ascii_graphic())
        && pad.iter().all(|&b| b == 0);
    ok.then_some(addr)
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if handshake(ins.data).is_some() {
        ins.detect(id::RAFT);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    const HELLO: &[u8] = b"\x01\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\
        \x10\x00\x00\x00\x00\x00\x00\x00127.0.0.1:9001\x00\x00";

    #[test]
    fn handshake_names_the_sender() {
        assert_eq!(handshake(HELLO), Some(&b"127.0.0.1:9001"[..]));
        let mut c = Conv::tcp(&DISSECTOR, 46286, 9002);
        c.client(HELLO);
        assert_eq!(c.name(), "Raft");
    }

    #[test]
    fn others() {
        let mut bad = HELLO.to_vec();
        bad.truncate(30);
        assert_eq!(handshake(&bad), None);
        let mut v2 = HELLO.to_vec();
        v2[0] = 2;
        assert_eq!(handshake(&v2), None);
    }
}
