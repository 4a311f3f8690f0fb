//! Zabbix agent/server protocol: every message starts with the `ZBXD` header, a flags byte
//! (protocol, compressed, large), the data length and a reserved (or uncompressed) length,
//! both little-endian. Confirmed by the header; the requested item or request type is read
//! from uncompressed data.

use super::lines::text;
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};
use crate::attrs;

attrs! {
    pub REQUEST = "zabbix.request", Str, Usage, "Request type of a JSON message (\"request\" field)";
    pub ITEM = "zabbix.item", Str, Usage, "Item key asked for by a passive check";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[&REQUEST, &ITEM];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::ZABBIX,
    transports: Transports::TCP,
    tcp_ports: &[10050, 10051],
    udp_ports: &[],
    inspect,
};

const MAGIC: &[u8] = b"ZBXD";
const FLAG_PROTOCOL: u8 = 0x01;
const FLAG_COMPRESSED: u8 = 0x02;
const FLAG_LARGE: u8 = 0x04;
/// Largest data length accepted (Zabbix caps messages at 1 GiB).
const MAX_DATA: u64 = 1 << 30;

/// A parsed header: the data length and the header size.
#[derive(Debug, PartialEq, Eq)]
pub struct Header {
    pub compressed: bool,
    pub data_len: u64,
    pub header_len: usize,
}

pub fn header(d: &[u8]) -> Option<Header> {
    if d.get(..4)? != MAGIC {
        return None;
    }
    let flags = *d.get(4)?;
    if flags & FLAG_PROTOCOL == 0 || flags & !(FLAG_PROTOCOL | FLAG_COMPRESSED | FLAG_LARGE) != 0 {
        return None;
    }
    let le = |at: usize, n: usize| -> Option<u64> {
        let b = d.get(at..at + n)?;
        Some(b.iter().rev().fold(0u64, |acc, &x| acc << 8 | u64::from(x)))
    };
    let n = if flags & FLAG_LARGE != 0 { 8 } else { 4 };
    let data_len = le(5, n)?;
    let reserved = le(5 + n, n)?;
    let compressed = flags & FLAG_COMPRESSED != 0;
    // Uncompressed messages leave the reserved field zero.
    if data_len > MAX_DATA || (!compressed && reserved != 0) {
        return None;
    }
    Some(Header {
        compressed,
        data_len,
        header_len: 5 + 2 * n,
    })
}

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    let d = ins.data;
    if d.len() < 13 {
        // Wait for a full header while what arrived still matches it.
        let n = d.len().min(MAGIC.len());
        return if d.get(..n) == MAGIC.get(..n) {
            Verdict::Continue
        } else {
            Verdict::Exclude
        };
    }
    let Some(h) = header(d) else {
        return Verdict::Exclude;
    };
    ins.detect(id::ZABBIX);
    if !h.compressed {
        let len = usize::try_from(h.data_len).unwrap_or(usize::MAX);
        let body = d.get(h.header_len..).unwrap_or_default();
        let body = body.get(..len).unwrap_or(body);
        if body.first() == Some(&b'{') {
            if let Some(req) = json_string(body, b"\"request\"") {
                st.set_str(&REQUEST, req);
            }
        } else if ins.to_server() && !body.is_empty() {
            st.set_str(&ITEM, text(body, 256));
        }
    }
    Verdict::Done
}

/// The string value of `key` in a flat JSON text (first occurrence).
fn json_string(json: &[u8], key: &[u8]) -> Option<String> {
    let at = json.windows(key.len()).position(|w| w == key)? + key.len();
    let rest = json.get(at..)?;
    let colon = rest.iter().position(|&b| b == b':')?;
    let rest = rest.get(colon + 1..)?.trim_ascii_start();
    let rest = rest.strip_prefix(b"\"")?;
    let end = rest.iter().position(|&b| b == b'"')?;
    Some(text(rest.get(..end)?, 128))
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn passive_check() {
        let mut c = Conv::tcp(&DISSECTOR, 57162, 10050);
        c.client(b"ZBXD\x01\x0a\x00\x00\x00\x00\x00\x00\x00proc.num[]");
        assert_eq!(c.name(), "Zabbix");
        assert_eq!(c.meta(&ITEM).as_deref(), Some("proc.num[]"));
    }

    #[test]
    fn json_request() {
        let body = br#"{"request":"active checks","host":"web1"}"#;
        let mut msg = b"ZBXD\x01".to_vec();
        msg.extend_from_slice(&(body.len() as u32).to_le_bytes());
        msg.extend_from_slice(&[0; 4]);
        msg.extend_from_slice(body);
        let mut c = Conv::tcp(&DISSECTOR, 36699, 10051);
        c.client(&msg);
        assert_eq!(c.meta(&REQUEST).as_deref(), Some("active checks"));
    }

    #[test]
    fn headers() {
        let compressed = b"ZBXD\x03\x4e\x00\x00\x00\x45\x00\x00\x00x\x9c";
        assert_eq!(
            header(compressed),
            Some(Header {
                compressed: true,
                data_len: 0x4e,
                header_len: 13
            })
        );
        assert_eq!(header(b"ZBXD\x00\x01\x00\x00\x00\x00\x00\x00\x00"), None);
        assert_eq!(header(b"ZBXD\x01\x01\x00\x00\x00\x01\x00\x00\x00"), None);
        assert_eq!(header(b"ZBXE\x01\x01\x00\x00\x00\x00\x00\x00\x00"), None);
        let mut c = Conv::tcp(&DISSECTOR, 1, 10050);
        c.client(b"ZBX");
        assert!(c.open);
        c.client(b"X");
        assert!(!c.open);
    }
}
