//! MongoDB wire protocol: a 16-byte header (little-endian message length, request id,
//! response-to, opcode). Confirmed by a header whose length fills the message and a known
//! opcode whose body is consistent — OP_QUERY's collection name and BSON query, OP_MSG's
//! flag bits and body section — giving the collection and the command name.

use super::lines::text;
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};
use crate::attrs;

attrs! {
    pub COLLECTION = "mongodb.collection", Str, Usage, "Full collection name of the first OP_QUERY (e.g. admin.$cmd)";
    pub COMMAND = "mongodb.command", Str, Usage, "First key of the first command document (isMaster, hello, find, …)";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[&COLLECTION, &COMMAND];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::MONGODB,
    transports: Transports::TCP,
    tcp_ports: &[27017, 27018, 27019],
    udp_ports: &[],
    inspect,
};

const HEADER: usize = 16;
const MAX_MESSAGE: usize = 48 << 20;
const OP_REPLY: i32 = 1;
const OP_QUERY: i32 = 2004;
const OP_COMPRESSED: i32 = 2012;
const OP_MSG: i32 = 2013;

fn le32(d: &[u8], at: usize) -> Option<i32> {
    Some(i32::from_le_bytes(d.get(at..at + 4)?.try_into().ok()?))
}

/// A BSON document at `at` that fits in `d`: its first key.
fn bson_first_key(d: &[u8], at: usize) -> Option<String> {
    let len = usize::try_from(le32(d, at)?).ok()?;
    let doc = d.get(at..at + len)?;
    if len < 5 || doc.last() != Some(&0) {
        return None;
    }
    if len == 5 {
        return Some(String::new());
    }
    let name = doc.get(5..)?;
    let end = name.iter().position(|&b| b == 0)?;
    Some(text(name.get(..end)?, 64))
}

/// What a whole message says: (collection, command).
pub fn message(m: &[u8]) -> Option<(Option<String>, Option<String>)> {
    let len = usize::try_from(le32(m, 0)?).ok()?;
    if len != m.len() || len < HEADER {
        return None;
    }
    match le32(m, 12)? {
        OP_QUERY => {
            let name_at = HEADER + 4;
            let body = m.get(name_at..)?;
            let end = body.iter().take(256).position(|&b| b == 0)?;
            let name = body.get(..end)?;
            if !name.contains(&b'.') || !name.iter().all(|b| b.is_ascii_graphic()) {
                return None;
            }
            let key = bson_first_key(m, name_at + end + 1 + 8)?;
            Some((Some(text(name, 128)), Some(key)))
        }
        OP_MSG => {
            let flags = le32(m, HEADER)?;
            // Only checksumPresent, moreToCome and exhaustAllowed are defined.
            if flags & !0x0001_0003 != 0 || *m.get(HEADER + 4)? != 0 {
                return None;
            }
            Some((None, Some(bson_first_key(m, HEADER + 5)?)))
        }
        OP_REPLY => {
            let start = le32(m, HEADER + 12)?;
            let returned = le32(m, HEADER + 16)?;
            (start >= 0 && returned >= 0 && bson_first_key(m, HEADER + 20).is_some()
                || returned == 0)
                .then_some((None, None))
        }
        OP_COMPRESSED => {
            let original = le32(m, HEADER)?;
            matches!(original, OP_REPLY | OP_QUERY | OP_MSG).then_some((None, None))
        }
        _ => None,
    }
}

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    let d = ins.data;
    let Some(len) = le32(d, 0).and_then(|l| usize::try_from(l).ok()) else {
        return Verdict::Continue;
    };
    if !(HEADER..=MAX_MESSAGE).contains(&len) {
        return Verdict::Exclude;
    }
    let Some(m) = d.get(..len) else {
        return Verdict::Continue;
    };
    let Some((collection, command)) = message(m) else {
        return Verdict::Exclude;
    };
    ins.detect(id::MONGODB);
    if let Some(c) = collection {
        st.set_str(&COLLECTION, c);
    }
    if let Some(c) = command.filter(|c| !c.is_empty()) {
        st.set_str(&COMMAND, c);
    }
    Verdict::Done
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    fn query(collection: &str, key: &str) -> Vec<u8> {
        let mut doc = vec![0x10];
        doc.extend_from_slice(key.as_bytes());
        doc.extend_from_slice(&[0, 1, 0, 0, 0, 0]);
        let doc_len = (doc.len() + 4) as i32;
        let mut m = vec![0; 12];
        m.extend_from_slice(&OP_QUERY.to_le_bytes());
        m.extend_from_slice(&[0; 4]);
        m.extend_from_slice(collection.as_bytes());
        m.push(0);
        m.extend_from_slice(&[0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
        m.extend_from_slice(&doc_len.to_le_bytes());
        m.extend_from_slice(&doc);
        let len = (m.len() as i32).to_le_bytes();
        if let Some(h) = m.get_mut(..4) {
            h.copy_from_slice(&len);
        }
        m
    }

    #[test]
    fn is_master_query() {
        let mut c = Conv::tcp(&DISSECTOR, 51822, 27017);
        c.client(&query("admin.$cmd", "isMaster"));
        assert_eq!(c.name(), "MongoDB");
        assert_eq!(c.meta(&COLLECTION).as_deref(), Some("admin.$cmd"));
        assert_eq!(c.meta(&COMMAND).as_deref(), Some("isMaster"));
    }

    #[test]
    fn rejects() {
        let mut bad = query("admin.$cmd", "x");
        bad.push(0);
        assert_eq!(message(&bad), None);
        assert_eq!(message(&query("nodot", "x")), None);
        let mut c = Conv::tcp(&DISSECTOR, 1, 27017);
        c.client(b"GET / HTTP/1.1\r\n\r\n");
        assert!(!c.open);
    }
}
