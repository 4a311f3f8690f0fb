//! RADIUS (RFC 2865/2866, 5176): a known code, identifier, a length equal to the datagram
//! (20 to 4096), the authenticator, and attributes (type, length ≥ 2) that fill the rest.
//! A packet damaged further on is still taken when its first three attributes are sound.

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

/// Attributes that must parse before damage further on is forgiven.
const MIN_SOUND_ATTRIBUTES: usize = 3;

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
    let mut sound = 0;
    while at < len {
        let (Some(t), Some(l)) = (u8_at(d, at), u8_at(d, at + 1).map(usize::from)) else {
            break;
        };
        let Some(v) = d.get(at + 2..at + l.max(2)).filter(|_| l >= 2 && t != 0) else {
            break;
        };
        sound += 1;
        if t == 1 {
            user = Some(super::wire::text(v));
        }
        at += l;
    }
    (at == len || sound >= MIN_SOUND_ATTRIBUTES).then_some((code, user))
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
        let mut damaged = d.clone();
        damaged[21] = 1; // first attribute length below 2: nothing sound
        assert_eq!(parse(&damaged), None);
        // Three sound attributes, then a damaged one: taken.
        let mut long = d.clone();
        long.extend_from_slice(&[5, 6, 0, 0, 0, 1, 0x1a, 0xff, 0]);
        let len = long.len() as u16;
        long[2..4].copy_from_slice(&len.to_be_bytes());
        assert_eq!(parse(&long), Some((1, Some("alice".to_string()))));
        let mut bad = d.clone();
        bad[0] = 9;
        assert_eq!(parse(&bad), None);
        assert_eq!(parse(&d[..d.len() - 1]), None);
    }
}
