//! LDAP (RFC 4511) over TCP and connectionless LDAP over UDP: a BER `LDAPMessage`
//! SEQUENCE whose length fills the message, a positive message id, and a protocol
//! operation with its application tag; bind requests must carry version 1 to 3 and a
//! simple or SASL credential. Extracts the operation, the bind DN and the search base; a
//! simple bind with a password raises the clear-text credentials risk.

use super::ber::{self, Tlv};
use super::lines::text;
use super::mail::CLEAR_TEXT_CREDENTIALS;
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};
use crate::attrs;

attrs! {
    pub OPERATION = "ldap.operation", Str, Usage, "Operation of the first message (bind_request, search_request, …)";
    pub BIND_DN = "ldap.bind_dn", Str, Identifier, "Name in the first bind request";
    pub BASE_DN = "ldap.base_dn", Str, Usage, "Base object of the first search request";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[&OPERATION, &BIND_DN, &BASE_DN];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::LDAP,
    transports: Transports::TCP_UDP,
    tcp_ports: &[389, 3268],
    udp_ports: &[389],
    inspect,
};

/// Largest message waited for over TCP.
const MAX_MESSAGE: usize = 256 * 1024;
const MAX_DN: usize = 256;
/// Messages read per flow.
const MAX_MESSAGES: usize = 8;

fn operation(tag: u8) -> Option<&'static str> {
    Some(match tag {
        0x60 => "bind_request",
        0x61 => "bind_response",
        0x42 => "unbind_request",
        0x63 => "search_request",
        0x64 => "search_result_entry",
        0x65 => "search_result_done",
        0x73 => "search_result_reference",
        0x66 => "modify_request",
        0x67 => "modify_response",
        0x68 => "add_request",
        0x69 => "add_response",
        0x4a => "del_request",
        0x6b => "del_response",
        0x6c => "modify_dn_request",
        0x6d => "modify_dn_response",
        0x6e => "compare_request",
        0x6f => "compare_response",
        0x50 => "abandon_request",
        0x77 => "extended_request",
        0x78 => "extended_response",
        0x79 => "intermediate_response",
        _ => return None,
    })
}

/// One message's operation and its content.
pub fn message(d: &[u8]) -> Option<(u8, &[u8])> {
    let (seq, _) = ber::read(d)?;
    if seq.tag != 0x30 {
        return None;
    }
    let (msg_id, rest) = ber::read(seq.content)?;
    ber::integer(msg_id)?;
    let (op, _) = ber::read(rest)?;
    operation(op.tag)?;
    if op.tag == 0x60 && !valid_bind(op) {
        return None;
    }
    Some((op.tag, op.content))
}

/// `BindRequest ::= [APPLICATION 0] SEQUENCE { version INTEGER (1..127), name LDAPDN,
/// authentication CHOICE { simple [0], sasl [3] } }`
fn valid_bind(op: Tlv<'_>) -> bool {
    let Some((version, rest)) = ber::read(op.content) else {
        return false;
    };
    let Some((name, rest)) = ber::read(rest) else {
        return false;
    };
    let Some((auth, _)) = ber::read(rest) else {
        return false;
    };
    matches!(ber::integer(version), Some(1..=3))
        && name.tag == 0x04
        && matches!(auth.tag, 0x80 | 0xa3)
}

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    let mut d = ins.data;
    let tcp = ins.flow.l4 == 6;
    let mut consumed = 0;
    let mut seen = 0;
    while !d.is_empty() && seen < MAX_MESSAGES {
        let Some((tag, len, hl)) = ber::header(d) else {
            return if d.len() < 6 && d.first() == Some(&0x30) {
                Verdict::Continue
            } else {
                stop(st)
            };
        };
        if tag != 0x30 || len > MAX_MESSAGE {
            return stop(st);
        }
        if d.len() < hl + len {
            return if tcp { Verdict::Continue } else { stop(st) };
        }
        let whole = d.get(..hl + len).unwrap_or_default();
        let Some((op, content)) = message(whole) else {
            return stop(st);
        };
        if !st.meta.has(&OPERATION) {
            ins.detect(id::LDAP);
        }
        st.set_str(&OPERATION, operation(op).unwrap_or_default());
        read_operation(op, content, st);
        consumed += whole.len();
        d = d.get(whole.len()..).unwrap_or_default();
        seen += 1;
    }
    if tcp {
        ins.consume(consumed);
    }
    if st.meta.has(&BIND_DN) || st.meta.has(&BASE_DN) {
        Verdict::Done
    } else {
        Verdict::Continue
    }
}

/// After confirmation an unreadable message ends the inspection; before, it excludes LDAP.
fn stop(st: &DissectorState<'_>) -> Verdict {
    if st.meta.has(&OPERATION) {
        Verdict::Done
    } else {
        Verdict::Exclude
    }
}

fn read_operation(op: u8, content: &[u8], st: &mut DissectorState<'_>) {
    let Some((first, rest)) = ber::read(content) else {
        return;
    };
    match op {
        0x60 => {
            if let Some((name, rest)) = ber::read(rest) {
                st.set_str(&BIND_DN, text(name.content, MAX_DN));
                if let Some((auth, _)) = ber::read(rest) {
                    if auth.tag == 0x80 && !auth.content.is_empty() {
                        st.risk(CLEAR_TEXT_CREDENTIALS);
                    }
                }
            }
        }
        0x63 if first.tag == 0x04 => st.set_str(&BASE_DN, text(first.content, MAX_DN)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn anonymous_bind_then_search() {
        let mut c = Conv::tcp(&DISSECTOR, 57650, 1389);
        c.client(b"\x30\x0c\x02\x01\x01\x60\x07\x02\x01\x03\x04\x00\x80\x00");
        assert_eq!(c.name(), "LDAP");
        assert_eq!(c.meta(&OPERATION).as_deref(), Some("bind_request"));
        assert_eq!(c.meta(&BIND_DN).as_deref(), Some(""));
        assert!(!c.has_risk(CLEAR_TEXT_CREDENTIALS));
    }

    #[test]
    fn simple_bind_with_password_and_search() {
        let mut c = Conv::tcp(&DISSECTOR, 1, 389);
        // bind "cn=a" password "pw", split over two segments.
        let msg = b"\x30\x12\x02\x01\x01\x60\x0d\x02\x01\x03\x04\x04cn=a\x80\x02pw";
        c.client(msg.get(..5).unwrap_or_default());
        assert_eq!(c.name(), "Unknown");
        c.client(msg.get(5..).unwrap_or_default());
        assert_eq!(c.meta(&BIND_DN).as_deref(), Some("cn=a"));
        assert!(c.has_risk(CLEAR_TEXT_CREDENTIALS));
        let mut u = Conv::udp(&DISSECTOR, 1, 389);
        u.client(b"\x30\x0f\x02\x01\x02\x63\x0a\x04\x03dc=\x0a\x01\x00\x0a\x01\x00");
        assert_eq!(u.name(), "LDAP");
        assert_eq!(u.meta(&BASE_DN).as_deref(), Some("dc="));
    }

    #[test]
    fn not_ldap() {
        // Wrong bind version; a SEQUENCE with a non-LDAP operation; text.
        for d in [
            &b"\x30\x0c\x02\x01\x01\x60\x07\x02\x01\x09\x04\x00\x80\x00"[..],
            b"\x30\x05\x02\x01\x01\x04\x00",
            b"GET / HTTP/1.1\r\n",
        ] {
            let mut c = Conv::tcp(&DISSECTOR, 1, 389);
            c.client(d);
            assert!(!c.open, "{d:?}");
        }
    }
}
