//! NetFlow export (UDP 2055/2057/9995/9996): version 5 (a 24-byte header and 48-byte
//! records, the count in the header), version 9 (a 20-byte header, then flowsets: id 0
//! templates, 1 options, 256 and up data, each with its length) and IPFIX, version 10 (a
//! 16-byte header with the message length, then sets: 2, 3, 256 and up). Confirmed by the
//! version and lengths that agree with the datagram.

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::NETFLOW,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[2055, 2057, 9995, 9996],
    inspect,
};

fn be16(d: &[u8], at: usize) -> Option<usize> {
    Some(usize::from(u16::from_be_bytes(
        d.get(at..at + 2)?.try_into().ok()?,
    )))
}

/// The first set/flowset after the header: its id is allowed and its length fits.
fn first_set(d: &[u8], at: usize, ids: &[usize]) -> bool {
    let (Some(set_id), Some(len)) = (be16(d, at), be16(d, at + 2)) else {
        return false;
    };
    (ids.contains(&set_id) || set_id >= 256) && len >= 4 && at + len <= d.len()
}

/// The export version of a NetFlow/IPFIX datagram.
pub fn version(d: &[u8]) -> Option<u16> {
    let v = be16(d, 0)?;
    let ok = match v {
        5 => {
            let count = be16(d, 2)?;
            (1..=30).contains(&count) && d.len() == 24 + 48 * count
        }
        9 => be16(d, 2)? >= 1 && first_set(d, 20, &[0, 1]),
        10 => be16(d, 2)? == d.len() && first_set(d, 16, &[2, 3]),
        _ => false,
    };
    ok.then(|| u16::try_from(v).unwrap_or(0))
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if version(ins.data).is_some() {
        ins.detect(id::NETFLOW);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn v9_and_ipfix() {
        let mut v9 =
            b"\x00\x09\x00\x01\x24\x4e\x08\xee\x5d\x67\xa8\x0c\x16\x6f\xa6\x88\x00\x00\x00\x01"
                .to_vec();
        v9.extend_from_slice(b"\x00\x00\x00\x0c\x01\x00\x00\x01\x00\x08\x00\x04");
        assert_eq!(version(&v9), Some(9));
        let mut c = Conv::udp(&DISSECTOR, 48629, 2057);
        c.client(&v9);
        assert_eq!(c.name(), "NetFlow");
        let mut ipfix =
            b"\x00\x0a\x00\x18\x59\x4a\xc5\x9d\x02\x59\x65\xc4\x00\x04\x01\x00".to_vec();
        ipfix.extend_from_slice(b"\x00\x02\x00\x08\x01\x00\x00\x01");
        assert_eq!(version(&ipfix), Some(10));
        ipfix.push(0);
        assert_eq!(version(&ipfix), None);
        assert_eq!(version(b"\x00\x05\x00\x01"), None);
    }
}
