//! Xiaomi push channel over TCP (port 5222, not XMPP): each message starts with the magic
//! 0xC2FE, the version (5), the payload length (big-endian 32-bit; the message adds a
//! 12-byte frame around it) and a protobuf payload naming the service domain
//! (`xiaomi.com`). Confirmed by the magic, the version and a length matching what arrived.
//!
//! After the length come a 2-byte field, the lengths of a header message (16-bit) and of a
//! body message (32-bit), both protobuf. The client's first message is a `CONN` command
//! (header field 5) whose body is in the clear: the device model (field 2) and the access
//! point it was told to use, `host:port` (field 7).

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

crate::attrs! {
    pub HOSTNAME = "xiaomi.hostname", Str, Identifier, "Access point the client connects to (host of the CONN message's host:port)";
    pub USER_AGENT = "xiaomi.user_agent", Str, Identifier, "Device model the client announces in its CONN message";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[&HOSTNAME, &USER_AGENT];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::XIAOMI,
    transports: Transports::TCP,
    tcp_ports: &[5222],
    udp_ports: &[],
    inspect,
};

const MAGIC: &[u8] = b"\xc2\xfe";
const VERSION: u16 = 5;
/// Header (magic, version, length) and the trailing checksum.
const FRAME: usize = 12;
/// Messages read for the client's CONN before giving up on its metadata.
const MESSAGES_FOR_CONN: u16 = 6;

/// A whole message at the start of `d`: its payload length.
pub fn message(d: &[u8]) -> Option<usize> {
    if d.get(..2)? != MAGIC {
        return None;
    }
    let version = u16::from_be_bytes(d.get(2..4)?.try_into().ok()?);
    let len = usize::try_from(u32::from_be_bytes(d.get(4..8)?.try_into().ok()?)).ok()?;
    (version == VERSION && len > 0 && len.checked_add(FRAME)? <= d.len()).then_some(len)
}

/// Reads a protobuf varint at the start of `d`: its value and length.
fn varint(d: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, &b) in d.iter().take(10).enumerate() {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

/// The length-delimited fields of a protobuf message, as (field number, bytes); stops at
/// the first malformed field.
fn strings(mut d: &[u8]) -> Vec<(u64, &[u8])> {
    let mut out = Vec::new();
    while let Some((key, n)) = varint(d) {
        d = d.get(n..).unwrap_or_default();
        let skip = match key & 7 {
            0 => varint(d).map(|(_, n)| n),
            1 => Some(8),
            5 => Some(4),
            2 => varint(d).and_then(|(len, n)| {
                let len = usize::try_from(len).ok()?;
                out.push((key >> 3, d.get(n..n.checked_add(len)?)?));
                Some(n + len)
            }),
            _ => None,
        };
        match skip.and_then(|k| d.get(k..)) {
            Some(rest) => d = rest,
            None => break,
        }
    }
    out
}

/// The device model and the access point host of a clear `CONN` message.
fn conn_metadata(msg: &[u8]) -> Option<(String, Option<String>)> {
    let header_len = usize::from(u16::from_be_bytes(msg.get(10..12)?.try_into().ok()?));
    let body_len = usize::try_from(u32::from_be_bytes(msg.get(12..16)?.try_into().ok()?)).ok()?;
    let header = msg.get(16..16 + header_len)?;
    if !strings(header).iter().any(|&(f, v)| f == 5 && v == b"CONN") {
        return None;
    }
    let body = msg.get(16 + header_len..16 + header_len + body_len)?;
    let fields = strings(body);
    let text = |field: u64| {
        fields
            .iter()
            .find(|&&(f, _)| f == field)
            .and_then(|(_, v)| std::str::from_utf8(v).ok())
            .filter(|s| !s.is_empty())
    };
    let model = text(2)?.to_string();
    // The access point as host:port; the host alone names the server.
    let host = text(7).map(|hp| hp.rsplit_once(':').map_or(hp, |(h, _)| h).to_string());
    Some((model, host))
}

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    let d = ins.data;
    if d.len() < FRAME {
        let n = d.len().min(MAGIC.len());
        return if d.get(..n) == MAGIC.get(..n) {
            Verdict::Continue
        } else {
            Verdict::Exclude
        };
    }
    let Some(len) = message(d) else {
        return Verdict::Exclude;
    };
    ins.detect(id::XIAOMI);
    let from_client = ins.dir == crate::classify::Dir::ToServer;
    if let Some((model, host)) = d
        .get(..len + 8)
        .filter(|_| from_client)
        .and_then(conn_metadata)
    {
        st.set_str(&USER_AGENT, model);
        if let Some(host) = host {
            st.set_str(&HOSTNAME, host);
        }
        return Verdict::Done;
    }
    // The server may speak first; the client's CONN follows within a few messages.
    if ins.packet_no < MESSAGES_FOR_CONN {
        ins.consume(len + FRAME);
        Verdict::Continue
    } else {
        Verdict::Done
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    const CONN: &[u8] = b"\xc2\xfe\x00\x05\x00\x00\x00\x36\x00\x02\x00\x16\x00\x00\x00\x18\
        \x08\x00\x1a\x0axiaomi.com*\x04CONNH\x00\x0a\x0a5386370769\x12\x047f04\x1a\x02\x08\x00\
        \x22\x00\x7d\xa8\x0b\x77";

    #[test]
    fn connect_message() {
        assert_eq!(CONN.len(), 66);
        assert_eq!(message(CONN), Some(0x36));
        let mut c = Conv::all(6, 39180, 5222);
        c.server(CONN);
        assert_eq!(c.name(), "Xiaomi");
    }

    #[test]
    fn rejects_short_or_other() {
        assert_eq!(message(&CONN[..60]), None);
        assert_eq!(
            message(b"\xc2\xfe\x00\x04\x00\x00\x00\x01\x00\x00\x00\x00\x00"),
            None
        );
        let mut c = Conv::tcp(&DISSECTOR, 39180, 5222);
        c.client(b"<stream:stream to='x'>");
        assert!(!c.open);
    }

    #[test]
    fn conn_names_the_device_and_the_access_point() {
        let body: &[u8] =
            b"\x08\x6a\x12\x0dRedmi Note 9S\x1a\x03V12\x3a\x1147.241.35.73:5222\x50\x1e";
        let header: &[u8] = b"\x08\x00\x1a\x0axiaomi.com*\x04CONNH\x00";
        let mut msg = b"\xc2\xfe\x00\x05".to_vec();
        msg.extend_from_slice(&((8 + header.len() + body.len()) as u32).to_be_bytes());
        msg.extend_from_slice(b"\x00\x02");
        msg.extend_from_slice(&(header.len() as u16).to_be_bytes());
        msg.extend_from_slice(&(body.len() as u32).to_be_bytes());
        msg.extend_from_slice(header);
        msg.extend_from_slice(body);
        msg.extend_from_slice(b"\x00\x00\x00\x00"); // checksum
        let mut c = Conv::tcp(&DISSECTOR, 45904, 5222);
        c.server(CONN).client(&msg);
        assert_eq!(c.name(), "Xiaomi");
        assert_eq!(c.meta(&USER_AGENT).as_deref(), Some("Redmi Note 9S"));
        assert_eq!(c.meta(&HOSTNAME).as_deref(), Some("47.241.35.73"));
        // A body cut short gives nothing rather than garbage.
        assert_eq!(conn_metadata(&msg[..msg.len() - 20]), None);
    }
}
