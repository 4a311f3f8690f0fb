//! collectd's binary network protocol (UDP 25826): a datagram is a sequence of parts, each
//! a type and a length (big-endian 16-bit, the 4-byte part header included) — host, time,
//! plugin, type, values, interval, … Confirmed by three consecutive well-formed parts of
//! known plain-text types; signed or encrypted datagrams (parts 0x0200/0x0210) are not
//! confirmed, as their content cannot be checked.

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};
use crate::attrs;

attrs! {
    pub HOSTNAME = "collectd.hostname", Str, Identifier, "Host name the reporting agent gives (host part)";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[&HOSTNAME];

/// The host part's type.
const PART_HOST: u16 = 0x0000;

pub static DISSECTOR: Dissector = Dissector {
    proto: id::COLLECTD,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[25826],
    inspect,
};

/// Parts needed to confirm.
const NEEDED: usize = 3;

/// Plain-text part types: host, time, plugin, plugin instance, type, type instance,
/// values, interval, high-resolution time and interval, message, severity.
fn known_type(t: u16) -> bool {
    matches!(t, 0x0000..=0x0009 | 0x0100 | 0x0101)
}

/// How many well-formed known parts open the datagram (stopping at `NEEDED`).
pub fn leading_parts(d: &[u8]) -> usize {
    let mut at = 0;
    let mut n = 0;
    while n < NEEDED {
        let (Some(t), Some(len)) = (be16(d, at), be16(d, at + 2)) else {
            break;
        };
        let len = usize::from(len);
        if !known_type(t) || len < 5 || at + len > d.len() {
            break;
        }
        at += len;
        n += 1;
    }
    n
}

fn be16(d: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(d.get(at..at + 2)?.try_into().ok()?))
}

/// The value of the first host part (a NUL-terminated string), if the datagram opens with one.
fn host_part(d: &[u8]) -> Option<String> {
    if be16(d, 0)? != PART_HOST {
        return None;
    }
    let len = usize::from(be16(d, 2)?);
    let value = d.get(4..len)?;
    let value = value.strip_suffix(&[0]).unwrap_or(value);
    (!value.is_empty() && value.iter().all(|b| b.is_ascii_graphic()))
        .then(|| String::from_utf8_lossy(value).into_owned())
}

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    if leading_parts(ins.data) >= NEEDED {
        ins.detect(id::COLLECTD);
        if let Some(host) = host_part(ins.data) {
            st.set_str(&HOSTNAME, host);
        }
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    const HEAD: &[u8] = b"\x00\x00\x00\x15devlap.fritz.box\x00\x00\x08\x00\x0c\x18\xaa\x87\x48\x08\x81\x8d\xf4\x00\x09\x00\x0c\x00\x00\x00\x02\x80\x00\x00\x00";

    #[test]
    fn plain_parts() {
        assert_eq!(leading_parts(HEAD), 3);
        let mut c = Conv::udp(&DISSECTOR, 36576, 25826);
        c.client(HEAD);
        assert_eq!(c.name(), "collectd");
        assert_eq!(c.meta(&HOSTNAME).as_deref(), Some("devlap.fritz.box"));
    }

    #[test]
    fn broken_or_encrypted() {
        let mut bad = HEAD.to_vec();
        bad[2] = 0xff;
        bad[3] = 0xff;
        assert_eq!(leading_parts(&bad), 0);
        assert_eq!(
            leading_parts(b"\x02\x10\x00\x10user\x00\x00\x00\x00\x00\x00\x00\x00"),
            0
        );
        assert_eq!(leading_parts(&HEAD[..30]), 1);
    }
}
