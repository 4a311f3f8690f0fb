//! Check Point High Availability (CPHA/CCP, UDP 8116): a 20-byte header — magic 0x1a90,
//! protocol version, cluster number, HA opcode (1-10: my state, query state, interface
//! probe request/reply, interface configuration request/reply, load-balancing
//! configuration and confirmation, policy change, ...), source interface, a random id, the
//! source and destination machine ids, the policy id and a filler — then the opcode's
//! payload.

use super::wire::be16;
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static DISSECTOR: Dissector = Dissector {
    proto: id::CPHA,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[8116],
    inspect,
};

const HEADER: usize = 20;
/// Machine ids are cluster member indices; 0xfffe/0xffff address all members.
const MAX_MEMBERS: u16 = 64;

/// Whether `d` is a CPHA packet.
pub fn is_cpha(d: &[u8]) -> bool {
    let member = |at| be16(d, at).is_some_and(|m| !(MAX_MEMBERS..0xfffe).contains(&m));
    d.len() > HEADER
        && be16(d, 0) == Some(0x1a90)
        && be16(d, 6).is_some_and(|op| (1..=10).contains(&op))
        && member(12)
        && member(14)
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if is_cpha(ins.data) {
        ins.detect(id::CPHA);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    const MY_STATE: &[u8] = b"\x1a\x90\x0c\x31\x27\x85\x00\x01\x00\x16\x79\x3e\x00\x01\xff\xfe\xe0\x4a\x01\x00\x00\x02\x00\x01\x00\x00";

    #[test]
    fn my_state() {
        let mut c = Conv::udp(&DISSECTOR, 8116, 8116);
        c.client(MY_STATE);
        assert_eq!(c.name(), "CPHA");
        let mut v = MY_STATE.to_vec();
        v[7] = 11; // opcode
        assert!(!is_cpha(&v));
        let mut v = MY_STATE.to_vec();
        v[12] = 0x12; // source machine id
        assert!(!is_cpha(&v));
        let mut v = MY_STATE.to_vec();
        v[0] = 0x1b;
        assert!(!is_cpha(&v));
        assert!(!is_cpha(&MY_STATE[..20]));
    }
}
