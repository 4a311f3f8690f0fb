//! Memcached (TCP 11211). Text protocol: a client command line (`get`, `set`, `stats`, …)
//! ending in CRLF, answered by lines such as `VALUE`, `STAT`, `END`, `STORED`. Binary
//! protocol: a 24-byte header with the magic 0x80 (request) or 0x81 (response), an opcode,
//! key and extras lengths, data type 0 and a total body length. Confirmed by a text
//! command answered by a text reply, or by a binary header whose lengths agree.

use super::wire::{be16, be32, u8_at};
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::MEMCACHED,
    transports: Transports::TCP,
    tcp_ports: &[11211],
    udp_ports: &[],
    inspect,
};

const COMMANDS: &[&[u8]] = &[
    b"get",
    b"gets",
    b"gat",
    b"gats",
    b"set",
    b"add",
    b"replace",
    b"append",
    b"prepend",
    b"cas",
    b"delete",
    b"incr",
    b"decr",
    b"touch",
    b"stats",
    b"flush_all",
    b"version",
    b"verbosity",
    b"quit",
    b"mg",
    b"ms",
    b"md",
    b"ma",
    b"mn",
];
const REPLIES: &[&[u8]] = &[
    b"VALUE ",
    b"STAT ",
    b"END\r\n",
    b"STORED\r\n",
    b"NOT_STORED\r\n",
    b"EXISTS\r\n",
    b"NOT_FOUND\r\n",
    b"DELETED\r\n",
    b"TOUCHED\r\n",
    b"OK\r\n",
    b"ERROR\r\n",
    b"CLIENT_ERROR ",
    b"SERVER_ERROR ",
    b"VERSION ",
];
const MAX_LINE: usize = 2048;
const BINARY_HEADER: usize = 24;

/// A text command line: a known command, then a space or the line end (CRLF).
pub fn text_command(d: &[u8]) -> Option<bool> {
    let end = d.iter().take(MAX_LINE).position(|&b| b == b'\n');
    let Some(end) = end else {
        let word = d
            .iter()
            .take_while(|b| b.is_ascii_lowercase() || **b == b'_')
            .count();
        return (word == d.len() && d.len() <= 9).then_some(false);
    };
    let line = d.get(..end)?.strip_suffix(b"\r")?;
    let word = line.split(|&b| b == b' ').next()?;
    let printable = line.iter().all(|&b| b.is_ascii_graphic() || b == b' ');
    (COMMANDS.contains(&word) && printable).then_some(true)
}

/// A text reply at the start of `d`.
pub fn text_reply(d: &[u8]) -> bool {
    REPLIES.iter().any(|r| d.starts_with(r))
}

/// A binary-protocol message whose key, extras and body lengths agree and which ends where
/// the data ends or where the next message starts: `Some(true)` when whole, `Some(false)`
/// while it arrives.
pub fn binary(d: &[u8]) -> Option<bool> {
    let magic = u8_at(d, 0)?;
    if !matches!(magic, 0x80 | 0x81) {
        return None;
    }
    let (Some(opcode), Some(key), Some(extras), Some(dtype), Some(status), Some(body)) = (
        u8_at(d, 1),
        be16(d, 2),
        u8_at(d, 4),
        u8_at(d, 5),
        be16(d, 6),
        be32(d, 8),
    ) else {
        return Some(false);
    };
    // Opcodes are defined up to 0x48; keys are at most 250 bytes; responses carry a
    // defined status.
    let status_ok = magic == 0x80 || matches!(status, 0..=0x08 | 0x20..=0x24 | 0x81..=0x86);
    let ok = opcode <= 0x48
        && key <= 250
        && dtype == 0
        && status_ok
        && u32::from(key) + u32::from(extras) <= body
        && body <= 1024 * 1024;
    if !ok {
        return None;
    }
    let end = BINARY_HEADER + body as usize;
    match d.get(end) {
        _ if d.len() < end => Some(false),
        None => Some(true),
        Some(next) => matches!(next, 0x80 | 0x81).then_some(true),
    }
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    let d = ins.data;
    if let Some(whole) = binary(d) {
        if whole {
            ins.detect(id::MEMCACHED);
            return Verdict::Done;
        }
        return Verdict::Continue;
    }
    if ins.to_server() {
        return match text_command(d) {
            // Wait for the server's reply before deciding.
            Some(_) => Verdict::Continue,
            None => Verdict::Exclude,
        };
    }
    let first = ins.first_payload.first().copied().unwrap_or_default();
    if text_command(first) == Some(true) && text_reply(d) {
        ins.detect(id::MEMCACHED);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn stats_and_its_reply() {
        assert_eq!(text_command(b"stats\r\n"), Some(true));
        assert_eq!(text_command(b"get k1 k2\r\n"), Some(true));
        assert_eq!(text_command(b"sta"), Some(false));
        assert_eq!(text_command(b"GET / HTTP/1.1\r\n"), None);
        assert_eq!(text_command(b"fetch x\r\n"), None);
        let mut c = Conv::tcp(&DISSECTOR, 59604, 11211);
        c.client(b"stats\r\n");
        assert_eq!(c.name(), "Unknown");
        c.server(b"STAT pid 8837\r\nSTAT uptime 193\r\n");
        assert_eq!(c.name(), "Memcached");
        // A command answered by something else is not memcached.
        let mut c = Conv::tcp(&DISSECTOR, 59604, 11211);
        c.client(b"quit\r\n");
        c.server(b"221 Bye\r\n");
        assert_eq!(c.name(), "Unknown");
    }

    #[test]
    fn binary_header() {
        let mut get = vec![0x80, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0, 0, 0, 3];
        get.extend_from_slice(&[0; 12]);
        get.extend_from_slice(b"key");
        assert_eq!(binary(&get), Some(true));
        assert_eq!(binary(get.get(..10).unwrap_or_default()), Some(false));
        let mut bad = get.clone();
        if let Some(b) = bad.get_mut(5) {
            *b = 1;
        }
        assert_eq!(binary(&bad), None);
        // Followed by something that is not a next message: not memcached.
        let mut trailing = get.clone();
        trailing.extend_from_slice(&[0x8d, 0x93]);
        assert_eq!(binary(&trailing), None);
    }
}
