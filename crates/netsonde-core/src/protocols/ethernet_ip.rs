//! EtherNet/IP (CIP over TCP/UDP): every message has a 24-byte encapsulation header — a
//! 16-bit little-endian command (NOP, ListServices, ListIdentity, ListInterfaces,
//! RegisterSession, UnRegisterSession, SendRRData, SendUnitData, IndicateStatus, Cancel),
//! the 16-bit length of the data after the header, a session handle, a status, an 8-byte
//! sender context and 32-bit options (zero). NOP (command 0) is not taken as evidence: a
//! run of zero bytes would pass for one.

use super::wire::le32;
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static DISSECTOR: Dissector = Dissector {
    proto: id::ETHERNET_IP,
    transports: Transports::TCP_UDP,
    tcp_ports: &[44818],
    udp_ports: &[44818],
    inspect,
};

const HEADER: usize = 24;

fn le16(d: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(d.get(at..at + 2)?.try_into().ok()?))
}

/// Whether `d` starts with an encapsulation header whose data length fits the payload
/// (exactly for a datagram, at least for a stream's first segment).
pub fn is_encapsulation(d: &[u8], udp: bool) -> bool {
    let (Some(cmd), Some(len)) = (le16(d, 0), le16(d, 2)) else {
        return false;
    };
    if !matches!(
        cmd,
        0x0004 | 0x0063..=0x0066 | 0x006f | 0x0070 | 0x0072 | 0x0073
    ) {
        return false;
    }
    if le32(d, 20) != Some(0) {
        return false;
    }
    let end = HEADER + usize::from(len);
    if udp {
        end == d.len()
    } else {
        end <= d.len()
    }
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if is_encapsulation(ins.data, ins.flow.l4 == 17) {
        ins.detect(id::ETHERNET_IP);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    fn msg(cmd: u16, data: usize) -> Vec<u8> {
        let mut m = cmd.to_le_bytes().to_vec();
        m.extend_from_slice(&(data as u16).to_le_bytes());
        m.extend_from_slice(&[0, 1, 2, 0x10, 0, 0, 0, 0, 0x1a, 0x39, 0x2f, 0, 0, 0, 0, 0]);
        m.extend_from_slice(&[0, 0, 0, 0]);
        m.resize(HEADER + data, 0xb1);
        m
    }

    #[test]
    fn send_unit_data() {
        let mut c = Conv::tcp(&DISSECTOR, 50275, 44818);
        c.client(&msg(0x70, 58));
        assert_eq!(c.name(), "EthernetIP");
        assert!(is_encapsulation(&msg(0x65, 4), true));
    }

    #[test]
    fn rejects() {
        assert!(!is_encapsulation(&msg(0x71, 58), false));
        assert!(!is_encapsulation(&msg(0, 8), true));
        let m = msg(0x70, 58);
        assert!(!is_encapsulation(&m[..70], false));
        let mut o = msg(0x70, 8);
        o[20] = 1;
        assert!(!is_encapsulation(&o, true));
    }
}
