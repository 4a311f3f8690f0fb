//! AMQP 0-9-1 (TCP 5672): a connection opens with the protocol header `AMQP\0\0\x09\x01`
//! (or another version), then frames — a type (1 method, 2 content header, 3 body,
//! 8 heartbeat), the channel, the payload size (big-endian 32-bit), the payload and the
//! frame-end octet 0xCE. Confirmed by the protocol header or by a whole frame ending in
//! 0xCE (a method frame must also name a defined class).

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::AMQP,
    transports: Transports::TCP,
    tcp_ports: &[5672],
    udp_ports: &[],
    inspect,
};

const HEADER: &[u8] = b"AMQP";
const FRAME_END: u8 = 0xCE;
/// Frame header (type, channel, size).
const FRAME_HEADER: usize = 7;
/// Classes of AMQP 0-9-1: connection, channel, exchange, queue, basic, tx, confirm.
const CLASSES: &[u16] = &[10, 20, 40, 50, 60, 85, 90];

/// A whole frame at the start of `d`: its type.
pub fn frame(d: &[u8]) -> Option<u8> {
    let t = *d.first()?;
    if !matches!(t, 1 | 2 | 3 | 8) {
        return None;
    }
    let size = usize::try_from(u32::from_be_bytes(d.get(3..7)?.try_into().ok()?)).ok()?;
    if *d.get(FRAME_HEADER.checked_add(size)?)? != FRAME_END {
        return None;
    }
    if t == 1 {
        let class = u16::from_be_bytes(d.get(7..9)?.try_into().ok()?);
        if !CLASSES.contains(&class) {
            return None;
        }
    }
    Some(t)
}

/// The protocol header: `AMQP`, then protocol id and version bytes.
pub fn is_protocol_header(d: &[u8]) -> bool {
    d.len() == 8
        && d.get(..4) == Some(HEADER)
        && d.get(4..6).is_some_and(|b| b.iter().all(|&x| x <= 1))
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    let d = ins.data;
    if is_protocol_header(d) || frame(d).is_some() {
        ins.detect(id::AMQP);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    const PUBLISH: &[u8] =
        b"\x01\x00\x01\x00\x00\x00\x21\x00\x3c\x00\x28\x00\x00\x08celeryev\x10worker.heartbeat\x00\xce";

    #[test]
    fn method_frame() {
        assert_eq!(frame(PUBLISH), Some(1));
        let mut c = Conv::tcp(&DISSECTOR, 44205, 5672);
        c.client(PUBLISH);
        assert_eq!(c.name(), "AMQP");
        assert!(is_protocol_header(b"AMQP\x00\x00\x09\x01"));
    }

    #[test]
    fn rejects_others() {
        assert_eq!(frame(&PUBLISH[..PUBLISH.len() - 1]), None);
        assert_eq!(frame(b"\x01\x00\x01\x00\x00\x00\x02\x00\x3d\xce"), None);
        assert_eq!(frame(b"\x08\x00\x00\x00\x00\x00\x00\xcf"), None);
        assert!(!is_protocol_header(b"AMQPxxxx"));
    }
}
