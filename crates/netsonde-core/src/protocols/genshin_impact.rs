//! Genshin Impact's game transport (KCP with its own connection handshake). The handshake
//! datagrams are 20 bytes: a 32-bit start marker (0xFF to connect, 0x145 in the server's
//! reply, 0x194 to disconnect), conversation/token words, the constant 1234567890 and an
//! end marker (0xFFFFFFFF from the client, 0x14514545 from the server).
//!
//! Its TCP side channel opens with a message of a version byte (1), the 32-bit length of
//! the whole message, and a type byte (7 for the client's hello, 8 for the server's reply).

use super::wire::be32;
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static DISSECTOR: Dissector = Dissector {
    proto: id::GENSHIN_IMPACT,
    transports: Transports::TCP_UDP,
    tcp_ports: &[],
    udp_ports: &[22101, 22102],
    inspect,
};

const MAGIC: u32 = 1_234_567_890;

/// Whether the datagram is a Genshin Impact handshake.
pub fn is_handshake(d: &[u8]) -> bool {
    if d.len() != 20 || be32(d, 12) != Some(MAGIC) {
        return false;
    }
    matches!(
        (be32(d, 0), be32(d, 16)),
        (Some(0xff), Some(0xffff_ffff))
            | (Some(0x145), Some(0x1451_4545))
            | (Some(0x194), Some(0x1945_1945))
    )
}

/// Whether `d` is the TCP side channel's hello or its reply.
pub fn is_tcp_hello(d: &[u8]) -> bool {
    d.len() >= 16
        && d.first() == Some(&1)
        && be32(d, 1).and_then(|n| usize::try_from(n).ok()) == Some(d.len())
        && matches!(d.get(5), Some(7 | 8))
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    let ok = if ins.flow.l4 == 17 {
        is_handshake(ins.data)
    } else {
        is_tcp_hello(ins.data)
    };
    if ok {
        ins.detect(id::GENSHIN_IMPACT);
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
    fn handshake() {
        let connect =
            b"\x00\x00\x00\xff\x00\x00\x00\x00\x00\x00\x00\x00\x49\x96\x02\xd2\xff\xff\xff\xff";
        let mut c = Conv::udp(&DISSECTOR, 58766, 22101);
        c.client(connect);
        assert_eq!(c.name(), "GenshinImpact");
        assert!(is_handshake(
            b"\x00\x00\x01\x45\x00\x03\x18\x32\x3a\x0d\xa2\x15\x49\x96\x02\xd2\x14\x51\x45\x45"
        ));
        // Wrong end marker for a connect.
        assert!(!is_handshake(
            b"\x00\x00\x00\xff\x00\x00\x00\x00\x00\x00\x00\x00\x49\x96\x02\xd2\x14\x51\x45\x45"
        ));
        assert!(!is_handshake(&connect[..19]));
    }

    #[test]
    fn tcp_hello() {
        let mut h = vec![1, 0, 0, 0, 42, 7, 0, 0, 0, 0];
        h.resize(42, 0x11);
        let mut c = Conv::tcp(&DISSECTOR, 39822, 80);
        c.client(&h);
        assert_eq!(c.name(), "GenshinImpact");
        h.push(0);
        assert!(!is_tcp_hello(&h));
        h.pop();
        h[5] = 9;
        assert!(!is_tcp_hello(&h));
    }
}
