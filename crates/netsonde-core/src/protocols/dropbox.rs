//! Dropbox LAN sync discovery (UDP 17500): clients broadcast a JSON object announcing
//! themselves, with the keys `host_int` (a client id), `version` (an array), `port`,
//! `displayname` and `namespaces`. Confirmed by a JSON object carrying both `host_int` and a
//! `version` array. The LAN-sync message bus frames its commands with a short binary header
//! and the `Bus17Cmd` marker before a JSON body, which also confirms.

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::DROPBOX,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[17500],
    inspect,
};

/// How far into a bus frame the `Bus17Cmd` marker may start.
const BUS_MARKER_WITHIN: usize = 32;

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A discovery announcement: a JSON object with `"host_int":` and `"version": [`.
pub fn is_discovery(d: &[u8]) -> bool {
    let d = d.trim_ascii();
    if d.first() != Some(&b'{') || d.last() != Some(&b'}') {
        return false;
    }
    let Some(v) = find(d, b"\"version\":") else {
        return false;
    };
    let after = d.get(v + 10..).unwrap_or_default().trim_ascii_start();
    find(d, b"\"host_int\":").is_some() && after.first() == Some(&b'[')
}

/// A LAN-sync bus command: the marker near the start and a JSON body after it.
pub fn is_bus_command(d: &[u8]) -> bool {
    let head = d.get(..BUS_MARKER_WITHIN).unwrap_or(d);
    let Some(at) = find(head, b"Bus17Cmd") else {
        return false;
    };
    let body = d.get(at..).unwrap_or_default();
    find(body, b"{\"").is_some() && d.last() == Some(&b'}')
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if is_discovery(ins.data) || is_bus_command(ins.data) {
        ins.detect(id::DROPBOX);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn discovery_broadcast() {
        let m = br#"{"version": [2, 0], "port": 17500, "host_int": 330402624013, "displayname": "", "namespaces": [1, 2]}"#;
        let mut c = Conv::udp(&DISSECTOR, 17500, 17500);
        c.client(m);
        assert_eq!(c.name(), "Dropbox");
        let old =
            br#"{"host_int": 413767116, "version": [1, 8], "displayname": "", "port": 17500}"#;
        assert!(is_discovery(old));
    }

    #[test]
    fn bus_command() {
        let m = b"C\x035\x01oRMrD\\Ar\x08Bus17Cmd\x112\xff{\"messageType\":\"UPDATE\"}";
        assert!(is_bus_command(m));
        assert!(!is_bus_command(&m[..m.len() - 1]));
    }

    #[test]
    fn other_json_is_not_dropbox() {
        assert!(!is_discovery(br#"{"host_int": 1, "version": "1.8"}"#));
        assert!(!is_discovery(br#"{"version": [1, 8]}"#));
        let mut c = Conv::udp(&DISSECTOR, 17500, 17500);
        c.client(br#"{"id": 3}"#);
        assert!(!c.open);
    }
}
