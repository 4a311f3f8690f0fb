//! Microsoft SQL Server's TDS (Tabular Data Stream): 8-byte packet headers (type, status,
//! big-endian length, SPID, packet id, window 0). Confirmed by a client packet whose header
//! is consistent and whose body is well formed for its type — a PRELOGIN option table, a
//! LOGIN7 record with its own length and a known TDS version, or a SQL batch / RPC with a
//! consistent ALL_HEADERS block. LOGIN7 gives the user, client host, application and server
//! names.

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};
use crate::attrs;

attrs! {
    pub USER = "mssql.user", Str, Identifier, "User name of the LOGIN7 record";
    pub CLIENT_HOST = "mssql.client_host", Str, Identifier, "Client host name of the LOGIN7 record";
    pub APP = "mssql.app", Str, Identifier, "Application name of the LOGIN7 record";
    pub SERVER = "mssql.server", Str, Identifier, "Server name the LOGIN7 record asks for";
    pub PACKET_TYPE = "mssql.packet_type", Str, Usage, "Type of the first client packet (prelogin, login7, sql_batch, rpc, …)";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] =
    &[&USER, &CLIENT_HOST, &APP, &SERVER, &PACKET_TYPE];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::MSSQL,
    transports: Transports::TCP,
    tcp_ports: &[1433],
    udp_ports: &[],
    inspect,
};

const HEADER: usize = 8;
const SQL_BATCH: u8 = 0x01;
const RPC: u8 = 0x03;
const LOGIN7: u8 = 0x10;
const PRELOGIN: u8 = 0x12;
const MAX_PACKET: usize = 32_768;
const MAX_NAME: usize = 128;

fn type_name(t: u8) -> Option<&'static str> {
    Some(match t {
        SQL_BATCH => "sql_batch",
        RPC => "rpc",
        0x06 => "attention",
        0x07 => "bulk_load",
        0x0e => "transaction_manager",
        LOGIN7 => "login7",
        0x11 => "sspi",
        PRELOGIN => "prelogin",
        _ => return None,
    })
}

/// A client packet's type and body, when header and body agree.
pub fn client_packet(d: &[u8]) -> Option<(u8, &[u8])> {
    let t = *d.first()?;
    let status = *d.get(1)?;
    let len = usize::from(u16::from_be_bytes([*d.get(2)?, *d.get(3)?]));
    type_name(t)?;
    if status & !0x1b != 0 || *d.get(7)? != 0 || !(HEADER..=MAX_PACKET).contains(&len) {
        return None;
    }
    let body = d.get(HEADER..len)?;
    let ok = match t {
        PRELOGIN => prelogin_ok(body),
        LOGIN7 => login7_ok(body),
        SQL_BATCH => all_headers_len(body).map_or_else(
            || utf16_text(body),
            |n| utf16_text(body.get(n..).unwrap_or_default()),
        ),
        RPC => rpc_ok(
            all_headers_len(body)
                .and_then(|n| body.get(n..))
                .unwrap_or(body),
        ),
        _ => false,
    };
    ok.then_some((t, body))
}

/// PRELOGIN: option tokens (token, offset, length) up to 0xff, each pointing inside the body.
fn prelogin_ok(b: &[u8]) -> bool {
    let mut at = 0;
    for _ in 0..16 {
        match b.get(at) {
            Some(0xff) => return at > 0,
            Some(&token) if token <= 0x08 => {
                let (Some(off), Some(len)) = (be16(b, at + 1), be16(b, at + 3)) else {
                    return false;
                };
                if off + len > b.len() {
                    return false;
                }
                at += 5;
            }
            _ => return false,
        }
    }
    false
}

/// LOGIN7: its length field equals the body, and a known TDS version.
fn login7_ok(b: &[u8]) -> bool {
    let (Some(len), Some(version)) = (le32(b, 0), le32(b, 4)) else {
        return false;
    };
    usize::try_from(len).ok() == Some(b.len())
        && matches!(
            version,
            0x7000_0000
                | 0x7100_0000
                | 0x7100_0001
                | 0x7209_0002
                | 0x730A_0003
                | 0x730B_0003
                | 0x7400_0004
                | 0x0800_0000
        )
}

