//! OICQ (Tencent QQ's classic UDP protocol): a datagram opens with the tag byte 0x02, a
//! client version and a command (both big-endian), a sequence number, and closes with the
//! tail byte 0x03. Client packets then carry the sender's QQ number. Confirmed by the tag,
//! the tail, a known command range and a non-zero version.

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::OICQ,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[8000],
    inspect,
};

const TAG: u8 = 0x02;
const TAIL: u8 = 0x03;
/// Tag, version, command and sequence (7) and the tail.
const MIN_LEN: usize = 8;
/// Commands known from QQ clients are all below this.
const MAX_COMMAND: u16 = 0x0400;

/// The command of an OICQ datagram, when it has the protocol's framing.
pub fn command(d: &[u8]) -> Option<u16> {
    if d.len() < MIN_LEN || d.first() != Some(&TAG) || d.last() != Some(&TAIL) {
        return None;
    }
    let be = |at: usize| Some(u16::from_be_bytes(d.get(at..at + 2)?.try_into().ok()?));
    let version = be(1)?;
    let cmd = be(3)?;
    (version != 0 && cmd != 0 && cmd < MAX_COMMAND).then_some(cmd)
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if command(ins.data).is_none() {
        return Verdict::Exclude;
    }
    ins.detect(id::OICQ);
    Verdict::Done
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    const LOGOUT: &[u8] = b"\x02\x3b\x0b\x00\x01\x00\x17\x56\x1f\x0c\x7b\x00\x00\x00\x00\
        \x00\x00\x00\x00\x03\x0c\x94\x9f\xb3\x51\x0c\x59\xcb\xd5\x27\xd1\x9e\x69\x53\x48\x2e\
        \xc8\x77\x08\x01\x03\x0e\x47\x03";

    #[test]
    fn logout_packet() {
        assert_eq!(command(LOGOUT), Some(1));
        let mut c = Conv::udp(&DISSECTOR, 54233, 8000);
        c.client(LOGOUT);
        assert_eq!(c.name(), "OICQ");
    }

    #[test]
    fn rejects_other_framing() {
        let mut no_tail = LOGOUT.to_vec();
        no_tail.pop();
        assert_eq!(command(&no_tail), None);
        let mut big_cmd = LOGOUT.to_vec();
        big_cmd[3] = 0x80;
        assert_eq!(command(&big_cmd), None);
        assert_eq!(command(b"\x02\x00\x00\x00\x01\x00\x01\x03"), None);
        let mut c = Conv::udp(&DISSECTOR, 54233, 8000);
        c.client(b"\x01\x3b\x0b\x00\x01\x00\x17\x03");
        assert!(!c.open);
    }
}
