//! SOME/IP (automotive service-oriented middleware). A message header is 16 bytes: message
//! id (service, method), a length counting the bytes after it (at least the 8 remaining
//! header bytes), request id (client, session), protocol version 1, interface version,
//! message type (request, fire-and-forget, notification, response, error; 0x20 marks a
//! SOME/IP-TP segment, 0x40/0x41 acknowledgements) and a return code (0x00-0x3f).

use super::wire::be32;
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static DISSECTOR: Dissector = Dissector {
    proto: id::SOMEIP,
    transports: Transports::TCP_UDP,
    tcp_ports: &[30490, 30491, 30501],
    udp_ports: &[30490, 30491, 30501],
    inspect,
};

/// Whether `d` starts with a SOME/IP header whose message fits (UDP: the messages in the
/// datagram end exactly at its end; TCP: the first message is whole).
pub fn is_someip(d: &[u8], udp: bool) -> bool {
    let mut at = 0;
    loop {
        let Some(len) = be32(d, at + 4).and_then(|l| usize::try_from(l).ok()) else {
            return false;
        };
        if len < 8
            || d.get(at + 12) != Some(&1)
            || !matches!(
                d.get(at + 14).map(|t| t & !0x20),
                Some(0x00 | 0x01 | 0x02 | 0x40 | 0x41 | 0x80 | 0x81)
            )
            || !matches!(d.get(at + 15), Some(0x00..=0x3f))
        {
            return false;
        }
        let end = at.saturating_add(8).saturating_add(len);
        if !udp {
            // The first message of a stream opens within its first segment.
            return end <= d.len();
        }
        if end == d.len() {
            return true;
        }
        if end > d.len() {
            return false;
        }
        at = end;
    }
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if is_someip(ins.data, ins.flow.l4 == 17) {
        ins.detect(id::SOMEIP);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    const CALL: &[u8] = b"\x12\x34\x00\x08\x00\x00\x00\x11\x00\x00\x00\x01\x01\x01\x00\x00\x00\x00\x00\x05\xab\xab\xab\xab\xab";

    #[test]
    fn method_call() {
        let mut c = Conv::udp(&DISSECTOR, 49191, 49201);
        c.client(CALL);
        assert_eq!(c.name(), "SOMEIP");
        let mut two = CALL.to_vec();
        two.extend_from_slice(CALL);
        assert!(is_someip(&two, true));
    }

    #[test]
    fn rejects() {
        assert!(!is_someip(&CALL[..24], true));
        let mut v = CALL.to_vec();
        v[12] = 2; // protocol version
        assert!(!is_someip(&v, true));
        let mut t = CALL.to_vec();
        t[14] = 0x03; // message type
        assert!(!is_someip(&t, true));
    }
}
