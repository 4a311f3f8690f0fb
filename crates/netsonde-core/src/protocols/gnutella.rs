//! Gnutella: the TCP handshake (`GNUTELLA CONNECT/0.6`, answered `GNUTELLA/0.6 200 OK`),
//! Gnutella2 UDP packets (`GND` header with consistent part numbers) and Gnutella messages
//! over UDP (a 23-byte descriptor header whose payload length is the rest of the datagram).
//!
//! Over UDP only descriptors that name the application's own traffic are taken: Mojito DHT
//! (0x44), vendor messages (0x31, 0x32), queries and query hits (0x80, 0x81). A bare ping or
//! pong is a 23-byte header around a random GUID that many tools send; nDPI leaves those
//! flows unclassified too.

use super::wire::{le32, starts_with_ci, u8_at};
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};
use crate::attrs;

attrs! {
    pub USER_AGENT = "gnutella.user_agent", Str, Identifier, "User-Agent header of the Gnutella handshake";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[&USER_AGENT];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::GNUTELLA,
    transports: Transports::TCP_UDP,
    tcp_ports: &[6346, 6347],
    udp_ports: &[6346, 6347],
    inspect,
};

const HEADER_LEN: usize = 23;
/// Descriptor types accepted over UDP (see the module documentation).
const UDP_DESCRIPTORS: [u8; 5] = [0x31, 0x32, 0x44, 0x80, 0x81];

/// What a payload's first bytes say.
#[derive(Debug, PartialEq, Eq)]
pub enum Probe {
    Yes,
    No,
    NeedMore,
}

/// The TCP handshake lines of either side.
pub fn probe_tcp(d: &[u8]) -> Probe {
    const LINES: [&[u8]; 4] = [b"GNUTELLA CONNECT/", b"GNUTELLA/", b"GNUTELLA OK", b"GIV "];
    for l in LINES {
        if starts_with_ci(d, l) {
            return Probe::Yes;
        }
        if d.len() < l.len() && l.get(..d.len()).is_some_and(|p| p == d) {
            return Probe::NeedMore;
        }
    }
    Probe::No
}

/// A Gnutella2 UDP header: "GND", flags, sequence, part number, part count.
pub fn is_g2_udp(d: &[u8]) -> bool {
    if d.len() < 8 || d.get(..3) != Some(b"GND") {
        return false;
    }
    let (Some(part), Some(count)) = (u8_at(d, 6), u8_at(d, 7)) else {
        return false;
    };
    // Count 0 is an acknowledgement of part `part`.
    part >= 1 && (count == 0 || part <= count)
}

/// A whole Gnutella descriptor in one datagram.
pub fn is_udp_descriptor(d: &[u8]) -> bool {
    let (Some(kind), Some(ttl), Some(hops), Some(len)) =
        (u8_at(d, 16), u8_at(d, 17), u8_at(d, 18), le32(d, 19))
    else {
        return false;
    };
    UDP_DESCRIPTORS.contains(&kind)
        && u16::from(ttl) + u16::from(hops) <= 16
        && usize::try_from(len).is_ok_and(|l| l.checked_add(HEADER_LEN) == Some(d.len()))
}

fn user_agent(d: &[u8]) -> Option<String> {
    let head = d.get(..d.len().min(2048))?;
    for line in head.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if starts_with_ci(line, b"user-agent:") {
            let v = super::wire::text(line.get(11..)?);
            let v = v.trim();
            return (!v.is_empty()).then(|| v.to_string());
        }
    }
    None
}

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    if ins.flow.l4 == 17 {
        if is_g2_udp(ins.data) || is_udp_descriptor(ins.data) {
            ins.detect(id::GNUTELLA);
            return Verdict::Done;
        }
        return Verdict::Exclude;
    }
    match probe_tcp(ins.data) {
        Probe::No => Verdict::Exclude,
        Probe::NeedMore => Verdict::Continue,
        Probe::Yes => {
            ins.detect(id::GNUTELLA);
            if let Some(ua) = user_agent(ins.data) {
                st.set_str(&USER_AGENT, ua);
            }
            ins.consume(ins.data.len());
            if st.meta.has(&USER_AGENT) || ins.dir_packets.iter().all(|&n| n > 0) {
                Verdict::Done
            } else {
                Verdict::Continue
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::*;

    #[test]
    fn tcp_handshake_lines() {
        assert_eq!(
            probe_tcp(b"GNUTELLA CONNECT/0.6\r\nUser-Agent: LimeWire\r\n"),
            Probe::Yes
        );
        assert_eq!(probe_tcp(b"GNUTELLA/0.6 200 OK\r\n"), Probe::Yes);
        assert_eq!(probe_tcp(b"GNUT"), Probe::NeedMore);
        assert_eq!(probe_tcp(b"GET / HTTP/1.1\r\n"), Probe::No);
        assert_eq!(
            user_agent(b"GNUTELLA CONNECT/0.6\r\nUser-Agent: Shareaza 2.7\r\n\r\n").as_deref(),
            Some("Shareaza 2.7")
        );
    }

    #[test]
    fn g2_header_part_numbers() {
        let ok = b"GND\x10\x3e\x8f\x01\x01T\x0bQKR";
        assert!(is_g2_udp(ok));
        assert!(!is_g2_udp(b"GND\x10\x3e\x8f\x02\x01T"));
        assert!(!is_g2_udp(b"GND\x10\x3e\x8f\x00\x01T"));
        assert!(!is_g2_udp(b"GNX\x10\x3e\x8f\x01\x01T"));
        assert!(!is_g2_udp(b"GND\x10"));
    }

    #[test]
    fn udp_descriptor_length_must_match() {
        let mut d = vec![0xa7u8; 16];
        d.extend_from_slice(&[0x44, 0, 0, 5, 0, 0, 0]);
        d.extend_from_slice(b"GTKGx");
        assert!(is_udp_descriptor(&d));
        d.push(0);
        assert!(!is_udp_descriptor(&d));
        d.pop();
        // A ping is not enough on its own.
        d[16] = 0x00;
        assert!(!is_udp_descriptor(&d));
    }
}
