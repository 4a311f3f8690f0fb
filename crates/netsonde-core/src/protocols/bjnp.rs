//! BJNP, Canon's printer/scanner network protocol: a 16-byte header — a 4-byte magic
//! ("BJNP" for printers, "BJNB"/"MFNP"/"BNJB" for scanner and device variants), a device
//! type (0x01 printer / 0x02 scanner, high bit set in replies), a command code, an error
//! code, a sequence number, a session id and a 32-bit payload length.

use super::wire::be32;
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static DISSECTOR: Dissector = Dissector {
    proto: id::BJNP,
    transports: Transports::TCP_UDP,
    tcp_ports: &[8611, 8612, 8613, 8614],
    udp_ports: &[8611, 8612, 8613, 8614],
    inspect,
};

const MAGICS: [&[u8; 4]; 4] = [b"BJNP", b"BJNB", b"MFNP", b"BNJB"];
const HEADER: usize = 16;

/// Whether `d` starts with a BJNP header whose payload length fits what follows.
pub fn is_header(d: &[u8], udp: bool) -> bool {
    let Some(magic) = d.get(..4) else {
        return false;
    };
    if !MAGICS.iter().any(|m| &m[..] == magic) {
        return false;
    }
    if !matches!(d.get(4).map(|t| t & 0x7f), Some(0x01 | 0x02)) {
        return false;
    }
    let Some(len) = be32(d, 12).and_then(|l| usize::try_from(l).ok()) else {
        return false;
    };
    let total = HEADER.saturating_add(len);
    if udp {
        total == d.len()
    } else {
        // A stream may hold several messages or a part of one: bound the length only.
        len < 0x10_0000
    }
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if is_header(ins.data, ins.flow.l4 == 17) {
        ins.detect(id::BJNP);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    const DISCOVER: &[u8] = b"BJNP\x02\x01\x00\x00\x17\xa4\x00\x00\x00\x00\x00\x00";

    #[test]
    fn discover() {
        let mut c = Conv::udp(&DISSECTOR, 50087, 8612);
        c.client(DISCOVER);
        assert_eq!(c.name(), "BJNP");
    }

    #[test]
    fn rejects() {
        assert!(!is_header(
            b"BJNX\x02\x01\x00\x00\x17\xa4\x00\x00\x00\x00\x00\x00",
            true
        ));
        assert!(!is_header(
            b"BJNP\x05\x01\x00\x00\x17\xa4\x00\x00\x00\x00\x00\x00",
            true
        ));
        // Declared payload length not matching the datagram.
        assert!(!is_header(
            b"BJNP\x02\x01\x00\x00\x17\xa4\x00\x00\x00\x00\x00\x04",
            true
        ));
        assert!(is_header(
            b"BJNP\x82\x01\x00\x00\x17\xa4\x00\x00\x00\x00\x00\x01x",
            true
        ));
    }
}
