//! Oracle TNS (Transparent Network Substrate, Oracle Net, TCP 1521): packets have an
//! 8-byte header — packet length, packet checksum (0 when unused), type, flags, header
//! checksum (0 when unused). A client opens with CONNECT (type 1), whose body starts with
//! the TNS version and the oldest compatible version; the server answers ACCEPT, REFUSE,
//! REDIRECT or RESEND. Confirmed by a CONNECT with plausible versions, or by an answer
//! after a CONNECT, with unused checksums and a length that matches the packet.

use super::wire::{be16, u8_at};
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::ORACLE,
    transports: Transports::TCP,
    tcp_ports: &[1521],
    udp_ports: &[],
    inspect,
};

const HEADER_LEN: usize = 8;
const CONNECT: u8 = 1;
/// Answers to a CONNECT: ACCEPT, REFUSE, REDIRECT, RESEND.
const ANSWERS: &[u8] = &[2, 4, 5, 11];

/// The type of the TNS packet at the start of `d` when its header is sound; `Some(None)`
/// while the header is still arriving.
pub fn header(d: &[u8]) -> Option<Option<u8>> {
    let (Some(len), Some(sum), Some(kind), Some(hsum)) =
        (be16(d, 0), be16(d, 2), u8_at(d, 4), be16(d, 6))
    else {
        return (d.len() < HEADER_LEN).then_some(None);
    };
    if usize::from(len) < HEADER_LEN || sum != 0 || hsum != 0 || !(1..=20).contains(&kind) {
        return None;
    }
    Some(Some(kind))
}

/// A CONNECT packet: TNS version 300..=400 and a compatible version no newer than it.
pub fn connect(d: &[u8]) -> Option<bool> {
    if header(d)?? != CONNECT {
        return Some(false);
    }
    let (version, compatible) = (be16(d, 8)?, be16(d, 10)?);
    Some((300..=400).contains(&version) && (200..=version).contains(&compatible))
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    let d = ins.data;
    match header(d) {
        None => return Verdict::Exclude,
        Some(None) => return Verdict::Continue,
        Some(Some(_)) => {}
    }
    if ins.to_server() {
        return match connect(d) {
            Some(true) => {
                ins.detect(id::ORACLE);
                Verdict::Done
            }
            // The versions are still arriving.
            None if d.len() < 12 => Verdict::Continue,
            _ => Verdict::Exclude,
        };
    }
    // An answer from the server to a CONNECT seen from the client.
    let first = ins.first_payload.first().copied().unwrap_or_default();
    let client_connect = connect(first) == Some(true);
    let kind = header(d).flatten().unwrap_or(0);
    if client_connect
        && ANSWERS.contains(&kind)
        && be16(d, 0).is_some_and(|l| usize::from(l) <= d.len())
    {
        ins.detect(id::ORACLE);
        return Verdict::Done;
    }
    Verdict::Continue
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    const CONNECT_PKT: &[u8] = b"\x00\xd4\x00\x00\x01\x00\x00\x00\x01\x3b\x01\x2c\x0c\x41\x20\x00";

    #[test]
    fn connect_opens_the_session() {
        assert_eq!(header(CONNECT_PKT), Some(Some(1)));
        assert_eq!(connect(CONNECT_PKT), Some(true));
        let mut c = Conv::tcp(&DISSECTOR, 40226, 1521);
        c.client(CONNECT_PKT);
        assert_eq!(c.name(), "Oracle");
    }

    #[test]
    fn rejects_other_headers() {
        // Checksums in use, undefined type, versions out of range.
        assert_eq!(header(b"\x00\xd4\x12\x34\x01\x00\x00\x00"), None);
        assert_eq!(header(b"\x00\xd4\x00\x00\x30\x00\x00\x00"), None);
        assert_eq!(
            connect(b"\x00\xd4\x00\x00\x01\x00\x00\x00\x00\x02\x00\x01"),
            Some(false)
        );
        let mut c = Conv::tcp(&DISSECTOR, 40226, 1521);
        c.client(b"\x00\xd4\x00\x00\x06\x00\x00\x00\x00\x00\x00\x00");
        assert!(!c.open);
    }
}
