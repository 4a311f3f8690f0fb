//! SOCKS 4/4a (client request `04 cmd port ip userid\0 [host\0]`, reply `00 5a..5d` + 6
//! bytes) and SOCKS 5 (RFC 1928: greeting `05 n methods…`, method choice `05 m`, then the
//! request `05 cmd 00 atyp addr port`). Both directions must agree before the flow is
//! confirmed. Extracts the version, the requested destination and a user name sent in
//! clear (RFC 1929). Once the server grants the request, the rest of the connection is the
//! tunnel's: the protocol it carries is recognised like any other (see
//! [`Inspect::reopen`]) while the flow stays SOCKS.

use super::lines::text;
use super::mail::CLEAR_TEXT_CREDENTIALS;
use super::{id, Dissector, DissectorState, Inspect, ProtoState, Transports, Verdict};
use crate::attrs;
use crate::record::MetaValue;

attrs! {
    pub VERSION = "socks.version", Int, Service, "SOCKS version (4 or 5)";
    pub DESTINATION = "socks.destination", Str, Usage, "Destination the client asked for (host:port or ip:port)";
    pub USER = "socks.user", Str, Identifier, "User name of a SOCKS 5 username/password login (RFC 1929)";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[&VERSION, &DESTINATION, &USER];

/// A confirmed SOCKS 5 exchange: the method the server chose, and whether the client's
/// side (greeting, login, request) has been read.
#[derive(Default, Debug)]
pub struct State {
    method: u8,
    client_read: bool,
}

/// RFC 1928 methods: username/password (RFC 1929).
const METHOD_USER_PASSWORD: u8 = 0x02;

pub static DISSECTOR: Dissector = Dissector {
    proto: id::SOCKS,
    transports: Transports::TCP,
    tcp_ports: &[1080],
    udp_ports: &[],
    inspect,
};

const MAX_FIELD: usize = 255;

/// A SOCKS 4/4a request: its destination and length.
fn socks4_request(d: &[u8]) -> Option<(String, usize)> {
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
        let host = text(after.get(..host_end)?, MAX_FIELD);
        return Some((format!("{host}:{port}"), d.len()));
    }
    if !after.is_empty() {
        return None;
    }
    let [a, b, c, e] = <[u8; 4]>::try_from(ip).ok()?;
    Some((format!("{a}.{b}.{c}.{e}:{port}"), d.len()))
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

/// A SOCKS 5 request or reply at the start of `d`; they share a layout (version 5, the
/// command or reply code, a zero, the address type, the address, the port). Returns the
/// second byte, the address as text and the message's length.
fn socks5_message(d: &[u8]) -> Option<(u8, String, usize)> {
    if *d.first()? != 5 || *d.get(2)? != 0 {
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
    Some((*d.get(1)?, format!("{host}:{port}"), at + 2))
}

/// A SOCKS 5 request (CONNECT, BIND, UDP ASSOCIATE): its destination and length.
fn socks5_request(d: &[u8]) -> Option<(String, usize)> {
    let (command, dest, n) = socks5_message(d)?;
    (1..=3).contains(&command).then_some((dest, n))
}

/// A SOCKS 5 reply (codes 0-8, 0 granting the request): its code and length.
fn socks5_reply(d: &[u8]) -> Option<(u8, usize)> {
    let (code, _, n) = socks5_message(d)?;
    (code <= 8).then_some((code, n))
}

/// An RFC 1929 login at the start of `d`: the user name and the login's length.
fn socks5_login(d: &[u8]) -> Option<(&[u8], usize)> {
    if *d.first()? != 1 {
        return None;
    }
    let ulen = usize::from(*d.get(1)?);
    let user = d.get(2..2 + ulen)?;
    let plen = usize::from(*d.get(2 + ulen)?);
    d.get(3 + ulen..3 + ulen + plen)?;
    Some((user, 3 + ulen + plen))
}

/// The client's side of a SOCKS 5 exchange in `d` (greeting, login when the server chose
/// it, request): the destination, the user and the length, once all of it has arrived.
fn socks5_client(d: &[u8], method: u8) -> Option<(String, Option<String>, usize)> {
    let mut at = 2 + usize::from(*d.get(1)?);
    let mut user = None;
    if method == METHOD_USER_PASSWORD {
        let (name, n) = socks5_login(d.get(at..)?)?;
        user = Some(text(name, MAX_FIELD));
        at += n;
    }
    let (dest, n) = socks5_request(d.get(at..)?)?;
    Some((dest, user, at + n))
}

/// The server's side of a SOCKS 5 exchange in `d` (choice, login status, reply): the
/// reply's code and the length, once all of it has arrived.
fn socks5_server(d: &[u8], method: u8) -> Option<(u8, usize)> {
    let at = 2 + if method == METHOD_USER_PASSWORD { 2 } else { 0 };
    let (code, n) = socks5_reply(d.get(at..)?)?;
    Some((code, at + n))
}

/// After confirmation: the SOCKS 5 exchange is read on each side; a granted request opens
/// the tunnel.
fn exchange(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    let ProtoState::Socks(state) = st.state else {
        return Verdict::Done;
    };
    let method = state.method;
    if ins.to_server() {
        if !state.client_read {
            if let Some((dest, user, n)) = socks5_client(ins.data, method) {
                client_metadata(st, dest, user);
                if let ProtoState::Socks(state) = st.state {
                    state.client_read = true;
                }
                ins.consume(n);
            }
        }
        return Verdict::Continue;
    }
    let Some((code, n)) = socks5_server(ins.data, method) else {
        return Verdict::Continue;
    };
    // The client's side, when it all came in one packet before the flow was confirmed:
    // read now, and still unread on its side.
    let mut unread = 0;
    if !state.client_read {
        let [first, _] = ins.first_payload;
        if let Some((dest, user, len)) = socks5_client(first, method) {
            client_metadata(st, dest, user);
            unread = len;
        }
    }
    if code != 0 {
        return Verdict::Done;
    }
    ins.consume(n);
    ins.reopen(unread);
    Verdict::Continue
}

/// The destination and login user of the client's side.
fn client_metadata(st: &mut DissectorState<'_>, dest: String, user: Option<String>) {
    st.meta.set_str(&DESTINATION, dest);
    if let Some(user) = user {
        st.meta.set_str(&USER, user);
        if !st.risks.contains(&CLEAR_TEXT_CREDENTIALS) {
            st.risks.push(CLEAR_TEXT_CREDENTIALS);
        }
    }
}

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    if matches!(st.state, ProtoState::Socks(_)) {
        return exchange(ins, st);
    }
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
            let Some((dest, request_len)) = socks4_request(client) else {
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
            if server.get(1) == Some(&0x5a) && !ins.to_server() {
                // Granted: the tunnel starts after the reply, and after the request, which
                // is still unread on the client's side.
                ins.consume(8);
                ins.reopen(request_len);
                return Verdict::Continue;
            }
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
            let method = server.get(1).copied().unwrap_or(0);
            *st.state = ProtoState::Socks(State {
                method,
                client_read: false,
            });
            if method == 0xff {
                return Verdict::Done; // no acceptable method
            }
            exchange(ins, st)
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
            socks4_request(b"\x04\x01\x00\x50\x5d\xb8\xd8\x77\x00"),
            Some(("93.184.216.119:80".to_string(), 9))
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
