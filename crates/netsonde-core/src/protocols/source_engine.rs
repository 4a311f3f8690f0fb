//! Source Engine (Valve) server queries: connectionless packets start with a -1 (0xFFFFFFFF)
//! header and a one-byte type. A2S_INFO carries the fixed string "Source Engine Query";
//! A2S_PLAYER/A2S_RULES and the challenge reply are nine bytes (type and a 32-bit challenge).

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static DISSECTOR: Dissector = Dissector {
    proto: id::SOURCE_ENGINE,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[27015],
    inspect,
};

const CONNECTIONLESS: [u8; 4] = [0xff; 4];
const INFO_QUERY: &[u8] = b"TSource Engine Query\0";

/// Whether the datagram is a Source Engine query or challenge.
pub fn is_query(d: &[u8]) -> bool {
    let Some(body) = d.strip_prefix(&CONNECTIONLESS[..]) else {
        return false;
    };
    if body.starts_with(INFO_QUERY) {
        // A2S_INFO, optionally followed by a 4-byte challenge.
        return body.len() == INFO_QUERY.len() || body.len() == INFO_QUERY.len() + 4;
    }
    // A2S_PLAYER ('U'), A2S_RULES ('V') and S2C_CHALLENGE ('A'): type + 32-bit challenge.
    matches!(body.first(), Some(b'U' | b'V' | b'A')) && body.len() == 5
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if is_query(ins.data) {
        ins.detect(id::SOURCE_ENGINE);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn info_query() {
        let mut p = vec![0xff; 4];
        p.extend_from_slice(INFO_QUERY);
        let mut c = Conv::udp(&DISSECTOR, 21285, 27015);
        c.client(&p);
        assert_eq!(c.name(), "Source_Engine");
    }

    #[test]
    fn challenge_and_rejects() {
        assert!(is_query(b"\xff\xff\xff\xffU\xff\xff\xff\xff"));
        assert!(is_query(b"\xff\xff\xff\xffA\x01\x02\x03\x04"));
        assert!(!is_query(b"\xff\xff\xff\xffU\xff\xff\xff"));
        assert!(!is_query(b"\xff\xff\xff\xfeTSource Engine Query\0"));
        assert!(!is_query(b"\xff\xff\xff\xffTSource Engine Query\0junkjunk"));
        let mut c = Conv::udp(&DISSECTOR, 21285, 27015);
        c.client(b"hello world");
        assert_eq!(c.name(), "Unknown");
    }
}
