//! DHCPv6 (RFC 8415): a message type and a 3-byte transaction id, or a relay header with
//! hop count and two addresses, followed by options that must fill the datagram exactly.

use super::wire::{be16, u8_at};
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};
use crate::attrs;
use crate::record::MetaValue;

attrs! {
    pub MESSAGE_TYPE = "dhcpv6.message_type", Int, Usage, "Message type of the first message (1 = SOLICIT, 3 = REQUEST, 7 = REPLY, …)";
    pub FQDN = "dhcpv6.fqdn", Str, Identifier, "Client FQDN (option 39)";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[&MESSAGE_TYPE, &FQDN];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::DHCPV6,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[546, 547],
    inspect,
};

/// A message's options as (code, value) pairs.
pub type Options<'a> = Vec<(u16, &'a [u8])>;

/// Options of a message, if they fill `d` from `at` exactly.
fn options(d: &[u8], mut at: usize) -> Option<Options<'_>> {
    let mut out = Vec::new();
    while at < d.len() {
        let code = be16(d, at)?;
        let len = usize::from(be16(d, at + 2)?);
        let value = d.get(at + 4..at + 4 + len)?;
        // Assigned option codes are small.
        if code == 0 || code > 200 {
            return None;
        }
        out.push((code, value));
        at += 4 + len;
    }
    Some(out)
}

/// The message type and options of a DHCPv6 message.
pub fn parse(d: &[u8]) -> Option<(u8, Options<'_>)> {
    let kind = u8_at(d, 0)?;
    let start = match kind {
        1..=11 | 14..=36 => 4,
        // Relay-forward and relay-reply: hop count, link address, peer address.
        12 | 13 => 34,
        _ => return None,
    };
    let opts = options(d, start)?;
    (!opts.is_empty()).then_some((kind, opts))
}

/// A DNS wire-format name (option 39 after its flags byte).
fn fqdn(v: &[u8]) -> String {
    let mut out = String::new();
    let mut at = 1;
    while let Some(len) = u8_at(v, at).map(usize::from) {
        if len == 0 {
            break;
        }
        let Some(label) = v.get(at + 1..at + 1 + len) else {
            break;
        };
        if !out.is_empty() {
            out.push('.');
        }
        out.push_str(&super::wire::text(label));
        at += 1 + len;
    }
    out
}

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    let Some((kind, opts)) = parse(ins.data) else {
        return Verdict::Exclude;
    };
    ins.detect(id::DHCPV6);
    st.set(&MESSAGE_TYPE, MetaValue::Int(i64::from(kind)));
    if let Some((_, v)) = opts.iter().find(|(c, _)| *c == 39) {
        let name = fqdn(v);
        if !name.is_empty() {
            st.set_str(&FQDN, name);
        }
    }
    Verdict::Done
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::*;

    #[test]
    fn solicit_options_fill_the_message() {
        // SOLICIT, xid, elapsed time (8), client id (1, 10 bytes), FQDN (39).
        let mut d = vec![1u8, 0xaa, 0xbb, 0xcc, 0, 8, 0, 2, 0, 0, 0, 1, 0, 10];
        d.extend_from_slice(&[0, 3, 0, 1, 1, 2, 3, 4, 5, 6]);
        d.extend_from_slice(&[0, 39, 0, 6, 0, 4, b'h', b'o', b's', b't']);
        let (kind, opts) = parse(&d).expect("dhcpv6");
        assert_eq!(kind, 1);
        assert_eq!(opts.len(), 3);
        assert_eq!(fqdn(opts[2].1), "host");
        d.push(0);
        assert!(parse(&d).is_none());
        assert!(parse(&[1, 2, 3, 4]).is_none());
    }
}
