//! SOCKS 4/4a (client request `04 cmd port ip userid\0 [host\0]`, reply `00 5a..5d` + 6
//! bytes) and SOCKS 5 (RFC 1928: greeting `05 n methods…`, method choice `05 m`, then the
//! request `05 cmd 00 atyp addr port`). Both directions must agree before the flow is
//! confirmed. Extracts the version and the requested destination.

use super::lines::text;
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};
use crate::attrs;
use crate::record::MetaValue;

attrs! {
    pub VERSION = "socks.version", Int, Service, "SOCKS version (4 or 5)";
    pub DESTINATION = "socks.destination", Str, Usage, "Destination the client asked for (host:port or ip:port)";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[&VERSION, &DESTINATION];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::SOCKS,
    transports: Transports::TCP,
    tcp_ports: &[1080],
    udp_ports: &[],
    inspect,
};

const MAX_FIELD: usize = 255;

/// A SOCKS 4/4a request: its destination.
fn socks4_request(d: &[u8]) -> Option<String> {
    if *d.first()? != 4 || !matches!(d.get(1)?, 1 | 2) || d.len() < 9 {
        return None;
    }
    let port = u16::from_be_bytes([*d.get(2)?, *d.get(3)?]);
    let ip = d.get(4..8)?;
    let rest = d.get(8..)?;
    let user_end = rest.iter().take(MAX_FIELD).position(|&b| b == 0)?;
    let after = rest.get(user_end + 1..)?;
    // SOCKS 4a: 0.0.0.x (x != 0) means a host name follows.
    if ip.get(..3)? == [0, 0, 0] && *ip.get(3)? != 0 {
        let host_end = after.iter().take(MAX_FIELD).position(|&b| b == 0)?;
        if host_end + 1 != after.len() {
            return None;
        }
        return Some(format!(
            "{}:{port}",
            text(after.get(..host_end)?, MAX_FIELD)
        ));
    }
    if !after.is_empty() {
        return None;
    }
    let [a, b, c, e] = <[u8; 4]>::try_from(ip).ok()?;
    Some(format!("{a}.{b}.{c}.{e}:{port}"))
}

fn socks4_reply(d: &[u8]) -> bool {
    d.len() == 8 && d.first() == Some(&0) && d.get(1).is_some_and(|c| (0x5a..=0x5d).contains(c))
}

/// A SOCKS 5 greeting: exactly the announced number of methods.
fn socks5_greeting(d: &[u8]) -> bool {
    match d {
        [5, n, methods @ ..] => {
            *n > 0
                && methods.len() == usize::from(*n)
                && methods.iter().all(|&m| m <= 0x09 || m == 0x80 || m == 0xfe)
        }
        _ => false,
    }
}

fn socks5_choice(d: &[u8]) -> bool {
    matches!(d, [5, m] if *m <= 0x09 || *m == 0xff || *m == 0x80 || *m == 0xfe)
}

/// A SOCKS 5 request (after the greeting): its destination.
fn socks5_request(d: &[u8]) -> Option<String> {
    if *d.first()? != 5 || !matches!(d.get(1)?, 1..=3) || *d.get(2)? != 0 {
        return None;
    }
    let (host, at) = match *d.get(3)? {
        1 => {
            let [a, b, c, e] = <[u8; 4]>::try_from(d.get(4..8)?).ok()?;
            (format!("{a}.{b}.{c}.{e}"), 8)
        }
        3 => {
            let n = usize::from(*d.get(4)?);
            (text(d.get(5..5 + n)?, MAX_FIELD), 5 + n)
        }
        4 => {
            let ip: [u8; 16] = d.get(4..20)?.try_into().ok()?;
            (format!("[{}]", std::net::Ipv6Addr::from(ip)), 20)
        }
        _ => return None,
    };
    let port = u16::from_be_bytes([*d.get(at)?, *d.get(at + 1)?]);
    (d.len() == at + 2).then(|| format!("{host}:{port}"))
}

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    let [c_first, s_first] = ins.first_payload;
    let (client, server) = if ins.to_server() {
        (ins.data, s_first)
    } else {
        (c_first, ins.data)
    };
    if client.is_empty() {
        return Verdict::Exclude; // the client speaks first
    }
    match client.first() {
        Some(4) => {
            let Some(dest) = socks4_request(client) else {
                return if client.len() < 9 + MAX_FIELD && !client.contains(&0) {
                    Verdict::Continue
                } else {
                    Verdict::Exclude
                };
            };
            if server.is_empty() {
                return Verdict::Continue;
            }
            if !socks4_reply(server.get(..8).unwrap_or(server)) {
                return Verdict::Exclude;
            }
            ins.detect(id::SOCKS);
            st.set(&VERSION, MetaValue::Int(4));
            st.set_str(&DESTINATION, dest);
            Verdict::Done
        }
        Some(5) => {
            let n = usize::from(client.get(1).copied().unwrap_or(0));
            let greeting = client.get(..2 + n).unwrap_or(client);
            if !socks5_greeting(greeting) {
                return if client.len() < 2 + n {
                    Verdict::Continue
                } else {
                    Verdict::Exclude
                };
            }
            if server.is_empty() {
                return Verdict::Continue;
            }
            if !socks5_choice(server.get(..2).unwrap_or(server)) {
                return Verdict::Exclude;
            }
            ins.detect(id::SOCKS);
            st.set(&VERSION, MetaValue::Int(5));
            if let Some(dest) = client.get(2 + n..).and_then(socks5_request) {
                st.set_str(&DESTINATION, dest);
                return Verdict::Done;
            }
            Verdict::Continue
        }
        _ => Verdict::Exclude,
    }
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn socks4a() {
        let mut c = Conv::tcp(&DISSECTOR, 53534, 1080);
        c.client(b"\x04\x01\x00\x50\x00\x00\x00\x01\x00www.example.com\x00");
        assert_eq!(c.name(), "Unknown");
        c.server(b"\x00\x5a\xdf\xb3\x0a\xb4\x9c\xf9");
        assert_eq!(c.name(), "SOCKS");
        assert_eq!(c.meta(&DESTINATION).as_deref(), Some("www.example.com:80"));
        assert_eq!(c.meta(&VERSION).as_deref(), Some("4"));
    }

    #[test]
    fn socks4_and_5() {
        assert_eq!(
            socks4_request(b"\x04\x01\x00\x50\x5d\xb8\xd8\x77\x00").as_deref(),
            Some("93.184.216.119:80")
        );
        let mut c = Conv::tcp(&DISSECTOR, 1637, 21477);
        c.client(b"\x05\x01\x00").server(b"\x05\x00");
        assert_eq!(c.name(), "SOCKS");
        c.client(b"\x05\x01\x00\x03\x0bexample.org\x01\xbb");
        assert_eq!(c.meta(&DESTINATION).as_deref(), Some("example.org:443"));
    }

    #[test]
    fn not_socks() {
        let mut c = Conv::tcp(&DISSECTOR, 1, 1080);
        c.client(b"\x05\x02\x00").server(b"\x05\x00");
        assert!(c.open); // greeting incomplete: waits
        c.client(b"\x77\x02");
        assert!(!c.open);
        let mut c = Conv::tcp(&DISSECTOR, 1, 1080);
        c.client(b"\x05\x01\x00").server(b"HTTP/1.1 400");
        assert!(!c.open);
        let mut c = Conv::tcp(&DISSECTOR, 1, 1080);
        c.server(b"\x05\x00");
        assert!(!c.open);
    }
}
