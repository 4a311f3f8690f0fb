//! XDMCP (X Display Manager Control Protocol, UDP 177): a 6-byte header — version 1,
//! opcode 1..=16 (BroadcastQuery .. KeepaliveResponse) and the length of what follows.
//! Confirmed by version 1, a defined opcode and a length equal to the rest of the datagram.

use super::wire::be16;
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::XDMCP,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[177],
    inspect,
};

/// The opcode of a sound XDMCP datagram.
pub fn datagram(d: &[u8]) -> Option<u16> {
    let (version, opcode, len) = (be16(d, 0)?, be16(d, 2)?, be16(d, 4)?);
    (version == 1 && (1..=16).contains(&opcode) && usize::from(len) + 6 == d.len())
        .then_some(opcode)
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if datagram(ins.data).is_some() {
        ins.detect(id::XDMCP);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn query_and_willing() {
        assert_eq!(datagram(b"\x00\x01\x00\x02\x00\x01\x00"), Some(2));
        assert_eq!(datagram(b"\x00\x01\x00\x05\x00\x02ab"), Some(5));
        assert_eq!(datagram(b"\x00\x01\x00\x02\x00\x02\x00"), None);
        assert_eq!(datagram(b"\x00\x02\x00\x02\x00\x01\x00"), None);
        assert_eq!(datagram(b"\x00\x01\x00\x20\x00\x01\x00"), None);
        let mut c = Conv::udp(&DISSECTOR, 61426, 177);
        c.client(b"\x00\x01\x00\x02\x00\x01\x00");
        assert_eq!(c.name(), "XDMCP");
    }
}
