//! BFCP (Binary Floor Control Protocol, RFC 8855/8856, over TCP or UDP): a 12-byte common
//! header — version (1 over TCP, 2 over UDP) in the top 3 bits, flag bits and reserved bits,
//! the primitive 1..=17, the payload length in 4-byte words, then conference, transaction
//! and user ids. Confirmed by a defined version and primitive, zero reserved bits and a
//! payload length that matches the message.

use super::wire::{be16, be32, u8_at};
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::BFCP,
    transports: Transports::TCP_UDP,
    tcp_ports: &[],
    udp_ports: &[],
    inspect,
};

const HEADER_LEN: usize = 12;

/// A sound BFCP common header at the start of `d`: its primitive, conference id and
/// transaction id, and whether the payload length matches the message exactly.
pub fn header(d: &[u8]) -> Option<(u8, u32, u16, bool)> {
    let first = u8_at(d, 0)?;
    let version = first >> 5;
    // Bits: R (responder), F (fragmented, UDP only), then 3 reserved bits.
    let reserved = first & 0x07;
    let primitive = u8_at(d, 1)?;
    let words = usize::from(be16(d, 2)?);
    let conference = be32(d, 4)?;
    let transaction = be16(d, 8)?;
    be16(d, 10)?;
    let sound = matches!(version, 1 | 2)
        && reserved == 0
        && (1..=17).contains(&primitive)
        && conference != 0;
    let exact = first & 0x08 == 0 && HEADER_LEN + 4 * words == d.len();
    sound.then_some((primitive, conference, transaction, exact))
}

/// Confirmed by a message whose length matches exactly, or by a message answering the
/// other side's first one (same conference and transaction ids).
fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    let d = ins.data;
    if ins.flow.l4 == 6 && d.len() < HEADER_LEN {
        return if d.first().map_or(true, |&b| matches!(b >> 5, 1 | 2)) {
            Verdict::Continue
        } else {
            Verdict::Exclude
        };
    }
    let Some((_, conference, transaction, exact)) = header(d) else {
        return Verdict::Exclude;
    };
    let other = ins
        .first_payload
        .get(1 - ins.dir as usize)
        .copied()
        .unwrap_or_default();
    let answers = header(other).is_some_and(|(_, c, t, _)| c == conference && t == transaction);
    if exact || answers {
        ins.detect(id::BFCP);
        return Verdict::Done;
    }
    Verdict::Continue
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    /// Hello (primitive 11), with no attributes.
    const HELLO: &[u8] = b"\x20\x0b\x00\x00\x00\x00\x00\x01\x00\x02\x05\x04";

    #[test]
    fn hello() {
        assert_eq!(header(HELLO), Some((11, 1, 2, true)));
        // Version 3, reserved bits, primitive 0, conference 0.
        assert_eq!(
            header(b"\x60\x0b\x00\x00\x00\x00\x00\x01\x00\x02\x05\x04"),
            None
        );
        assert_eq!(
            header(b"\x21\x0b\x00\x00\x00\x00\x00\x01\x00\x02\x05\x04"),
            None
        );
        assert_eq!(
            header(b"\x20\x00\x00\x00\x00\x00\x00\x01\x00\x02\x05\x04"),
            None
        );
        assert_eq!(
            header(b"\x20\x0b\x00\x00\x00\x00\x00\x00\x00\x02\x05\x04"),
            None
        );
        let mut c = Conv::tcp(&DISSECTOR, 44450, 5070);
        c.client(HELLO);
        assert_eq!(c.name(), "BFCP");
        let mut c = Conv::udp(&DISSECTOR, 47706, 5070);
        c.client(HELLO);
        assert_eq!(c.name(), "BFCP");
    }

    #[test]
    fn a_length_mismatch_needs_the_answer() {
        let query = b"\x20\x03\x00\x01\x00\x00\x00\x01\x00\x02\x05\x04";
        let status = b"\x20\x04\x00\x01\x00\x00\x00\x01\x00\x02\x05\x04";
        let mut c = Conv::udp(&DISSECTOR, 47706, 5070);
        c.client(query);
        assert_eq!(c.name(), "Unknown");
        c.server(status);
        assert_eq!(c.name(), "BFCP");
        // Another transaction is not an answer.
        let mut c = Conv::udp(&DISSECTOR, 47706, 5070);
        c.client(query);
        c.server(b"\x20\x04\x00\x01\x00\x00\x00\x01\x00\x09\x05\x04");
        assert_eq!(c.name(), "Unknown");
    }
}
