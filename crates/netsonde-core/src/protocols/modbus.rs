//! Modbus/TCP: each frame is an MBAP header — transaction id, protocol id 0, the length of
//! what follows (unit id and PDU, 2..=254 bytes) and the unit id — then the function code.
//! A request is confirmed by the server's answer to it: same transaction id, unit and
//! function (an exception sets the function's top bit). Function 90 is Schneider's UMAS,
//! reported as the sub-protocol.

use super::wire::{be16, u8_at};
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static DISSECTOR: Dissector = Dissector {
    proto: id::MODBUS,
    transports: Transports::TCP,
    tcp_ports: &[502],
    udp_ports: &[],
    inspect,
};

const MBAP: usize = 7;
/// Function code of UMAS (Unity Application Messaging Service).
const UMAS: u8 = 0x5a;

/// The MBAP header of a frame: (transaction id, unit id, function code, frame length).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Frame {
    pub transaction: u16,
    pub unit: u8,
    pub function: u8,
    pub len: usize,
}

/// The frame at the start of `d`, when its header is well formed (the frame may be cut).
pub fn frame(d: &[u8]) -> Option<Frame> {
    if be16(d, 2)? != 0 {
        return None;
    }
    let follow = usize::from(be16(d, 4)?);
    let function = u8_at(d, MBAP)?;
    if !(2..=254).contains(&follow) || function & 0x7f == 0 {
        return None;
    }
    Some(Frame {
        transaction: be16(d, 0)?,
        unit: u8_at(d, 6)?,
        function,
        len: 6 + follow,
    })
}

/// Whether `d` is made of whole frames only.
fn whole_frames(d: &[u8]) -> bool {
    let mut rest = d;
    while !rest.is_empty() {
        match frame(rest) {
            Some(f) if f.len <= rest.len() => rest = rest.get(f.len..).unwrap_or_default(),
            _ => return false,
        }
    }
    !d.is_empty()
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if !whole_frames(ins.data) {
        // A frame may arrive in pieces; its header must be right from the start.
        return match frame(ins.data) {
            Some(_) if ins.data.len() < 260 => Verdict::Continue,
            _ => Verdict::Exclude,
        };
    }
    if ins.to_server() {
        return Verdict::Continue;
    }
    let (Some(req), Some(resp)) = (frame(ins.first_payload[0]), frame(ins.data)) else {
        return Verdict::Exclude;
    };
    if req.transaction != resp.transaction
        || req.unit != resp.unit
        || req.function & 0x7f != resp.function & 0x7f
    {
        return Verdict::Exclude;
    }
    ins.detect(id::MODBUS);
    if req.function == UMAS {
        ins.set_sub_protocol(id::UMAS);
    }
    Verdict::Done
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    const READ: &[u8] = b"\x00\x07\x00\x00\x00\x06\x01\x03\x00\x00\x00\x02";
    const READ_RESP: &[u8] = b"\x00\x07\x00\x00\x00\x07\x01\x03\x04\x00\x0a\x00\x0b";

    #[test]
    fn request_and_response() {
        let mut c = Conv::tcp(&DISSECTOR, 40000, 502);
        c.client(READ);
        assert!(c.open);
        c.server(READ_RESP);
        assert_eq!(c.name(), "Modbus");
    }

    #[test]
    fn umas() {
        let mut c = Conv::tcp(&DISSECTOR, 7718, 502);
        c.client(b"\x00\x00\x00\x00\x00\x04\x00\x5a\x00\x02");
        c.server(b"\x00\x00\x00\x00\x00\x06\x00\x5a\x00\xfe\x10\xff");
        assert_eq!(c.name(), "Modbus.UMAS");
    }

    #[test]
    fn rejects() {
        // A response to another transaction.
        let mut c = Conv::tcp(&DISSECTOR, 40000, 502);
        c.client(READ);
        let mut r = READ_RESP.to_vec();
        r[1] = 8;
        c.server(&r);
        assert_eq!(c.name(), "Unknown");
        // Protocol id not 0, length not matching.
        assert_eq!(frame(b"\x00\x07\x00\x01\x00\x06\x01\x03"), None);
        assert!(!whole_frames(&READ[..11]));
        assert!(!whole_frames(b"\x00\x07\x00\x00\x00\x01\x01\x03"));
        let mut c = Conv::tcp(&DISSECTOR, 40000, 502);
        c.client(b"GET / HTTP/1.1\r\n\r\n");
        assert!(!c.open);
    }
}
