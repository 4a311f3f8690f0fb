//! StarCraft II's Battle.net client logon (TCP, port 1119): the client's first bytes are
//! the fixed 10-byte logon opening 0x4A (or 0x49) 00 00 0A 66 02 0A ED 2D 66, before the
//! server says anything.

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::STARCRAFT,
    transports: Transports::TCP,
    tcp_ports: &[1119],
    udp_ports: &[],
    inspect,
};

const LOGON_TAIL: [u8; 9] = [0x00, 0x00, 0x0a, 0x66, 0x02, 0x0a, 0xed, 0x2d, 0x66];

/// Whether `d` starts with the client's logon opening.
pub fn is_logon(d: &[u8]) -> bool {
    matches!(d.first(), Some(0x49 | 0x4a)) && d.get(1..10) == Some(&LOGON_TAIL[..])
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    // The flow's first bytes, whichever side the capture shows sending them.
    let d = ins.data;
    let [to_server, to_client] = ins.dir_packets;
    let other = if ins.to_server() {
        to_client
    } else {
        to_server
    };
    if other > 0 {
        return Verdict::Exclude;
    }
    if is_logon(d) {
        ins.detect(id::STARCRAFT);
        return Verdict::Done;
    }
    // The opening may still be arriving.
    if d.len() < 10
        && matches!(d.first(), Some(0x49 | 0x4a))
        && LOGON_TAIL.starts_with(d.get(1..).unwrap_or_default())
    {
        return Verdict::Continue;
    }
    Verdict::Exclude
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::*;
    use crate::protocols::harness::Conv;

    const LOGON: [u8; 10] = [0x4a, 0x00, 0x00, 0x0a, 0x66, 0x02, 0x0a, 0xed, 0x2d, 0x66];

    #[test]
    fn logon() {
        assert!(is_logon(&LOGON));
        let mut other = LOGON;
        other[0] = 0x48;
        assert!(!is_logon(&other));
        assert!(!is_logon(&LOGON[..9]));
        let mut c = Conv::tcp(&DISSECTOR, 50000, 1119);
        c.client(&LOGON[..4]);
        assert_eq!(c.name(), "Unknown");
        c.client(&LOGON[4..]);
        assert_eq!(c.name(), "Starcraft");
        let mut c = Conv::tcp(&DISSECTOR, 50000, 1119);
        c.client(b"GET / HTTP/1.1\r\n\r\n");
        assert_eq!(c.name(), "Unknown");
    }
}
