//! Beckhoff ADS over TCP (AMS/TCP, port 48898): a 6-byte AMS/TCP header (2 reserved zero
//! bytes, the little-endian length of what follows), then the 32-byte AMS header — target
//! and source AmsNetId and port, command id (1-9), state flags (0x0004 marks an ADS
//! command, 0x0001 a response), the length of the data that follows, an error code and an
//! invoke id — then the command's data.

use super::wire::{le16, le32};
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static DISSECTOR: Dissector = Dissector {
    proto: id::BECKHOFF_ADS,
    transports: Transports::TCP,
    tcp_ports: &[48898],
    udp_ports: &[],
    inspect,
};

const TCP_HEADER: usize = 6;
const AMS_HEADER: usize = 32;

/// The length of the AMS/TCP packet at the start of `d` when its headers are consistent
/// (the packet may be cut after the AMS header).
pub fn packet_len(d: &[u8]) -> Option<usize> {
    if le16(d, 0)? != 0 {
        return None;
    }
    let follow = usize::try_from(le32(d, 2)?).ok()?;
    let command = le16(d, TCP_HEADER + 16)?;
    let flags = le16(d, TCP_HEADER + 18)?;
    let data = usize::try_from(le32(d, TCP_HEADER + 20)?).ok()?;
    let ok = follow == AMS_HEADER.checked_add(data)?
        && (1..=9).contains(&command)
        && flags & 0x0004 != 0
        // Ports of the target and the source.
        && le16(d, TCP_HEADER + 6)? != 0
        && le16(d, TCP_HEADER + 14)? != 0;
    ok.then_some(TCP_HEADER + follow)
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    match packet_len(ins.data) {
        Some(n) if n <= ins.data.len() => {
            ins.detect(id::BECKHOFF_ADS);
            Verdict::Done
        }
        Some(_) => Verdict::Continue,
        None if ins.data.len() < TCP_HEADER + AMS_HEADER && ins.data.len() < 64 => {
            // Too short to judge; the rest of the header is on its way only if what is
            // there starts like one.
            if le16(ins.data, 0).map_or(true, |r| r == 0) {
                Verdict::Continue
            } else {
                Verdict::Exclude
            }
        }
        None => Verdict::Exclude,
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    /// Read State request: no data.
    const READ_STATE: &[u8] = b"\x00\x00\x20\x00\x00\x00\x05\x0d\x75\x60\x01\x01\x10\x27\xc0\xa8\x01\x63\x01\x01\x03\x80\x04\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x05\x00\x00\x00";

    #[test]
    fn read_state() {
        let mut c = Conv::tcp(&DISSECTOR, 49201, 48898);
        c.client(READ_STATE);
        assert_eq!(c.name(), "BeckhoffADS");
    }

    #[test]
    fn rejects() {
        let mut v = READ_STATE.to_vec();
        v[22] = 0x0a; // command 10
        assert_eq!(packet_len(&v), None);
        let mut v = READ_STATE.to_vec();
        v[24] = 0; // not an ADS command
        assert_eq!(packet_len(&v), None);
        let mut v = READ_STATE.to_vec();
        v[2] = 0x24; // length not header + data
        assert_eq!(packet_len(&v), None);
        let mut c = Conv::tcp(&DISSECTOR, 49201, 48898);
        c.client(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03");
        assert!(!c.open);
    }
}
