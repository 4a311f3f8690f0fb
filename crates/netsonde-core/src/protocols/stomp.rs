//! STOMP (Simple Text Oriented Messaging Protocol 1.0–1.2, TCP 61613): frames of a command
//! line, `name:value` header lines and a blank line, then a body ending in NUL. A client
//! opens with CONNECT or STOMP and the server answers CONNECTED or ERROR. Confirmed by such
//! a command opening the stream, followed by a header line or the blank line.

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::STOMP,
    transports: Transports::TCP,
    tcp_ports: &[61613],
    udp_ports: &[],
    inspect,
};

/// Commands that open a connection, from the client and from the server.
const OPENINGS: &[&[u8]] = &[b"CONNECT", b"STOMP", b"CONNECTED", b"ERROR"];
/// Longest header line looked at before deciding.
const MAX_LINE: usize = 1024;

fn line(d: &[u8]) -> Option<(&[u8], &[u8])> {
    let end = d.iter().take(MAX_LINE).position(|&b| b == b'\n')?;
    let l = d.get(..end)?;
    Some((l.strip_suffix(b"\r").unwrap_or(l), d.get(end + 1..)?))
}

/// `Some(true)` for an opening frame, `Some(false)` while one may still be arriving.
pub fn opening_frame(d: &[u8]) -> Option<bool> {
    let Some((command, rest)) = line(d) else {
        // No whole line yet: what arrived must be the start of an opening command.
        let head = d.strip_suffix(b"\r").unwrap_or(d);
        return OPENINGS
            .iter()
            .any(|c| c.starts_with(head))
            .then_some(false);
    };
    if !OPENINGS.contains(&command) {
        return None;
    }
    match line(rest) {
        None => (rest.len() < MAX_LINE).then_some(false),
        // The blank line ending the headers, or a header `name:value`.
        Some((b"", _)) => Some(true),
        Some((h, _)) => {
            let colon = h.iter().position(|&b| b == b':')?;
            let name = h.get(..colon)?;
            (!name.is_empty() && name.iter().all(|&b| b.is_ascii_graphic())).then_some(true)
        }
    }
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    super::wire::opening_verdict(ins, id::STOMP, opening_frame(ins.data))
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn connect_frames() {
        assert_eq!(
            opening_frame(b"STOMP\naccept-version:1.1\n\n\x00"),
            Some(true)
        );
        assert_eq!(
            opening_frame(b"CONNECTED\r\nversion:1.1\r\n\r\n\x00"),
            Some(true)
        );
        assert_eq!(opening_frame(b"CONNECT\n\n\x00"), Some(true));
        assert_eq!(opening_frame(b"CONN"), Some(false));
        assert_eq!(opening_frame(b"STOMP\n"), Some(false));
        assert_eq!(opening_frame(b"CONNECT example.com:443 HTTP/1.1\r\n"), None);
        assert_eq!(opening_frame(b"STOMP\nno header here\n"), None);
        assert_eq!(opening_frame(b"SEND\ndestination:/q\n\nx\x00"), None);
        let mut c = Conv::tcp(&DISSECTOR, 34732, 61613);
        c.client(b"STOMP\naccept-version:1.1\n\n\x00");
        assert_eq!(c.name(), "STOMP");
    }
}