/// SQL batch and RPC bodies of TDS 7.2+ open with ALL_HEADERS: a total length, then
/// headers whose own lengths add up to it. Returns its length when present.
fn all_headers_len(b: &[u8]) -> Option<usize> {
    let total = usize::try_from(le32(b, 0)?).ok()?;
    if total < 4 + 6 || total > b.len() {
        return None;
    }
    let mut at = 4;
    while at < total {
        match le32(b, at).and_then(|l| usize::try_from(l).ok()) {
            Some(l) if l >= 6 => at += l,
            _ => return None,
        }
    }
    (at == total).then_some(total)
}

/// SQL text: UTF-16LE whose first characters are printable ASCII or blanks.
fn utf16_text(b: &[u8]) -> bool {
    let units: Vec<u16> = b
        .chunks_exact(2)
        .take(16)
        .map(|c| {
            u16::from_le_bytes([
                c.first().copied().unwrap_or(0),
                c.get(1).copied().unwrap_or(0),
            ])
        })
        .collect();
    b.len() % 2 == 0
        && units.len() >= 2
        && units
            .iter()
            .all(|&u| (0x20..0x7f).contains(&u) || matches!(u, 0x09 | 0x0a | 0x0d))
}

/// An RPC request: a procedure name (UTF-16, printable) or a well-known procedure id,
/// then option flags.
fn rpc_ok(b: &[u8]) -> bool {
    let Some(n) = le16(b, 0) else {
        return false;
    };
    let (flags_at, ok) = if n == 0xffff {
        (4, le16(b, 2).is_some_and(|id| (1..=15).contains(&id)))
    } else {
        let name = b.get(2..2 + 2 * n).unwrap_or_default();
        (2 + 2 * n, n > 0 && name.len() == 2 * n && utf16_text(name))
    };
    ok && le16(b, flags_at).is_some_and(|f| f <= 0x07)
}

fn be16(d: &[u8], at: usize) -> Option<usize> {
    Some(usize::from(u16::from_be_bytes([
        *d.get(at)?,
        *d.get(at + 1)?,
    ])))
}

fn le16(d: &[u8], at: usize) -> Option<usize> {
    Some(usize::from(u16::from_le_bytes([
        *d.get(at)?,
        *d.get(at + 1)?,
    ])))
}

fn le32(d: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(d.get(at..at + 4)?.try_into().ok()?))
}

