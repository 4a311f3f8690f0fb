//! NoMachine NX (TCP and UDP 4000). Over TCP the client opens with the banner
//! `NXSH-<version>\n` and the server answers `NXD-<version>\n`, the version dotted decimal;
//! confirmed by either banner. Over UDP (its multimedia and data channel) each datagram
//! starts with a little-endian header: a message type 1..=3 (one byte and a zero), the
//! value 1, the datagram's own length and a sequence number; confirmed by that header with
//! a length equal to the datagram.

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::NOMACHINE,
    transports: Transports::TCP_UDP,
    tcp_ports: &[4000],
    udp_ports: &[4000],
    inspect,
};

/// `NXSH-8.10.1\n` or `NXD-8.10.1\n`.
pub fn is_banner(d: &[u8]) -> bool {
    let Some(rest) = d.strip_prefix(b"NXSH-").or_else(|| d.strip_prefix(b"NXD-")) else {
        return false;
    };
    let Some(version) = rest.strip_suffix(b"\n") else {
        return false;
    };
    (3..=32).contains(&version.len())
        && version.first().is_some_and(u8::is_ascii_digit)
        && version.contains(&b'.')
        && version.iter().all(|&b| b.is_ascii_digit() || b == b'.')
}

fn le16(d: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes([*d.get(at)?, *d.get(at + 1)?]))
}

/// A datagram of the UDP channel: type 1..=3, then 1, then its own length.
pub fn is_datagram(d: &[u8]) -> bool {
    let header = || -> Option<bool> {
        let (kind, one, len) = (le16(d, 0)?, le16(d, 2)?, le16(d, 4)?);
        Some((1..=3).contains(&kind) && one == 1 && usize::from(len) == d.len() && d.len() >= 10)
    };
    header() == Some(true)
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    let found = if ins.flow.l4 == 17 {
        is_datagram(ins.data)
    } else {
        is_banner(ins.data)
    };
    if found {
        ins.detect(id::NOMACHINE);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn banners() {
        let mut c = Conv::tcp(&DISSECTOR, 48084, 4000);
        c.client(b"NXSH-8.10.1\n");
        assert_eq!(c.name(), "NoMachine");
        assert!(is_banner(b"NXD-8.10.1\n"));
        assert!(!is_banner(b"NXD-8.10.1"));
        assert!(!is_banner(b"NXSH-beta\n"));
    }

    #[test]
    fn udp_channel() {
        let d = b"\x01\x00\x01\x00\x0a\x00\x00\x00\x00\x00";
        assert!(is_datagram(d));
        assert!(!is_datagram(b"\x01\x00\x01\x00\x0b\x00\x00\x00\x00\x00"));
        assert!(!is_datagram(b"\x07\x00\x01\x00\x0a\x00\x00\x00\x00\x00"));
        assert!(!is_datagram(b"\x01\x00\x02\x00\x0a\x00\x00\x00\x00\x00"));
        let mut c = Conv::udp(&DISSECTOR, 56019, 4000);
        c.client(d);
        assert_eq!(c.name(), "NoMachine");
    }
}
