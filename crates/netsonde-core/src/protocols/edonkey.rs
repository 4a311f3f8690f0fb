//! eDonkey (ed2k client-server and client-client protocol, TCP 4661/4662): every message
//! has a 5-byte header — the protocol byte (0xE3 eDonkey, 0xC5 eMule extensions, 0xD4
//! packed), a little-endian length covering the opcode and payload — then the opcode.
//! Confirmed by a protocol byte, a length matching the message and an opening opcode:
//! Hello (0x01) or Login request (0x01 to a server), or their answers.

use super::wire::{le32, u8_at};
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::EDONKEY,
    transports: Transports::TCP,
    tcp_ports: &[4661, 4662],
    udp_ports: &[],
    inspect,
};

const PROTOCOLS: &[u8] = &[0xE3, 0xC5, 0xD4];
/// Opcodes that open or answer an opening: Hello/Login, Hello answer, server message,
/// ID change.
const OPENING_OPCODES: &[u8] = &[0x01, 0x4C, 0x38, 0x40];
const MAX_LEN: u32 = 2 * 1024 * 1024;

/// `Some(true)` for a whole opening message, `Some(false)` while one may still arrive.
pub fn message(d: &[u8]) -> Option<bool> {
    let proto = u8_at(d, 0)?;
    if !PROTOCOLS.contains(&proto) {
        return None;
    }
    let (Some(len), Some(opcode)) = (le32(d, 1), u8_at(d, 5)) else {
        return Some(false);
    };
    if len == 0 || len > MAX_LEN || !OPENING_OPCODES.contains(&opcode) {
        return None;
    }
    let total = 5 + len as usize;
    if d.len() < total {
        return Some(false);
    }
    // A Hello carries the 16-byte user hash length byte first (16).
    (opcode != 0x01 || u8_at(d, 6) == Some(16) || proto == 0xD4).then_some(true)
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    match message(ins.data) {
        Some(true) => {
            ins.detect(id::EDONKEY);
            Verdict::Done
        }
        Some(false) if ins.data.len() < 64 * 1024 => Verdict::Continue,
        _ => Verdict::Exclude,
    }
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn hello() {
        let mut m = b"\xe3\x16\x00\x00\x00\x01\x10".to_vec();
        m.extend_from_slice(&[0xAB; 16]);
        m.extend_from_slice(b"\x00\x00\x00\x00");
        assert_eq!(message(&m), Some(true));
        assert_eq!(message(m.get(..10).unwrap_or_default()), Some(false));
        let mut bad = m.clone();
        if let Some(b) = bad.get_mut(6) {
            *b = 15;
        }
        assert_eq!(message(&bad), None);
        assert_eq!(message(b"\xe3\x16\x00\x00\x00\x99"), None);
        assert_eq!(message(b"\xe4\x16\x00\x00\x00\x01"), None);
        let mut c = Conv::tcp(&DISSECTOR, 1754, 7551);
        c.client(&m);
        assert_eq!(c.name(), "eDonkey");
    }
}
