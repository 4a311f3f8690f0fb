//! AJP (Apache JServ Protocol 1.3, TCP 8009): packets from the web server start with the
//! magic 0x1234, those from the servlet container with `AB`; then a 2-byte length and a
//! prefix code. Requests: forward request (2), shutdown (7), ping (8), CPing (10); replies:
//! body chunk (3), headers (4), end (5), get body (6), CPong (9). Confirmed by a magic, a
//! code of its direction and a length that matches the packet.

use super::wire::{be16, u8_at};
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::AJP,
    transports: Transports::TCP,
    tcp_ports: &[8009],
    udp_ports: &[],
    inspect,
};

const TO_CONTAINER: [u8; 2] = [0x12, 0x34];
const FROM_CONTAINER: [u8; 2] = *b"AB";
/// Largest packet body (the default packet size is 8 KiB; up to 64 KiB configurable).
const MAX_LEN: u16 = 65_531;

/// `Some(true)` for a whole AJP packet from either side, `Some(false)` while its header
/// is still arriving.
pub fn packet(d: &[u8]) -> Option<bool> {
    let first = *d.first()?;
    let codes: &[u8] = match d.get(..2) {
        Some(m) if m == TO_CONTAINER => &[2, 7, 8, 10],
        Some(m) if m == FROM_CONTAINER => &[3, 4, 5, 6, 9],
        Some(_) => return None,
        None => {
            return matches!(first, 0x12 | b'A').then_some(false);
        }
    };
    let (Some(len), Some(code)) = (be16(d, 2), u8_at(d, 4)) else {
        return Some(false);
    };
    if len == 0 || len > MAX_LEN || !codes.contains(&code) {
        return None;
    }
    // Bodies of the container's body chunks may span packets; the others fit.
    (usize::from(len) + 4 <= d.len())
        .then_some(true)
        .or(Some(false))
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    match packet(ins.data) {
        Some(true) => {
            ins.detect(id::AJP);
            Verdict::Done
        }
        Some(false) if ins.data.len() < 8192 => Verdict::Continue,
        _ => Verdict::Exclude,
    }
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn cping_cpong() {
        assert_eq!(packet(b"\x12\x34\x00\x01\x0a"), Some(true));
        assert_eq!(packet(b"AB\x00\x01\x09"), Some(true));
        assert_eq!(packet(b"\x12\x34\x00"), Some(false));
        // A reply code from the web server, a bad magic, a zero length.
        assert_eq!(packet(b"\x12\x34\x00\x01\x09"), None);
        assert_eq!(packet(b"\x12\x35\x00\x01\x0a"), None);
        assert_eq!(packet(b"AB\x00\x00\x09"), None);
        let mut c = Conv::tcp(&DISSECTOR, 38856, 8009);
        c.client(b"\x12\x34\x00\x01\x0a");
        assert_eq!(c.name(), "AJP");
    }
}
