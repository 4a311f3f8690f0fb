//! Xiaomi push channel over TCP (port 5222, not XMPP): each message starts with the magic
//! 0xC2FE, the version (5), the payload length (big-endian 32-bit; the message adds a
//! 12-byte frame around it) and a protobuf payload naming the service domain
//! (`xiaomi.com`). Confirmed by the magic, the version and a length matching what arrived.

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::XIAOMI,
    transports: Transports::TCP,
    tcp_ports: &[5222],
    udp_ports: &[],
    inspect,
};

const MAGIC: &[u8] = b"\xc2\xfe";
const VERSION: u16 = 5;
/// Header (magic, version, length) and the trailing checksum.
const FRAME: usize = 12;

/// A whole message at the start of `d`: its payload length.
pub fn message(d: &[u8]) -> Option<usize> {
    if d.get(..2)? != MAGIC {
        return None;
    }
    let version = u16::from_be_bytes(d.get(2..4)?.try_into().ok()?);
    let len = usize::try_from(u32::from_be_bytes(d.get(4..8)?.try_into().ok()?)).ok()?;
    (version == VERSION && len > 0 && len.checked_add(FRAME)? <= d.len()).then_some(len)
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    let d = ins.data;
    if d.len() < FRAME {
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
    ins.detect(id::XIAOMI);
    Verdict::Done
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    const CONN: &[u8] = b"\xc2\xfe\x00\x05\x00\x00\x00\x36\x00\x02\x00\x16\x00\x00\x00\x18\
        \x08\x00\x1a\x0axiaomi.com*\x04CONNH\x00\x0a\x0a5386370769\x12\x047f04\x1a\x02\x08\x00\
        \x22\x00\x7d\xa8\x0b\x77";

    #[test]
    fn connect_message() {
        assert_eq!(CONN.len(), 66);
        assert_eq!(message(CONN), Some(0x36));
        let mut c = Conv::all(6, 39180, 5222);
        c.server(CONN);
        assert_eq!(c.name(), "Xiaomi");
    }

    #[test]
    fn rejects_short_or_other() {
        assert_eq!(message(&CONN[..60]), None);
        assert_eq!(
            message(b"\xc2\xfe\x00\x04\x00\x00\x00\x01\x00\x00\x00\x00\x00"),
            None
        );
        let mut c = Conv::tcp(&DISSECTOR, 39180, 5222);
        c.client(b"<stream:stream to='x'>");
        assert!(!c.open);
    }
}
