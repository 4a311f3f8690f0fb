//! VNC (the RFB protocol, RFC 6143): both sides open with the 12-byte ProtocolVersion
//! message `RFB xxx.yyy\n` (three-digit major and minor). Confirmed by that message.

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::VNC,
    transports: Transports::TCP,
    tcp_ports: &[5900, 5901],
    udp_ports: &[],
    inspect,
};

/// `RFB 003.008\n` and the like.
pub fn is_version(d: &[u8]) -> bool {
    d.len() == 12
        && d.starts_with(b"RFB ")
        && d.get(7) == Some(&b'.')
        && d.get(11) == Some(&b'\n')
        && d.get(4..7)
            .is_some_and(|m| m.iter().all(u8::is_ascii_digit))
        && d.get(8..11)
            .is_some_and(|m| m.iter().all(u8::is_ascii_digit))
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    let d = ins.data;
    // Wait for the whole message while what arrived still matches it.
    if d.len() < 12 && d.iter().zip(b"RFB ").all(|(a, b)| a == b) {
        return Verdict::Continue;
    }
    if is_version(d) {
        ins.detect(id::VNC);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn version_exchange() {
        let mut c = Conv::tcp(&DISSECTOR, 59791, 6900);
        c.server(b"RFB 004.001\n");
        assert_eq!(c.name(), "VNC");
    }

    #[test]
    fn others() {
        assert!(!is_version(b"RFB 3.8\n"));
        assert!(!is_version(b"RFB 003.008\r\n"));
        let mut c = Conv::tcp(&DISSECTOR, 59791, 5900);
        c.client(b"SSH-2.0-x\r\n");
        assert!(!c.open);
    }
}
