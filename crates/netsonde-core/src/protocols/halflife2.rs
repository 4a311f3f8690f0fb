//! Half-Life 2 (and mods) connection set-up over UDP: out-of-band messages (the
//! connectionless header 0xFFFFFFFF) whose text ends with "000" and its NUL, sent by the
//! client and answered in kind by the server.

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::HALFLIFE2,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[],
    inspect,
};

/// Whether the datagram is such an out-of-band message.
pub fn is_setup_message(d: &[u8]) -> bool {
    d.len() >= 20 && d.starts_with(&[0xff; 4]) && d.ends_with(b"000\0")
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if !is_setup_message(ins.data) {
        return Verdict::Exclude;
    }
    let [to_server, to_client] = ins.first_payload;
    let other = if ins.to_server() {
        to_client
    } else {
        to_server
    };
    if is_setup_message(other) {
        ins.detect(id::HALFLIFE2);
        return Verdict::Done;
    }
    Verdict::Continue
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::*;
    use crate::protocols::harness::Conv;

    fn message() -> Vec<u8> {
        let mut m = vec![0xff; 4];
        m.extend_from_slice(&[0; 12]);
        m.extend_from_slice(b"000\0");
        m
    }

    #[test]
    fn exchange() {
        assert!(is_setup_message(&message()));
        assert!(!is_setup_message(&message()[..19]));
        let mut c = Conv::udp(&DISSECTOR, 27005, 27015);
        c.client(&message());
        assert_eq!(c.name(), "Unknown");
        c.server(&message());
        assert_eq!(c.name(), "HalfLife2");
        let mut c = Conv::udp(&DISSECTOR, 27005, 27015);
        c.client(&message())
            .server(&[0xff, 0xff, 0xff, 0xff, b'A', 1, 2, 3]);
        assert_eq!(c.name(), "Unknown");
    }
}
