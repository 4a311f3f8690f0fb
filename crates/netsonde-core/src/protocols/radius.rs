//! RADIUS (RFC 2865/2866, 5176): code, identifier, a length equal to the datagram (20 to
//! 4096), the authenticator, and attributes (type, length ≥ 2) that fill the rest exactly.

use super::wire::{be16, u8_at};
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};
use crate::attrs;
use crate::record::MetaValue;

attrs! {
    pub CODE = "radius.code", Int, Usage, "Code of the first packet (1 = Access-Request, 2 = Accept, 3 = Reject, 4 = Accounting-Request, …)";
    pub USER_NAME = "radius.user_name", Str, Identifier, "User-Name attribute";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[&CODE, &USER_NAME];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::RADIUS,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[1812, 1813, 1645, 1646, 3799],
    inspect,
};

/// Codes in use: access, accounting, challenge, status, dynamic authorisation.
fn known_code(c: u8) -> bool {
    matches!(c, 1..=5 | 11..=13 | 40..=45)
}

/// The code and User-Name of a RADIUS packet that fills `d`.
pub fn parse(d: &[u8]) -> Option<(u8, Option<String>)> {
    let code = u8_at(d, 0)?;
    let len = usize::from(be16(d, 2)?);
    if !known_code(code) || len != d.len() || !(20..=4096).contains(&len) {
        return None;
    }
    let mut user = None;
    let mut at = 20;
    while at < len {
        let t = u8_at(d, at)?;
        let l = usize::from(u8_at(d, at + 1)?);
        if l < 2 {
            return None;
        }
        let v = d.get(at + 2..at + l)?;
        if t == 1 {
            user = Some(super::wire::text(v));
        }
        at += l;
    }
    Some((code, user))
}

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    let Some((code, user)) = parse(ins.data) else {
        return Verdict::Exclude;
    };
    ins.detect(id::RADIUS);
    st.set(&CODE, MetaValue::Int(i64::from(code)));
    if let Some(u) = user.filter(|u| !u.is_empty()) {
        st.set_str(&USER_NAME, u);
    }
    Verdict::Done
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::*;

    #[test]
    fn access_request() {
        let mut d = vec![1u8, 7, 0, 0];
        d.extend_from_slice(&[0x11; 16]);
        d.extend_from_slice(&[1, 7]);
        d.extend_from_slice(b"alice");
        d.extend_from_slice(&[4, 6, 10, 0, 0, 1]);
        let len = d.len() as u16;
        d[2..4].copy_from_slice(&len.to_be_bytes());
        assert_eq!(parse(&d), Some((1, Some("alice".to_string()))));
        let mut bad = d.clone();
        bad[21] = 1; // attribute length below 2
        assert_eq!(parse(&bad), None);
        bad = d.clone();
        bad[0] = 9;
        assert_eq!(parse(&bad), None);
        assert_eq!(parse(&d[..d.len() - 1]), None);
    }
}
