//! imo (calls and messaging) over UDP. A datagram carries one or more messages, each a
//! big-endian base-128 length (high bit: more bytes follow) and that many bytes starting
//! with the message type (acknowledgements 0x02/0x03, data 0x0d/0x0e, media 0x1a); the
//! server puts a zero byte before its datagrams. Single-byte datagrams (keep-alives) are
//! passed over. A datagram that frames exactly confirms the flow when its evidence is
//! strong: a long message (two-byte length) or an acknowledgement (9 bytes: type, a
//! 24-bit counter, five zero bytes).

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::IMO,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[],
    inspect,
};

const TYPES: [u8; 5] = [0x02, 0x03, 0x0d, 0x0e, 0x1a];

/// How strongly a datagram framed as imo messages speaks for imo.
#[derive(Debug, PartialEq, Eq)]
pub enum Framing {
    No,
    Weak,
    Strong,
}

/// Frames the datagram as imo messages filling it exactly.
pub fn frames(d: &[u8]) -> Framing {
    let mut at = usize::from(d.first() == Some(&0));
    let mut strong = false;
    if at >= d.len() {
        return Framing::No;
    }
    while at < d.len() {
        let mut len = 0usize;
        let mut bytes = 0;
        loop {
            let Some(&b) = d.get(at) else {
                return Framing::No;
            };
            at += 1;
            bytes += 1;
            len = (len << 7) | usize::from(b & 0x7f);
            if b & 0x80 == 0 {
                break;
            }
            if bytes == 3 {
                return Framing::No;
            }
        }
        let Some(msg) = d.get(at..at + len) else {
            return Framing::No;
        };
        let Some(&kind) = msg.first() else {
            return Framing::No;
        };
        if len < 2 || !TYPES.contains(&kind) {
            return Framing::No;
        }
        let ack = len == 9 && matches!(kind, 2 | 3) && msg.get(4..) == Some(&[0u8; 5][..]);
        strong |= ack || (bytes == 2 && len >= 128);
        at += len;
    }
    if strong {
        Framing::Strong
    } else {
        Framing::Weak
    }
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if ins.data.len() == 1 {
        return Verdict::Continue;
    }
    match frames(ins.data) {
        Framing::Strong => {
            ins.detect(id::IMO);
            Verdict::Done
        }
        Framing::Weak => Verdict::Continue,
        Framing::No => Verdict::Exclude,
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::*;
    use crate::protocols::harness::Conv;

    const ACK: [u8; 10] = [0x09, 0x02, 0xdc, 0x9a, 0x02, 0, 0, 0, 0, 0];
    const SERVER_ACK: [u8; 11] = [0x00, 0x09, 0x03, 0x21, 0x9a, 0x02, 0, 0, 0, 0, 0];

    fn data(len: usize) -> Vec<u8> {
        let n = len - 2;
        let mut p = vec![0x80 | (n >> 7) as u8, (n & 0x7f) as u8, 0x0d];
        p.resize(len, 0x5a);
        p
    }

    #[test]
    fn framing() {
        assert_eq!(frames(&ACK), Framing::Strong);
        assert_eq!(frames(&SERVER_ACK), Framing::Strong);
        assert_eq!(frames(&data(329)), Framing::Strong);
        let mut two = data(190);
        two.extend_from_slice(&ACK);
        assert_eq!(frames(&two), Framing::Strong);
        let short = [0x06, 0x0d, 1, 2, 3, 4, 5];
        assert_eq!(frames(&short), Framing::Weak);
        assert_eq!(frames(&ACK[..9]), Framing::No);
        let mut bad = ACK;
        bad[1] = 0x44;
        assert_eq!(frames(&bad), Framing::No);
        assert_eq!(frames(&[0x00]), Framing::No);
    }

    #[test]
    fn flows() {
        let mut c = Conv::udp(&DISSECTOR, 49207, 36535);
        c.client(&[0x07]).server(&[0x06, 0x0d, 1, 2, 3, 4, 5]);
        assert_eq!(c.name(), "Unknown");
        c.client(&ACK);
        assert_eq!(c.name(), "IMO");
        let mut c = Conv::udp(&DISSECTOR, 49207, 36535);
        c.client(&[0x17, 0x03, 0x03, 0x00]).client(&ACK);
        assert_eq!(c.name(), "Unknown");
    }
}
