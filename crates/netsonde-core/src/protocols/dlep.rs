//! DLEP, the Dynamic Link Exchange Protocol (RFC 8175). Discovery signals over UDP start
//! with "DLEP"; session messages over TCP do not. Both then carry a 16-bit type, a 16-bit
//! length of what follows and data items (16-bit type, 16-bit length, value) that fill the
//! message exactly.

use super::wire::be16;
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static DISSECTOR: Dissector = Dissector {
    proto: id::DLEP,
    transports: Transports::TCP_UDP,
    tcp_ports: &[854],
    udp_ports: &[854],
    inspect,
};

/// Whether `m` is one whole signal/message: type 1-20, length, then data items.
pub fn is_message(m: &[u8]) -> bool {
    let (Some(t), Some(len)) = (be16(m, 0), be16(m, 2)) else {
        return false;
    };
    if !(1..=20).contains(&t) || usize::from(len) + 4 != m.len() || len < 4 {
        return false;
    }
    let mut at = 4;
    while at < m.len() {
        let (Some(item), Some(n)) = (be16(m, at), be16(m, at + 2)) else {
            return false;
        };
        if item == 0 {
            return false;
        }
        at += 4 + usize::from(n);
    }
    at == m.len()
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    let d = ins.data;
    let ok = match d.strip_prefix(b"DLEP") {
        Some(signal) if ins.flow.l4 == 17 => is_message(signal),
        _ => ins.flow.l4 == 6 && is_message(d),
    };
    if ok {
        ins.detect(id::DLEP);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    const SESSION_INIT: &[u8] = b"\x00\x01\x00\x0c\x00\x05\x00\x04\x00\x00\xea\x60\x00\x06\x00\x00";

    #[test]
    fn signal_and_session() {
        let mut sig = b"DLEP".to_vec();
        sig.extend_from_slice(b"\x00\x01\x00\x08\x00\x04\x00\x04abcd");
        let mut c = Conv::udp(&DISSECTOR, 57060, 854);
        c.client(&sig);
        assert_eq!(c.name(), "DLEP");
        let mut c = Conv::tcp(&DISSECTOR, 51762, 854);
        c.client(SESSION_INIT);
        assert_eq!(c.name(), "DLEP");
        assert!(!is_message(&SESSION_INIT[..15]));
        let mut v = SESSION_INIT.to_vec();
        v[1] = 30;
        assert!(!is_message(&v));
    }
}
