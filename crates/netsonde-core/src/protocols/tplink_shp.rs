//! TP-Link Smart Home Protocol (smart plugs and bulbs): JSON obfuscated with an autokey XOR
//! (the first byte XORed with 171, each following one with the previous cipher byte). Over
//! TCP each message has a 32-bit big-endian length prefix; over UDP (discovery) it has none.
//! A payload is recognised when it deciphers to a JSON object: '{', then printable text.

use super::wire::be32;
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static DISSECTOR: Dissector = Dissector {
    proto: id::TPLINK_SHP,
    transports: Transports::TCP_UDP,
    tcp_ports: &[9999],
    udp_ports: &[9999],
    inspect,
};

const KEY: u8 = 171;
/// Deciphered bytes checked.
const CHECK: usize = 24;

/// Whether `cipher` deciphers to the start of a JSON object.
pub fn is_json(cipher: &[u8]) -> bool {
    if cipher.len() < 8 {
        return false;
    }
    let mut key = KEY;
    for (i, &c) in cipher.iter().take(CHECK).enumerate() {
        let p = c ^ key;
        key = c;
        let ok = if i == 0 {
            p == b'{'
        } else {
            p.is_ascii_graphic() || p == b' '
        };
        if !ok {
            return false;
        }
    }
    true
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    let d = ins.data;
    let ok = if ins.flow.l4 == 17 {
        is_json(d)
    } else {
        be32(d, 0).is_some_and(|n| n > 0 && n < 0x10_0000)
            && is_json(d.get(4..).unwrap_or_default())
    };
    if ok {
        ins.detect(id::TPLINK_SHP);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    fn encrypt(plain: &[u8]) -> Vec<u8> {
        let mut key = KEY;
        plain
            .iter()
            .map(|&p| {
                key ^= p;
                key
            })
            .collect()
    }

    #[test]
    fn discovery_and_tcp() {
        let q = encrypt(br#"{"system":{"get_sysinfo":{}}}"#);
        assert_eq!(q.first(), Some(&0xd0));
        let mut c = Conv::udp(&DISSECTOR, 9999, 9999);
        c.client(&q);
        assert_eq!(c.name(), "TPLINK_SHP");
        let mut t = (q.len() as u32).to_be_bytes().to_vec();
        t.extend_from_slice(&q);
        let mut c = Conv::tcp(&DISSECTOR, 40000, 9999);
        c.client(&t);
        assert_eq!(c.name(), "TPLINK_SHP");
    }

    #[test]
    fn plain_text_is_not() {
        assert!(!is_json(br#"{"system":{"get_sysinfo":{}}}"#));
        assert!(!is_json(&encrypt(b"\x00\x01\x02binary data here")));
    }
}
