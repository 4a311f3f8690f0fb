//! DCE/RPC connectionless (C706 chapter 12, over UDP): an 80-byte header — RPC version 4,
//! the packet type (0-10), two flag bytes, the data representation (byte order in the high
//! nibble of its first byte: 0 big-endian, 1 little-endian), the object, interface and
//! activity UUIDs, the server boot time, interface version, sequence number, operation
//! number, hints, the body length, fragment number, authentication protocol and serial
//! number — then the body, which fills the datagram.
//!
//! Only PROFINET IO (IEC 61158-6-10) is reported: its interfaces (device, controller,
//! supervisor, parameter server) are DEA0000x-6C97-11D1-8271-00A02442DF7D, and the flow is
//! named DCERPC.PROFINET_IO as nDPI does.

use super::wire::{be16, le16, u8_at};
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static DISSECTOR: Dissector = Dissector {
    proto: id::DCERPC,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[34964],
    inspect,
};

const HEADER: usize = 80;
const INTERFACE: usize = 24;
/// The PROFINET IO interface UUID but for its 4th byte (1-4), big-endian.
const PNIO_HEAD: [u8; 3] = [0xde, 0xa0, 0x00];
const PNIO_TAIL: [u8; 12] = [
    0x6c, 0x97, 0x11, 0xd1, 0x82, 0x71, 0x00, 0xa0, 0x24, 0x42, 0xdf, 0x7d,
];

/// The interface UUID of a connectionless DCE/RPC packet, in its canonical (big-endian)
/// byte order, when `d` is one whole packet.
pub fn interface(d: &[u8]) -> Option<[u8; 16]> {
    let little = match u8_at(d, 4)? >> 4 {
        0 => false,
        1 => true,
        _ => return None,
    };
    let body = if little { le16(d, 74)? } else { be16(d, 74)? };
    if u8_at(d, 0)? != 4 || u8_at(d, 1)? > 10 || HEADER + usize::from(body) != d.len() {
        return None;
    }
    let raw: [u8; 16] = d.get(INTERFACE..INTERFACE + 16)?.try_into().ok()?;
    let mut uuid = raw;
    if little {
        // time_low, time_mid and time_hi are sent in the packet's byte order.
        uuid[..4].reverse();
        uuid[4..6].reverse();
        uuid[6..8].reverse();
    }
    Some(uuid)
}

/// Whether `uuid` is one of PROFINET IO's interfaces.
pub fn is_pnio(uuid: &[u8; 16]) -> bool {
    let [a, b, c, n, tail @ ..] = *uuid;
    [a, b, c] == PNIO_HEAD && (1..=4).contains(&n) && tail == PNIO_TAIL
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    match interface(ins.data) {
        Some(uuid) if is_pnio(&uuid) => {
            ins.detect(id::DCERPC);
            ins.set_sub_protocol(id::PROFINET_IO);
            Verdict::Done
        }
        _ => Verdict::Exclude,
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    /// A little-endian request to the PROFINET IO device interface with an 8-byte body.
    fn request() -> Vec<u8> {
        let mut d = vec![4, 0, 0x08, 0, 0x10, 0, 0, 0];
        d.extend_from_slice(b"\x00\x00\xa0\xde\x97\x6c\xd1\x11\x82\x71\x00\x01\x00\x03\x01\x5a");
        d.extend_from_slice(b"\x01\x00\xa0\xde\x97\x6c\xd1\x11\x82\x71\x00\xa0\x24\x42\xdf\x7d");
        d.resize(74, 0);
        d.extend_from_slice(&[8, 0, 0, 0, 0, 0]);
        d.extend_from_slice(&[0; 8]);
        d
    }

    #[test]
    fn profinet_io_request() {
        let mut c = Conv::udp(&DISSECTOR, 1566, 34964);
        c.client(&request());
        assert_eq!(c.name(), "DCERPC.PROFINET_IO");
    }

    #[test]
    fn rejects() {
        let mut d = request();
        d.push(0); // body longer than announced
        assert_eq!(interface(&d), None);
        let mut d = request();
        d[0] = 5; // connection-oriented version
        assert_eq!(interface(&d), None);
        // Another interface (the endpoint mapper).
        let mut d = request();
        d[24..40]
            .copy_from_slice(b"\x08\x83\xaf\xe1\x1f\x5d\xc9\x11\x91\xa4\x08\x00\x2b\x14\xa0\xfa");
        let uuid = interface(&d).unwrap_or_default();
        assert!(!is_pnio(&uuid));
        let mut c = Conv::udp(&DISSECTOR, 1566, 34964);
        c.client(&d);
        assert_eq!(c.name(), "Unknown");
    }
}
