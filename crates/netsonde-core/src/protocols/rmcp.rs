//! RMCP (Remote Management Control Protocol, the UDP carrier of ASF and IPMI-over-LAN): a
//! 4-byte header — version 0x06, a reserved zero byte, a sequence number and a class (6 ASF,
//! 7 IPMI, high bit for an acknowledgement). ASF messages carry the IANA enterprise number
//! 4542 and a data length; IPMI v1.5 sessions an authentication type, a sequence number, a
//! session id, a 16-byte code when authenticated, and a message length; IPMI v2.0 (RMCP+)
//! a payload type, session id, sequence number and a 16-bit length.

use super::wire::be32;
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static DISSECTOR: Dissector = Dissector {
    proto: id::RMCP,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[623],
    inspect,
};

const ASF_IANA: u32 = 4542;

/// Whether the datagram is an RMCP message whose body lengths add up.
pub fn is_rmcp(d: &[u8]) -> bool {
    if d.get(..2) != Some(&[0x06, 0x00][..]) {
        return false;
    }
    let len_is = |at: usize, n: usize| at + n == d.len();
    match d.get(3) {
        // ASF: IANA number, type, tag, reserved, data length.
        Some(0x06) => {
            be32(d, 4) == Some(ASF_IANA) && d.get(11).is_some_and(|&n| len_is(12, n.into()))
        }
        Some(0x07) => match d.get(4) {
            Some(0x00) => d.get(13).is_some_and(|&n| len_is(14, n.into())),
            Some(0x01 | 0x02 | 0x04 | 0x05) => d.get(29).is_some_and(|&n| len_is(30, n.into())),
            Some(0x06) => {
                let n = d
                    .get(14..16)
                    .and_then(|b| <[u8; 2]>::try_from(b).ok())
                    .map(|b| usize::from(u16::from_le_bytes(b)));
                n.is_some_and(|n| d.len() >= 16 + n)
            }
            _ => false,
        },
        // Acknowledgement of an ASF/IPMI message: the bare header.
        Some(0x86 | 0x87) => d.len() == 4,
        _ => false,
    }
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if is_rmcp(ins.data) {
        ins.detect(id::RMCP);
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
    fn asf_ping_and_ipmi() {
        let ping = b"\x06\x00\xff\x06\x00\x00\x11\xbe\x80\x00\x00\x00";
        let mut c = Conv::udp(&DISSECTOR, 59937, 623);
        c.client(ping);
        assert_eq!(c.name(), "RMCP");
        let ipmi = b"\x06\x00\xff\x07\x00\x00\x00\x00\x00\x00\x00\x00\x00\x09\x20\x18\xc8\x81\x00\x38\x8e\x04\xb5";
        assert!(is_rmcp(ipmi));
        assert!(!is_rmcp(&ipmi[..22]));
        assert!(!is_rmcp(
            b"\x06\x00\xff\x06\x00\x00\x11\xbf\x80\x00\x00\x00"
        ));
        assert!(!is_rmcp(
            b"\x07\x00\xff\x06\x00\x00\x11\xbe\x80\x00\x00\x00"
        ));
    }
}
