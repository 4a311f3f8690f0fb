//! DHCP (RFC 2131/2132): a BOOTP header (op, hardware type and length) followed by the
//! magic cookie 99.130.83.99 and options. Keeps the message type, the client's host name
//! (option 12), vendor class (option 60) and its parameter request list (option 55) as a
//! fingerprint, written as nDPI and fingerbank write it: decimal codes joined by commas.

use super::wire::{be32, u8_at};
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};
use crate::attrs;
use crate::record::MetaValue;

attrs! {
    pub MESSAGE_TYPE = "dhcp.message_type", Int, Usage, "Option 53 of the first message (1 = DISCOVER, 3 = REQUEST, 5 = ACK, …)";
    pub HOSTNAME = "dhcp.hostname", Str, Identifier, "Host name the client sent (option 12)";
    pub VENDOR_CLASS = "dhcp.vendor_class", Str, Identifier, "Vendor class identifier (option 60)";
    pub FINGERPRINT = "dhcp.fingerprint", Str, Identifier, "Parameter request list (option 55) as comma-separated codes";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] =
    &[&MESSAGE_TYPE, &HOSTNAME, &VENDOR_CLASS, &FINGERPRINT];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::DHCP,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[67, 68],
    inspect,
};

const MAGIC_COOKIE: u32 = 0x6382_5363;
const OPTIONS_AT: usize = 240;

/// What a DHCP message says about its client.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Message {
    pub op: u8,
    pub message_type: Option<u8>,
    pub hostname: Option<String>,
    pub vendor_class: Option<String>,
    pub fingerprint: Option<String>,
}

/// Parses a DHCP message (BOOTP without the cookie is refused).
pub fn parse(d: &[u8]) -> Option<Message> {
    let op = u8_at(d, 0)?;
    let htype = u8_at(d, 1)?;
    let hlen = u8_at(d, 2)?;
    if !matches!(op, 1 | 2) || htype == 0 || hlen > 16 || be32(d, 236)? != MAGIC_COOKIE {
        return None;
    }
    let mut m = Message {
        op,
        ..Message::default()
    };
    let mut at = OPTIONS_AT;
    while let Some(code) = u8_at(d, at) {
        match code {
            0 => {
                at += 1;
                continue;
            }
            255 => break,
            _ => {}
        }
        let Some(len) = u8_at(d, at + 1).map(usize::from) else {
            break;
        };
        let Some(value) = d.get(at + 2..at + 2 + len) else {
            break;
        };
        match code {
            53 => m.message_type = value.first().copied(),
            12 => m.hostname = Some(super::wire::text(value)),
            60 => m.vendor_class = Some(super::wire::text(value)),
            55 => {
                let codes: Vec<String> = value.iter().map(|c| c.to_string()).collect();
                m.fingerprint = Some(codes.join(","));
            }
            _ => {}
        }
        at += 2 + len;
    }
    Some(m)
}

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    let Some(m) = parse(ins.data) else {
        return Verdict::Exclude;
    };
    ins.detect(id::DHCP);
    if let Some(t) = m.message_type {
        st.set(&MESSAGE_TYPE, MetaValue::Int(i64::from(t)));
    }
    // Host name, vendor class and fingerprint describe the client: take them from its
    // requests only.
    if m.op == 1 {
        if let Some(h) = m.hostname.filter(|h| !h.is_empty()) {
            st.set_str(&HOSTNAME, h);
        }
        if let Some(v) = m.vendor_class.filter(|v| !v.is_empty()) {
            st.set_str(&VENDOR_CLASS, v);
        }
        if let Some(f) = m.fingerprint.filter(|f| !f.is_empty()) {
            st.set_str(&FINGERPRINT, f);
        }
    }
    if st.meta.has(&FINGERPRINT) || ins.packet_no >= 4 {
        Verdict::Done
    } else {
        Verdict::Continue
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::*;

    fn request(options: &[u8]) -> Vec<u8> {
        let mut d = vec![0u8; 236];
        d[0] = 1;
        d[1] = 1;
        d[2] = 6;
        d.extend_from_slice(&MAGIC_COOKIE.to_be_bytes());
        d.extend_from_slice(options);
        d
    }

    #[test]
    fn client_options() {
        let mut o = vec![53, 1, 3, 12, 9];
        o.extend_from_slice(b"joanna-PC");
        o.extend_from_slice(&[60, 8]);
        o.extend_from_slice(b"MSFT 5.0");
        o.extend_from_slice(&[55, 4, 1, 15, 3, 6, 0, 255]);
        let m = parse(&request(&o)).expect("dhcp");
        assert_eq!(m.message_type, Some(3));
        assert_eq!(m.hostname.as_deref(), Some("joanna-PC"));
        assert_eq!(m.vendor_class.as_deref(), Some("MSFT 5.0"));
        assert_eq!(m.fingerprint.as_deref(), Some("1,15,3,6"));
        // A truncated option ends the walk without failing the message.
        let m = parse(&request(&[53, 1, 1, 12, 40, b'x'])).expect("dhcp");
        assert_eq!((m.message_type, m.hostname), (Some(1), None));
        // No cookie, no DHCP.
        let mut bad = request(&o);
        bad[236] = 0;
        assert!(parse(&bad).is_none());
        assert!(parse(&bad[..100]).is_none());
    }
}
