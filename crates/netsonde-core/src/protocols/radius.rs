//! RADIUS (RFC 2865/2866, 5176): a known code, identifier, a length equal to the datagram
//! (20 to 4096), the authenticator, and attributes (type, length ≥ 2) that fill the rest.
//! A packet damaged further on is still taken when its first three attributes are sound,
//! or, on the RADIUS ports, when its header alone is (nDPI reports such packets too).

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

/// The code of a RADIUS header: a known code and a length equal to the datagram.
pub fn header(d: &[u8]) -> Option<u8> {
    let code = u8_at(d, 0)?;
    let len = usize::from(be16(d, 2)?);
    (known_code(code) && len == d.len() && (20..=4096).contains(&len)).then_some(code)
}

/// The code and User-Name of a RADIUS packet that fills `d`.
pub fn parse(d: &[u8]) -> Option<(u8, Option<String>)> {
    let code = header(d)?;
    let len = d.len();
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
    let on_port = [ins.flow.client_port, ins.flow.server_port]
        .iter()
        .any(|p| DISSECTOR.udp_ports.contains(p));
    let parsed = parse(ins.data).or_else(|| {
        // Damaged attributes under a sound header, on a RADIUS port.
        on_port
            .then(|| header(ins.data))
            .flatten()
            .map(|c| (c, None))
    });
    let Some((code, user)) = parsed else {
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

    #[test]
    fn damaged_attributes_on_the_radius_port() {
        use super::super::harness::Conv;
        let mut d = vec![1u8, 0x32, 0, 0];
        d.extend_from_slice(&[0x11; 16]);
        d.extend_from_slice(&[0x1a, 0x0a, 0, 0, 0x57, 0xc8, 0x0e, 0x04, 0x55, 0x53]);
        d.extend_from_slice(&[0, 0x0f, 0, 0, 0x57, 0xc8]);
        let len = d.len() as u16;
        d[2..4].copy_from_slice(&len.to_be_bytes());
        assert_eq!(parse(&d), None);
        assert_eq!(header(&d), Some(1));
        let mut c = Conv::udp(&DISSECTOR, 29200, 1812);
        c.client(&d);
        assert_eq!(c.name(), "Radius");
        let mut c = Conv::udp(&DISSECTOR, 29200, 40000);
        c.client(&d);
        assert_eq!(c.name(), "Unknown");
        // A length that does not match is refused even on the port.
        let mut c = Conv::udp(&DISSECTOR, 29200, 1812);
        c.client(&d[..d.len() - 1]);
        assert_eq!(c.name(), "Unknown");
    }
}
