//! Cisco Hot Standby Router Protocol. Version 0/1: a fixed 20-byte message (version 0,
//! op code hello/coup/resign, a state among init/learn/listen/speak/standby/active, timers,
//! priority, group, an 8-byte authentication string and the virtual IPv4 address).
//! Version 2: a list of TLVs (type 1-4, one-byte length) filling the datagram, starting with
//! a group-state (version 2) or interface-state TLV.

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static DISSECTOR: Dissector = Dissector {
    proto: id::HSRP,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[1985, 2029],
    inspect,
};

/// Whether the datagram is an HSRP message.
pub fn is_hsrp(d: &[u8]) -> bool {
    match d.first() {
        Some(0) => {
            // Hello time non-zero and below the hold time; reserved byte zero.
            let timers = matches!((d.get(3), d.get(4)), (Some(&h), Some(&t)) if h > 0 && t > h);
            d.len() == 20
                && timers
                && d.get(7) == Some(&0)
                && matches!(d.get(1), Some(0..=2))
                && matches!(d.get(2), Some(0 | 1 | 2 | 4 | 8 | 16))
        }
        Some(1) => d.get(2) == Some(&2) && tlvs_fit(d),
        Some(2) => d.get(1) == Some(&4) && tlvs_fit(d),
        _ => false,
    }
}

fn tlvs_fit(d: &[u8]) -> bool {
    let mut at = 0;
    while at < d.len() {
        let (Some(t), Some(&len)) = (d.get(at), d.get(at + 1)) else {
            return false;
        };
        if !matches!(t, 1..=4) {
            return false;
        }
        at += 2 + usize::from(len);
    }
    at == d.len()
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if is_hsrp(ins.data) {
        ins.detect(id::HSRP);
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
    fn v0_hello() {
        let p = b"\x00\x00\x10\x03\x0a\x5a\x0a\x00cisco\x00\x00\x00\x0a\x1c\xa8\xfe";
        let mut c = Conv::udp(&DISSECTOR, 1985, 1985);
        c.client(p);
        assert_eq!(c.name(), "HSRP");
        assert!(!is_hsrp(&p[..19]));
        let mut bad = p.to_vec();
        bad[2] = 3; // no such state
        assert!(!is_hsrp(&bad));
        assert!(!is_hsrp(&[0; 20]));
    }

    #[test]
    fn v2_tlvs() {
        let mut p = vec![1, 40, 2, 0];
        p.resize(42, 0);
        p.extend_from_slice(&[3, 8]);
        p.extend_from_slice(b"cisco\0\0\0");
        assert!(is_hsrp(&p));
        assert!(is_hsrp(&[2, 4, 0, 0, 0, 1]));
        p.push(0);
        assert!(!is_hsrp(&p));
        assert!(!is_hsrp(&[2, 4, 0, 0, 0]));
    }
}
