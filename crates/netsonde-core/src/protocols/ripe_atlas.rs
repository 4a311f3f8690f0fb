//! RIPE Atlas probes' UDP reachability test ("magellan"): the probe sends a short text
//! `MGLNDD_<address>_<port>` naming the target it was told to reach. Confirmed by the
//! `MGLNDD_` prefix followed by an address and a decimal port.

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::RIPE_ATLAS,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[],
    inspect,
};

const PREFIX: &[u8] = b"MGLNDD_";

/// `MGLNDD_<address>_<port>` (a trailing newline allowed).
pub fn is_probe(d: &[u8]) -> bool {
    let Some(rest) = d.strip_prefix(PREFIX) else {
        return false;
    };
    let rest = rest.strip_suffix(b"\n").unwrap_or(rest);
    let Some(sep) = rest.iter().rposition(|&b| b == b'_') else {
        return false;
    };
    let (addr, port) = (
        rest.get(..sep).unwrap_or_default(),
        rest.get(sep + 1..).unwrap_or_default(),
    );
    !addr.is_empty()
        && addr.len() <= 45
        && addr
            .iter()
            .all(|&b| b.is_ascii_hexdigit() || b == b'.' || b == b':')
        && (1..=5).contains(&port.len())
        && port.iter().all(u8::is_ascii_digit)
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if is_probe(ins.data) {
        ins.detect(id::RIPE_ATLAS);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn probe() {
        let mut c = Conv::udp(&DISSECTOR, 56857, 29195);
        c.client(b"MGLNDD_11.111.11.111_1114");
        assert_eq!(c.name(), "RipeAtlas");
        assert!(is_probe(b"MGLNDD_2001:db8::1_443\n"));
    }

    #[test]
    fn not_a_probe() {
        assert!(!is_probe(b"MGLNDD_"));
        assert!(!is_probe(b"MGLNDD_1.2.3.4"));
        assert!(!is_probe(b"MGLNDD_1.2.3.4_http"));
        assert!(!is_probe(b"MGLNDX_1.2.3.4_80"));
    }
}
