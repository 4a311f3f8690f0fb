//! Kerberos v5 (RFC 4120) over UDP and TCP (4-byte record mark). Confirmed by an
//! application-tagged message (AS/TGS request and reply, AP request and reply, error) whose
//! BER length fills the message, whose inner SEQUENCE carries `pvno` 5 and a `msg-type`
//! equal to the application tag. Extracts the realm, the client and service principals
//! and the error code.

use super::ber::{self, children, context, context_integer};
use super::lines::text;
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};
use crate::attrs;
use crate::record::MetaValue;

attrs! {
    pub MSG_TYPE = "kerberos.msg_type", Str, Usage, "Type of the first message (as_req, as_rep, tgs_req, tgs_rep, ap_req, ap_rep, error)";
    pub REALM = "kerberos.realm", Str, Identifier, "Realm of the request (or the client's realm of a reply or error)";
    pub CNAME = "kerberos.cname", Str, Identifier, "Client principal name, components joined by /";
    pub SNAME = "kerberos.sname", Str, Identifier, "Service principal name, components joined by /";
    pub ERROR_CODE = "kerberos.error_code", Int, Service, "Error code of a KRB-ERROR (25 = preauthentication required, …)";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[&MSG_TYPE, &REALM, &CNAME, &SNAME, &ERROR_CODE];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::KERBEROS,
    transports: Transports::TCP_UDP,
    tcp_ports: &[88],
    udp_ports: &[88],
    inspect,
};

/// Largest TCP message waited for.
const MAX_TCP_MESSAGE: usize = 64 * 1024;
const MAX_NAME: usize = 256;

fn msg_name(app: u8) -> Option<&'static str> {
    Some(match app {
        10 => "as_req",
        11 => "as_rep",
        12 => "tgs_req",
        13 => "tgs_rep",
        14 => "ap_req",
        15 => "ap_rep",
        30 => "error",
        _ => return None,
    })
}

/// A decoded message: its type and the fields read from it.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Message {
    pub msg_type: &'static str,
    pub realm: Option<String>,
    pub cname: Option<String>,
    pub sname: Option<String>,
    pub error_code: Option<u64>,
}

fn kerberos_string(d: &[u8]) -> Option<String> {
    let (t, _) = ber::read(d)?;
    (t.tag == 0x1b).then(|| text(t.content, MAX_NAME))
}

