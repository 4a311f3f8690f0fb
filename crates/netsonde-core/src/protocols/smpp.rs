//! SMPP (Short Message Peer-to-Peer v3.4/v5.0, TCP 2775): every PDU has a 16-byte header —
//! command_length (header included), command_id (responses set bit 31), command_status and
//! sequence_number, all big-endian. Confirmed by a whole PDU with a defined command, a
//! request's status of 0 and a sequence number in 1..=0x7FFFFFFF.

use super::wire::be32;
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::SMPP,
    transports: Transports::TCP,
    tcp_ports: &[2775],
    udp_ports: &[],
    inspect,
};

const HEADER_LEN: usize = 16;
/// Longest PDU accepted (the specification sets no limit; real ones are small).
const MAX_PDU: u32 = 64 * 1024;
const RESPONSE: u32 = 0x8000_0000;
/// Request command ids (bind_receiver .. cancel_broadcast_sm).
const COMMANDS: &[u32] = &[
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0B, 0x15, 0x21, 0x102, 0x103, 0x111,
    0x112, 0x113,
];

/// The command id of the whole PDU at the start of `d`; `Some(None)` while its header or
/// body is still arriving, `None` when it is not SMPP.
pub fn pdu(d: &[u8]) -> Option<Option<u32>> {
    let (Some(len), Some(cmd), Some(status), Some(seq)) =
        (be32(d, 0), be32(d, 4), be32(d, 8), be32(d, 12))
    else {
        return (d.len() < HEADER_LEN).then_some(None);
    };
    let known = cmd == RESPONSE || COMMANDS.contains(&(cmd & !RESPONSE));
    let status_ok = cmd & RESPONSE != 0 || status == 0;
    if !(HEADER_LEN as u32..=MAX_PDU).contains(&len) || !known || !status_ok {
        return None;
    }
    if seq == 0 || seq > 0x7FFF_FFFF {
        return None;
    }
    Some((d.len() >= len as usize).then_some(cmd))
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    match pdu(ins.data) {
        Some(Some(_)) => {
            ins.detect(id::SMPP);
            Verdict::Done
        }
        Some(None) => Verdict::Continue,
        None => Verdict::Exclude,
    }
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    const BIND: &[u8] = b"\x00\x00\x00\x28\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x01\
abhik\x00password\x00SMPP\x00\x01\x00\x00\x00";

    #[test]
    fn bind_transmitter_and_response() {
        assert_eq!(pdu(BIND), Some(Some(2)));
        assert_eq!(pdu(BIND.get(..20).unwrap_or_default()), Some(None));
        let resp = b"\x00\x00\x00\x15\x80\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x01SMSC\x00";
        assert_eq!(pdu(resp), Some(Some(0x8000_0002)));
        let mut c = Conv::tcp(&DISSECTOR, 1770, 9000);
        c.client(BIND);
        assert_eq!(c.name(), "SMPP");
    }

    #[test]
    fn rejects_other_headers() {
        // Undefined command 0x0A.
        assert_eq!(
            pdu(b"\x00\x00\x00\x10\x00\x00\x00\x0a\x00\x00\x00\x00\x00\x00\x00\x01"),
            None
        );
        // A request with an error status.
        assert_eq!(
            pdu(b"\x00\x00\x00\x10\x00\x00\x00\x15\x00\x00\x00\x08\x00\x00\x00\x01"),
            None
        );
        // Sequence number 0.
        assert_eq!(
            pdu(b"\x00\x00\x00\x10\x00\x00\x00\x15\x00\x00\x00\x00\x00\x00\x00\x00"),
            None
        );
        // Length shorter than the header.
        assert_eq!(
            pdu(b"\x00\x00\x00\x08\x00\x00\x00\x15\x00\x00\x00\x00\x00\x00\x00\x01"),
            None
        );
    }
}
