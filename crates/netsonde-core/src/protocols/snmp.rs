//! SNMP v1, v2c and v3 (RFC 1157, 1905, 3412): a BER SEQUENCE covering the whole datagram,
//! an INTEGER version (0, 1 or 3), then a community string and a PDU (tags 0xA0-0xA8) for
//! v1/v2c, or the v3 global header SEQUENCE.

use super::wire::u8_at;
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};
use crate::attrs;
use crate::record::MetaValue;

attrs! {
    pub VERSION = "snmp.version", Int, Service, "Version field: 0 = v1, 1 = v2c, 3 = v3";
    pub PDU_TYPE = "snmp.pdu_type", Int, Usage, "PDU of the first v1/v2c message (0 = get, 1 = get-next, 2 = response, 3 = set, 4 = trap, 5 = bulk, 6 = inform, 7 = trap v2, 8 = report)";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[&VERSION, &PDU_TYPE];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::SNMP,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[161, 162],
    inspect,
};

/// A BER tag and length at `at`: returns (tag, content offset, content length).
fn tlv(d: &[u8], at: usize) -> Option<(u8, usize, usize)> {
    let tag = u8_at(d, at)?;
    let first = u8_at(d, at + 1)?;
    if first < 0x80 {
        return Some((tag, at + 2, usize::from(first)));
    }
    let n = usize::from(first & 0x7F);
    if n == 0 || n > 3 {
        return None;
    }
    let mut len = 0usize;
    for i in 0..n {
        len = (len << 8) | usize::from(u8_at(d, at + 2 + i)?);
    }
    Some((tag, at + 2 + n, len))
}

/// The version and (v1/v2c) PDU type of an SNMP message that fills `d`.
pub fn parse(d: &[u8]) -> Option<(u8, Option<u8>)> {
    let (tag, body, len) = tlv(d, 0)?;
    if tag != 0x30 || body + len != d.len() {
        return None;
    }
    let (tag, vat, vlen) = tlv(d, body)?;
    if tag != 0x02 || vlen != 1 {
        return None;
    }
    let version = u8_at(d, vat)?;
    let next = vat + 1;
    match version {
        0 | 1 => {
            let (tag, cat, clen) = tlv(d, next)?;
            if tag != 0x04 {
                return None;
            }
            let (pdu, pat, plen) = tlv(d, cat + clen)?;
            if !(0xA0..=0xA8).contains(&pdu) || pat + plen != d.len() {
                return None;
            }
            Some((version, Some(pdu - 0xA0)))
        }
        3 => {
            let (tag, _, _) = tlv(d, next)?;
            (tag == 0x30).then_some((version, None))
        }
        _ => None,
    }
}

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    let Some((version, pdu)) = parse(ins.data) else {
        return Verdict::Exclude;
    };
    ins.detect(id::SNMP);
    st.set(&VERSION, MetaValue::Int(i64::from(version)));
    if let Some(p) = pdu {
        st.set(&PDU_TYPE, MetaValue::Int(i64::from(p)));
    }
    Verdict::Done
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::*;

    #[test]
    fn v2c_get_request() {
        // version 1, community "public", GetRequest with an empty body.
        let mut d = vec![0x30, 0, 0x02, 0x01, 0x01, 0x04, 0x06];
        d.extend_from_slice(b"public");
        d.extend_from_slice(&[0xA0, 0x02, 0x30, 0x00]);
        d[1] = (d.len() - 2) as u8;
        assert_eq!(parse(&d), Some((1, Some(0))));
        let mut bad = d.clone();
        bad[4] = 2;
        assert_eq!(parse(&bad), None);
        bad = d.clone();
        bad.push(0);
        assert_eq!(parse(&bad), None);
        for n in 0..d.len() {
            assert_eq!(parse(&d[..n]), None);
        }
    }

    #[test]
    fn v3_header() {
        let d = [0x30, 0x07, 0x02, 0x01, 0x03, 0x30, 0x02, 0x02, 0x00];
        assert_eq!(parse(&d), Some((3, None)));
    }
}