/// `PrincipalName ::= SEQUENCE { name-type [0], name-string [1] SEQUENCE OF KerberosString }`
fn principal(d: &[u8]) -> Option<String> {
    let (seq, _) = ber::read(d)?;
    let (strings, _) = ber::read(context(seq.content, 1)?)?;
    let parts: Vec<String> = children(strings.content)
        .filter(|t| t.tag == 0x1b)
        .map(|t| text(t.content, MAX_NAME))
        .collect();
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// Decodes one whole message.
pub fn parse(d: &[u8]) -> Option<Message> {
    let (outer, rest) = ber::read(d)?;
    // [APPLICATION n] constructed, and nothing after it.
    if outer.tag & 0xe0 != 0x60 || !rest.is_empty() {
        return None;
    }
    let app = outer.tag & 0x1f;
    let msg_type = msg_name(app)?;
    let (seq, _) = ber::read(outer.content)?;
    if seq.tag != 0x30 {
        return None;
    }
    let s = seq.content;
    // Requests number their fields from 1, the others from 0.
    let (pvno_at, type_at) = if matches!(app, 10 | 12) {
        (1, 2)
    } else {
        (0, 1)
    };
    if context_integer(s, pvno_at)? != 5 || context_integer(s, type_at)? != u64::from(app) {
        return None;
    }
    let mut m = Message {
        msg_type,
        ..Message::default()
    };
    match app {
        10 | 12 => {
            if let Some((body, _)) = context(s, 4).and_then(ber::read) {
                m.cname = context(body.content, 1).and_then(principal);
                m.realm = context(body.content, 2).and_then(kerberos_string);
                m.sname = context(body.content, 3).and_then(principal);
            }
        }
        11 | 13 => {
            m.realm = context(s, 3).and_then(kerberos_string);
            m.cname = context(s, 4).and_then(principal);
        }
        30 => {
            m.error_code = context_integer(s, 6);
            m.realm = context(s, 7)
                .and_then(kerberos_string)
                .or_else(|| context(s, 9).and_then(kerberos_string));
            m.cname = context(s, 8).and_then(principal);
            m.sname = context(s, 10).and_then(principal);
        }
        _ => {}
    }
    Some(m)
}

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    let d = ins.data;
    let msg = if ins.flow.l4 == 6 {
        let Some(mark) = d.get(..4) else {
            return Verdict::Continue;
        };
        let len = usize::try_from(u32::from_be_bytes(mark.try_into().unwrap_or_default()))
            .unwrap_or(usize::MAX);
        match d.get(4..4 + len.min(MAX_TCP_MESSAGE)) {
            Some(m) if len <= MAX_TCP_MESSAGE => m,
            // Wait for the rest while what arrived starts like a Kerberos message.
            None if len <= MAX_TCP_MESSAGE
                && d.get(4)
                    .is_some_and(|&t| t & 0xe0 == 0x60 && msg_name(t & 0x1f).is_some()) =>
            {
                return Verdict::Continue
            }
            _ => return Verdict::Exclude,
        }
    } else {
        d
    };
    let Some(m) = parse(msg) else {
        return Verdict::Exclude;
    };
    ins.detect(id::KERBEROS);
    if ins.flow.l4 == 6 {
        ins.consume(4 + msg.len());
    }
    st.set_str(&MSG_TYPE, m.msg_type);
    if let Some(r) = m.realm {
        st.set_str(&REALM, r);
    }
    if let Some(c) = m.cname {
        st.set_str(&CNAME, c);
    }
    if let Some(s) = m.sname {
        st.set_str(&SNAME, s);
    }
    if let Some(e) = m.error_code {
        st.set(
            &ERROR_CODE,
            MetaValue::Int(i64::try_from(e).unwrap_or(i64::MAX)),
        );
    }
    // A reply may still name what the request left out.
    if st.meta.has(&REALM) && st.meta.has(&CNAME) && st.meta.has(&SNAME) {
        Verdict::Done
    } else {
        Verdict::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    /// Wraps `content` in a BER element with `tag` (short or long length form).
    fn el(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut v = vec![tag];
        if content.len() < 128 {
            v.push(content.len() as u8);
        } else {
            v.push(0x82);
            v.extend_from_slice(&(content.len() as u16).to_be_bytes());
        }
        v.extend_from_slice(content);
        v
    }

    fn int(n: u8) -> Vec<u8> {
        el(0x02, &[n])
    }

    fn kstr(s: &str) -> Vec<u8> {
        el(0x1b, s.as_bytes())
    }

    fn principal(parts: &[&str]) -> Vec<u8> {
        let strings: Vec<u8> = parts.iter().flat_map(|p| kstr(p)).collect();
        let mut seq = el(0xa0, &int(1));
        seq.extend(el(0xa1, &el(0x30, &strings)));
        el(0x30, &seq)
    }

    fn as_req() -> Vec<u8> {
        let mut body = el(0xa0, &el(0x03, &[0, 0x40, 0x81, 0, 0x10]));
        body.extend(el(0xa1, &principal(&["alice"])));
        body.extend(el(0xa2, &kstr("DENYDC.COM")));
        body.extend(el(0xa3, &principal(&["krbtgt", "DENYDC.COM"])));
        let mut seq = el(0xa1, &int(5));
        seq.extend(el(0xa2, &int(10)));
        seq.extend(el(0xa4, &el(0x30, &body)));
        el(0x6a, &el(0x30, &seq))
    }

    #[test]
    fn as_request_over_udp() {
        let m = parse(&as_req()).expect("as-req");
        assert_eq!(m.msg_type, "as_req");
        let mut c = Conv::udp(&DISSECTOR, 1061, 88);
        c.client(&as_req());
        assert_eq!(c.name(), "Kerberos");
        assert_eq!(c.meta(&REALM).as_deref(), Some("DENYDC.COM"));
        assert_eq!(c.meta(&CNAME).as_deref(), Some("alice"));
        assert_eq!(c.meta(&SNAME).as_deref(), Some("krbtgt/DENYDC.COM"));
    }

    #[test]
    fn error_over_tcp_in_two_segments() {
        let mut seq = el(0xa0, &int(5));
        seq.extend(el(0xa1, &int(30)));
        seq.extend(el(0xa6, &int(25)));
        seq.extend(el(0xa9, &kstr("LINUX.SHELL.COM")));
        seq.extend(el(0xaa, &principal(&["krbtgt", "LINUX.SHELL.COM"])));
        let msg = el(0x7e, &el(0x30, &seq));
        let mut wire = (msg.len() as u32).to_be_bytes().to_vec();
        wire.extend_from_slice(&msg);
        let (a, b) = wire.split_at(10);
        let mut c = Conv::tcp(&DISSECTOR, 44256, 88);
        c.server(a);
        assert_eq!(c.name(), "Unknown");
        c.server(b);
        assert_eq!(c.name(), "Kerberos");
        assert_eq!(c.meta(&ERROR_CODE).as_deref(), Some("25"));
        assert_eq!(c.meta(&REALM).as_deref(), Some("LINUX.SHELL.COM"));
    }

    #[test]
    fn rejects() {
        let mut wrong_type = as_req();
        // msg-type 10 -> 11 inside an AS-REQ envelope.
        if let Some(p) = wrong_type.windows(3).position(|w| w == [0x02, 0x01, 10]) {
            if let Some(b) = wrong_type.get_mut(p + 2) {
                *b = 11;
            }
        }
        assert_eq!(parse(&wrong_type), None);
        let mut trailing = as_req();
        trailing.push(0);
        assert_eq!(parse(&trailing), None);
        let mut c = Conv::udp(&DISSECTOR, 1, 88);
        c.client(b"\x6a\x03\x30\x01\x00");
        assert!(!c.open);
    }
}