/// A UTF-16LE string of a LOGIN7 record from its (offset, characters) pair at `at`.
fn login_string(b: &[u8], at: usize) -> Option<String> {
    let off = le16(b, at)?;
    let chars = le16(b, at + 2)?;
    let raw = b.get(off..off + 2 * chars)?;
    let units: Vec<u16> = raw
        .chunks_exact(2)
        .map(|c| {
            u16::from_le_bytes([
                c.first().copied().unwrap_or(0),
                c.get(1).copied().unwrap_or(0),
            ])
        })
        .collect();
    let s = String::from_utf16_lossy(&units);
    Some(super::lines::text(s.as_bytes(), MAX_NAME))
}

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    if !ins.to_server() {
        // The server answers; the client's packet decides.
        return if ins.dir_packets.first().is_some_and(|&n| n > 0) {
            Verdict::Exclude
        } else {
            Verdict::Continue
        };
    }
    let d = ins.data;
    if d.len() < HEADER {
        return if d.first().is_some_and(|&t| type_name(t).is_some()) {
            Verdict::Continue
        } else {
            Verdict::Exclude
        };
    }
    let len = usize::from(u16::from_be_bytes([
        d.get(2).copied().unwrap_or(0),
        d.get(3).copied().unwrap_or(0),
    ]));
    if d.len() < len && len <= MAX_PACKET && type_name(d.first().copied().unwrap_or(0)).is_some() {
        return Verdict::Continue;
    }
    let Some((t, body)) = client_packet(d) else {
        return Verdict::Exclude;
    };
    ins.detect(id::MSSQL);
    st.set_str(&PACKET_TYPE, type_name(t).unwrap_or_default());
    if t == LOGIN7 {
        // Offset/length pairs after the 36 fixed bytes: host, user, password, app, server.
        for (spec, at) in [(&CLIENT_HOST, 36), (&USER, 40), (&APP, 48), (&SERVER, 52)] {
            if let Some(v) = login_string(body, at).filter(|v| !v.is_empty()) {
                st.set_str(spec, v);
            }
        }
        if le16(body, 46).is_some_and(|n| n > 0) {
            st.risk(super::mail::CLEAR_TEXT_CREDENTIALS);
        }
    }
    Verdict::Done
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    fn packet(t: u8, body: &[u8]) -> Vec<u8> {
        let mut p = vec![t, 0x01];
        p.extend_from_slice(&((HEADER + body.len()) as u16).to_be_bytes());
        p.extend_from_slice(&[0, 0, 1, 0]);
        p.extend_from_slice(body);
        p
    }

    #[test]
    fn before_tds_7_2() {
        let text: Vec<u8> = "COMMIT TRANSACTION"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        assert!(client_packet(&packet(SQL_BATCH, &text)).is_some());
        let mut rpc = vec![0x0d, 0x00];
        rpc.extend("sp_executesql".encode_utf16().flat_map(|u| u.to_le_bytes()));
        rpc.extend_from_slice(&[0x02, 0x00, 0x00, 0x00]);
        assert!(client_packet(&packet(RPC, &rpc)).is_some());
        assert!(client_packet(&packet(RPC, &[0xff, 0xff, 0x0a, 0x00, 0x00, 0x00])).is_some());
        assert_eq!(
            client_packet(&packet(RPC, &[0xff, 0xff, 0x40, 0x00, 0x00, 0x00])),
            None
        );
        assert_eq!(client_packet(&packet(SQL_BATCH, b"\x01\x02\x03\x04")), None);
    }

    #[test]
    fn sql_batch() {
        // ALL_HEADERS (22 bytes: one 18-byte transaction descriptor), then UTF-16 text.
        let mut body = vec![0x16, 0, 0, 0, 0x12, 0, 0, 0, 0x02, 0];
        body.extend_from_slice(&[0; 12]);
        body.extend("COMMIT".encode_utf16().flat_map(|u| u.to_le_bytes()));
        let mut c = Conv::tcp(&DISSECTOR, 1111, 1433);
        c.client(&packet(SQL_BATCH, &body));
        assert_eq!(c.name(), "MsSQL-TDS");
        assert_eq!(c.meta(&PACKET_TYPE).as_deref(), Some("sql_batch"));
        let mut bad = body.clone();
        if let Some(b) = bad.get_mut(4) {
            *b = 0x13; // header length no longer adds up
        }
        assert_eq!(client_packet(&packet(SQL_BATCH, &bad)), None);
    }

    fn put(buf: &mut [u8], at: usize, bytes: &[u8]) {
        if let Some(dst) = buf.get_mut(at..at + bytes.len()) {
            dst.copy_from_slice(bytes);
        }
    }

    #[test]
    fn login7_names() {
        let names = ["host1", "sa", "", "app", "srv"];
        let mut body = vec![0u8; 94];
        put(&mut body, 4, &0x7400_0004u32.to_le_bytes());
        let mut strings = Vec::new();
        for (i, n) in names.iter().enumerate() {
            let off = (94 + strings.len()) as u16;
            let at = 36 + 4 * i;
            put(&mut body, at, &off.to_le_bytes());
            put(&mut body, at + 2, &(n.len() as u16).to_le_bytes());
            strings.extend(n.encode_utf16().flat_map(|u| u.to_le_bytes()));
        }
        body.extend(strings);
        let len = body.len() as u32;
        put(&mut body, 0, &len.to_le_bytes());
        let mut c = Conv::tcp(&DISSECTOR, 5000, 1433);
        c.client(&packet(LOGIN7, &body));
        assert_eq!(c.meta(&USER).as_deref(), Some("sa"));
        assert_eq!(c.meta(&CLIENT_HOST).as_deref(), Some("host1"));
        assert_eq!(c.meta(&APP).as_deref(), Some("app"));
        assert_eq!(c.meta(&SERVER).as_deref(), Some("srv"));
    }

    #[test]
    fn prelogin_and_rejects() {
        let body = [
            0x00, 0x00, 0x06, 0x00, 0x06, 0xff, 0x0f, 0x00, 0x07, 0xd0, 0x00, 0x00,
        ];
        assert!(client_packet(&packet(PRELOGIN, &body)).is_some());
        assert_eq!(
            client_packet(&packet(PRELOGIN, &[0x00, 0x00, 0x40, 0x00, 0x06, 0xff])),
            None
        );
        let mut c = Conv::tcp(&DISSECTOR, 1, 1433);
        c.client(b"GET / HTTP/1.1\r\n\r\n");
        assert!(!c.open);
    }
}
