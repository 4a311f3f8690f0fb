//! HART-IP (HART field-device protocol over IP): an 8-byte header — version 1, message type
//! (request, response, publish, error, NAK), message id (session initiate/close, keep-alive,
//! pass-through, audit log, ...), a status byte, a 16-bit sequence number and the 16-bit
//! length of the whole message, header included (the first message of a flow is sent
//! alone, so it must fill the payload).

use super::wire::be16;
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static DISSECTOR: Dissector = Dissector {
    proto: id::HART_IP,
    transports: Transports::TCP_UDP,
    tcp_ports: &[5094],
    udp_ports: &[5094],
    inspect,
};

const HEADER: usize = 8;

/// Whether `d` is one whole HART-IP message.
pub fn is_hart_ip(d: &[u8]) -> bool {
    if d.first() != Some(&1)
        || !matches!(d.get(1), Some(0..=3 | 15))
        || !matches!(d.get(2), Some(0..=4 | 128))
    {
        return false;
    }
    let Some(len) = be16(d, 6).map(usize::from) else {
        return false;
    };
    // The first message comes alone; a session initiate carries the master type and the
    // inactivity timer (13 bytes in all).
    len >= HEADER && len == d.len() && (d.get(2) != Some(&0) || len == 13)
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if is_hart_ip(ins.data) {
        ins.detect(id::HART_IP);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    const INITIATE: &[u8] = b"\x01\x00\x00\x00\x00\x02\x00\x0d\x01\x00\x00\x75\x30";

    #[test]
    fn session_initiate() {
        let mut c = Conv::tcp(&DISSECTOR, 49905, 5094);
        c.client(INITIATE);
        assert_eq!(c.name(), "HART-IP");
        assert!(!is_hart_ip(&INITIATE[..12]));
        let mut v = INITIATE.to_vec();
        v[0] = 2;
        assert!(!is_hart_ip(&v));
        // Initiate of another size (a Diameter header looks like this).
        let mut d = b"\x01\x00\x00\x14\x80\x00\x01\x14".to_vec();
        d.resize(0x114, 0);
        assert!(!is_hart_ip(&d));
    }
}
