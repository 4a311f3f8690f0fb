//! A proxy's tunnel: after an HTTP CONNECT or a SOCKS request is granted, the protocol the
//! tunnel carries is recognised like any other, with its metadata, while the flow stays
//! `HTTP_Connect` or `SOCKS`.

use super::harness::Conv;
use super::tls::parser::tests::{client_hello_body, handshake, records};
use super::{http, mail, socks, tls};

const CONNECT: &[u8] =
    b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nUser-Agent: curl/8.5\r\n\r\n";

#[test]
fn tls_through_an_accepted_connect() {
    let mut c = Conv::all(6, 50000, 3128);
    c.client(CONNECT)
        .server(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .client(&records(22, &handshake(1, &client_hello_body()), 16_384));
    assert_eq!(c.name(), "HTTP_Connect");
    assert_eq!(c.meta(&http::STATUS_CODE).as_deref(), Some("200"));
    assert_eq!(c.meta(&tls::SNI).as_deref(), Some("example.com"));
    assert!(c.meta(&tls::JA4).is_some_and(|j| j.starts_with('t')));
}

#[test]
fn a_refused_connect_then_an_accepted_one() {
    let mut c = Conv::all(6, 50000, 8080);
    c.client(CONNECT)
        .server(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
        .client(b"CONNECT example.com:443 HTTP/1.1\r\nProxy-Authorization: Basic Ym9iOnB3\r\n\r\n")
        .server(b"HTTP/1.1 200 OK\r\n\r\n")
        .client(&records(22, &handshake(1, &client_hello_body()), 16_384));
    assert_eq!(c.name(), "HTTP_Connect");
    assert_eq!(c.meta(&tls::SNI).as_deref(), Some("example.com"));
}

#[test]
fn smtp_through_a_tunnel() {
    let mut c = Conv::all(6, 3378, 8240);
    c.client(b"CONNECT mail.example.org:25 HTTP/1.0\r\n\r\n")
        .server(b"HTTP/1.0 200 Connection established\r\n\r\n")
        .server(b"220 mail.example.org ESMTP ready\r\n")
        .client(b"HELO client.example\r\n")
        .server(b"250 Ok\r\n")
        .client(b"MAIL FROM:<a@client.example>\r\n");
    assert_eq!(c.name(), "HTTP_Connect");
    assert_eq!(c.meta(&mail::smtp::HELO).as_deref(), Some("client.example"));
    assert_eq!(
        c.meta(&mail::smtp::MAIL_FROM).as_deref(),
        Some("a@client.example")
    );
}

#[test]
fn a_refused_connect_opens_nothing() {
    let mut c = Conv::all(6, 50000, 3128);
    c.client(CONNECT)
        .server(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
        .client(&records(22, &handshake(1, &client_hello_body()), 16_384));
    assert_eq!(c.name(), "HTTP_Connect");
    assert_eq!(c.meta(&tls::SNI), None);
}

#[test]
fn a_damaged_connect_still_opens_its_tunnel() {
    // A request line with a stray target and a header line without a colon.
    let mut c = Conv::all(6, 3378, 8240);
    c.client(b"CONNECT mail.example.org:25 / HTTP/1.0\r\nMozilla 4.0 (compatible)\r\n\r\n")
        .server(b"HTTP/1.0 200 Connection established\r\n\r\n")
        .server(b"220 mail.example.org ESMTP ready\r\n")
        .client(b"HELO client.example\r\n");
    assert_eq!(c.name(), "HTTP_Connect");
    assert_eq!(c.meta(&mail::smtp::HELO).as_deref(), Some("client.example"));
}

fn hello() -> Vec<u8> {
    records(22, &handshake(1, &client_hello_body()), 16_384)
}

#[test]
fn tls_through_socks5() {
    let mut c = Conv::all(6, 59580, 1080);
    c.client(b"\x05\x01\x00")
        .server(b"\x05\x00")
        .client(b"\x05\x01\x00\x03\x0bexample.com\x01\xbb")
        .server(b"\x05\x00\x00\x01\x00\x00\x00\x00\x01\xbb")
        .client(&hello());
    assert_eq!(c.name(), "SOCKS");
    assert_eq!(
        c.meta(&socks::DESTINATION).as_deref(),
        Some("example.com:443")
    );
    assert_eq!(c.meta(&tls::SNI).as_deref(), Some("example.com"));
}

#[test]
fn http_through_socks5_with_a_login() {
    let mut c = Conv::all(6, 55951, 1080);
    c.client(b"\x05\x01\x02")
        .server(b"\x05\x02")
        .client(b"\x01\x03bob\x05alice")
        .server(b"\x01\x00")
        .client(b"\x05\x01\x00\x01\xc0\xa8\x00\x02\x00\x50")
        .server(b"\x05\x00\x00\x01\xc0\xa8\x00\x01\xda\x8f")
        .client(b"GET / HTTP/1.1\r\nHost: www.example.org\r\n\r\n");
    assert_eq!(c.name(), "SOCKS");
    assert_eq!(c.meta(&socks::USER).as_deref(), Some("bob"));
    assert!(c.has_risk("clear_text_credentials"));
    assert_eq!(c.meta(&http::HOST).as_deref(), Some("www.example.org"));
}

#[test]
fn a_pipelined_socks5_request_and_socks4() {
    // Greeting and request in one segment, before the server chose a method.
    let mut c = Conv::all(6, 50000, 1080);
    c.client(b"\x05\x01\x00\x05\x01\x00\x03\x0bexample.com\x01\xbb")
        .server(b"\x05\x00")
        .server(b"\x05\x00\x00\x01\x00\x00\x00\x00\x01\xbb")
        .client(&hello());
    assert_eq!(c.meta(&tls::SNI).as_deref(), Some("example.com"));
    assert_eq!(
        c.meta(&socks::DESTINATION).as_deref(),
        Some("example.com:443")
    );
    let mut c = Conv::all(6, 50001, 1080);
    c.client(b"\x04\x01\x01\xbb\x00\x00\x00\x01\x00example.com\x00")
        .server(b"\x00\x5a\x00\x00\x00\x00\x00\x00")
        .client(&hello());
    assert_eq!(c.name(), "SOCKS");
    assert_eq!(c.meta(&tls::SNI).as_deref(), Some("example.com"));
}

#[test]
fn a_refused_socks_request_opens_nothing() {
    let mut c = Conv::all(6, 50000, 1080);
    c.client(b"\x05\x01\x00")
        .server(b"\x05\x00")
        .client(b"\x05\x01\x00\x03\x0bexample.com\x01\xbb")
        .server(b"\x05\x05\x00\x01\x00\x00\x00\x00\x00\x00")
        .client(&hello());
    assert_eq!(c.name(), "SOCKS");
    assert_eq!(c.meta(&tls::SNI), None);
}
