//! World of Warcraft world-server connections (TCP). Both ends open with a message framed
//! by a 16-bit little-endian size: "WORLD OF WARCRAFT CONNECTION - SERVER TO CLIENT" (or
//! "CLIENT TO SERVER"), NUL-terminated.

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::WORLDOFWARCRAFT,
    transports: Transports::TCP,
    tcp_ports: &[],
    udp_ports: &[],
    inspect,
};

const GREETING: &[u8] = b"WORLD OF WARCRAFT CONNECTION - ";

/// Whether `d` starts with a whole greeting message.
pub fn is_greeting(d: &[u8]) -> bool {
    let Some(&[lo, hi]) = d.get(..2) else {
        return false;
    };
    let size = usize::from(u16::from_le_bytes([lo, hi]));
    let Some(body) = d.get(2..2 + size) else {
        return false;
    };
    body.starts_with(GREETING)
        && body.last() == Some(&0)
        && matches!(
            body.get(GREETING.len()..size.saturating_sub(1)),
            Some(b"SERVER TO CLIENT" | b"CLIENT TO SERVER")
        )
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if is_greeting(ins.data) {
        ins.detect(id::WORLDOFWARCRAFT);
        return Verdict::Done;
    }
    // A greeting may still be arriving.
    if ins.data.len() < 50 && GREETING.starts_with(ins.data.get(2..).unwrap_or_default()) {
        return Verdict::Continue;
    }
    Verdict::Exclude
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::*;
    use crate::protocols::harness::Conv;

    fn greeting(dir: &[u8]) -> Vec<u8> {
        let mut body = GREETING.to_vec();
        body.extend_from_slice(dir);
        body.push(0);
        let mut m = (body.len() as u16).to_le_bytes().to_vec();
        m.extend_from_slice(&body);
        m
    }

    #[test]
    fn greetings() {
        assert!(is_greeting(&greeting(b"SERVER TO CLIENT")));
        assert!(is_greeting(&greeting(b"CLIENT TO SERVER")));
        assert!(!is_greeting(&greeting(b"ANYONE TO ANYONE")));
        let g = greeting(b"SERVER TO CLIENT");
        assert!(!is_greeting(&g[..g.len() - 1]));
        let mut c = Conv::tcp(&DISSECTOR, 39329, 3724);
        c.server(&g[..20]);
        assert_eq!(c.name(), "Unknown");
        c.server(&g[20..]);
        assert_eq!(c.name(), "WorldOfWarcraft");
    }
}
