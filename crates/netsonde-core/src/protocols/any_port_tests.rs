//! HTTP, TLS, DNS, SSH and QUIC are recognised, with their metadata, on their usual ports and
//! on unusual ones alike: ports only order the candidates, they never decide.
#![allow(clippy::indexing_slicing)]

use super::harness::Conv;
use super::quic::crypto::tests::V1_CLIENT_INITIAL;
use super::tls::parser::tests::{client_hello_body, handshake, records};
use super::{dns, http, quic, ssh, tls};

fn unhex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text.bytes().filter(u8::is_ascii_hexdigit).collect();
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap_or("00"), 16).unwrap_or(0))
        .collect()
}

#[test]
fn http_on_any_port() {
    for port in [80, 8080, 4321, 443] {
        let mut c = Conv::all(6, 50123, port);
        c.client(
            b"GET /a/b?c=d HTTP/1.1\r\nHost: www.example.org\r\nUser-Agent: probe/1.0\r\n\r\n",
        );
        c.server(b"HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/html\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(c.name(), "HTTP", "port {port}");
        assert_eq!(
            c.meta(&http::HOST).as_deref(),
            Some("www.example.org"),
            "port {port}"
        );
        assert_eq!(
            c.meta(&http::URI).as_deref(),
            Some("/a/b?c=d"),
            "port {port}"
        );
        assert_eq!(
            c.meta(&http::USER_AGENT).as_deref(),
            Some("probe/1.0"),
            "port {port}"
        );
        assert_eq!(
            c.meta(&http::STATUS_CODE).as_deref(),
            Some("200"),
            "port {port}"
        );
        assert_eq!(
            c.meta(&http::CONTENT_TYPE).as_deref(),
            Some("text/html"),
            "port {port}"
        );
    }
}

fn dns_message(id: u16, response: bool) -> Vec<u8> {
    let mut m = id.to_be_bytes().to_vec();
    m.extend(if response { [0x81, 0x80] } else { [0x01, 0x00] });
    m.extend([0, 1, 0, u8::from(response), 0, 0, 0, 0]);
    m.extend(b"\x03www\x07example\x03org\x00\x00\x01\x00\x01");
    if response {
        m.extend([0xC0, 0x0C, 0, 1, 0, 1, 0, 0, 0x0E, 0x10, 0, 4, 192, 0, 2, 7]);
    }
    m
}

#[test]
fn dns_on_any_port() {
    for port in [53, 5300, 40000] {
        let mut c = Conv::all(17, 53111, port);
        c.client(&dns_message(0x1234, false));
        c.server(&dns_message(0x1234, true));
        assert_eq!(c.name(), "DNS", "port {port}");
        assert_eq!(
            c.meta(&dns::QUERY).as_deref(),
            Some("www.example.org"),
            "port {port}"
        );
        assert_eq!(
            c.meta(&dns::ANSWERS).as_deref(),
            Some("192.0.2.7"),
            "port {port}"
        );
    }
}

#[test]
fn tls_on_any_port() {
    let hello = records(22, &handshake(1, &client_hello_body()), 16_384);
    for port in [443, 8443, 8999, 80] {
        let mut c = Conv::all(6, 50124, port);
        c.client(&hello);
        assert_eq!(c.name(), "TLS", "port {port}");
        assert_eq!(
            c.meta(&tls::SNI).as_deref(),
            Some("example.com"),
            "port {port}"
        );
        assert!(
            c.meta(&tls::JA3).is_some_and(|j| j.len() == 32),
            "port {port}"
        );
        assert!(
            c.meta(&tls::JA4).is_some_and(|j| j.starts_with('t')),
            "port {port}"
        );
    }
}

#[test]
fn ssh_on_any_port() {
    for port in [22, 2222, 443] {
        let mut c = Conv::all(6, 50125, port);
        c.client(b"SSH-2.0-OpenSSH_9.6\r\n");
        c.server(b"SSH-2.0-OpenSSH_8.9p1 Ubuntu-3\r\n");
        assert_eq!(c.name(), "SSH", "port {port}");
        assert_eq!(
            c.meta(&ssh::CLIENT_BANNER).as_deref(),
            Some("SSH-2.0-OpenSSH_9.6"),
            "port {port}"
        );
        assert_eq!(
            c.meta(&ssh::SERVER_BANNER).as_deref(),
            Some("SSH-2.0-OpenSSH_8.9p1 Ubuntu-3"),
            "port {port}"
        );
    }
}

#[test]
fn quic_on_any_port() {
    // The client Initial of RFC 9001 Appendix A.2 (SNI example.com).
    let initial = unhex(V1_CLIENT_INITIAL);
    assert_eq!(initial.len(), 1200);
    for port in [443, 8443, 9999] {
        let mut c = Conv::all(17, 50126, port);
        c.client(&initial);
        assert_eq!(c.name(), "QUIC", "port {port}");
        assert_eq!(
            c.meta(&quic::SNI).as_deref(),
            Some("example.com"),
            "port {port}"
        );
        assert!(
            c.meta(&quic::JA4).is_some_and(|j| j.starts_with('q')),
            "port {port}"
        );
    }
}
