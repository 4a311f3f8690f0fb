//! Epic Games (Unreal Engine) game sessions over UDP. The client opens with a stateless
//! handshake packet: a 32-bit header word with bit 3 clear, then 24 zero bytes from offset
//! 10 (the cookie still to be filled); the server's first answer repeats the word with bit
//! 3 set.

use super::wire::be32;
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::EPICGAMES,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[],
    inspect,
};

/// The header word of a handshake opening, if `d` is one.
pub fn opening_word(d: &[u8]) -> Option<u32> {
    let word = be32(d, 0)?;
    let zeros = d.get(10..34)?;
    (word & 0x08 == 0 && zeros.iter().all(|&b| b == 0)).then_some(word)
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    let Some(word) = opening_word(ins.first_payload[0]) else {
        return Verdict::Exclude;
    };
    if ins.to_server() {
        return if ins.dir_packets[1] == 0 {
            Verdict::Continue
        } else {
            Verdict::Exclude
        };
    }
    if ins.dir_packets[1] == 1 && ins.data.len() > 4 && be32(ins.data, 0) == Some(word | 0x08) {
        ins.detect(id::EPICGAMES);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::*;
    use crate::protocols::harness::Conv;

    fn opening() -> Vec<u8> {
        let mut p = vec![0x47, 0x1a, 0x20, 0x00, 0x08, 0x98, 0x22, 0x65, 0x74, 0x04];
        p.resize(50, 0);
        p
    }

    #[test]
    fn handshake() {
        assert_eq!(opening_word(&opening()), Some(0x471a_2000));
        let mut answer = opening();
        answer[3] = 0x08;
        answer[20] = 0x34;
        let mut c = Conv::udp(&DISSECTOR, 49693, 7777);
        c.client(&opening()).client(&opening()).server(&answer);
        assert_eq!(c.name(), "EpicGames");
    }

    #[test]
    fn rejects_others() {
        let mut p = opening();
        p[3] = 0x08;
        assert!(opening_word(&p).is_none());
        let mut p = opening();
        p[20] = 1;
        assert!(opening_word(&p).is_none());
        assert!(opening_word(&opening()[..30]).is_none());
        let mut c = Conv::udp(&DISSECTOR, 49693, 7777);
        c.client(&opening()).server(&opening());
        assert_eq!(c.name(), "Unknown");
    }
}
