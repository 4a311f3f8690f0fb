//! Syslog (RFC 3164 and 5424): a message that opens with `<PRI>`, PRI a facility and
//! severity number up to 191 with no leading zero, followed by a timestamp, a version or
//! printable text. Over TCP messages may be octet-counted (RFC 6587: `LEN <PRI>…`).

use super::wire::u8_at;
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};
use crate::attrs;
use crate::record::MetaValue;

attrs! {
    pub FACILITY = "syslog.facility", Int, Usage, "Facility of the first message (PRI / 8)";
    pub SEVERITY = "syslog.severity", Int, Usage, "Severity of the first message (PRI % 8)";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[&FACILITY, &SEVERITY];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::SYSLOG,
    transports: Transports::TCP_UDP,
    tcp_ports: &[514, 601, 6514],
    udp_ports: &[514],
    inspect,
};

/// The PRI value of a message starting with `<PRI>` and printable text.
pub fn priority(d: &[u8]) -> Option<u8> {
    if u8_at(d, 0)? != b'<' {
        return None;
    }
    let close = d.iter().take(5).position(|&b| b == b'>')?;
    let digits = d.get(1..close)?;
    if digits.is_empty() || (digits.len() > 1 && digits.first() == Some(&b'0')) {
        return None;
    }
    let mut pri: u16 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        pri = pri * 10 + u16::from(b - b'0');
    }
    if pri > 191 {
        return None;
    }
    // What follows is text: a version digit, a month name, a host name…
    let rest = d.get(close + 1..)?;
    let sample = rest.get(..rest.len().min(16))?;
    if sample.is_empty()
        || !sample
            .iter()
            .all(|&b| b.is_ascii_graphic() || b == b' ' || b >= 0x80)
    {
        return None;
    }
    u8::try_from(pri).ok()
}

/// Skips an RFC 6587 octet count (`123 `) when one is there.
fn after_octet_count(d: &[u8]) -> &[u8] {
    let digits = d.iter().take(6).take_while(|b| b.is_ascii_digit()).count();
    if digits > 0 && d.get(digits) == Some(&b' ') {
        return d.get(digits + 1..).unwrap_or_default();
    }
    d
}

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    let msg = if ins.flow.l4 == 6 {
        after_octet_count(ins.data)
    } else {
        ins.data
    };
    let Some(pri) = priority(msg) else {
        if ins.flow.l4 == 6 && ins.data.len() < 6 {
            return Verdict::Continue;
        }
        return Verdict::Exclude;
    };
    ins.detect(id::SYSLOG);
    st.set(&FACILITY, MetaValue::Int(i64::from(pri / 8)));
    st.set(&SEVERITY, MetaValue::Int(i64::from(pri % 8)));
    Verdict::Done
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::*;

    #[test]
    fn priorities() {
        assert_eq!(
            priority(b"<34>Oct 11 22:14:15 mymachine su: failed"),
            Some(34)
        );
        assert_eq!(
            priority(b"<165>1 2003-10-11T22:14:15.003Z host app - - msg"),
            Some(165)
        );
        assert_eq!(priority(b"<0>x"), Some(0));
        assert_eq!(priority(b"<192>x"), None);
        assert_eq!(priority(b"<034>x"), None);
        assert_eq!(priority(b"<3a>x"), None);
        assert_eq!(priority(b"<34>"), None);
        assert_eq!(priority(b"<34>\x00\x01"), None);
        assert_eq!(after_octet_count(b"59 <34>x"), b"<34>x");
    }
}
