//! A proxy's tunnel: after an HTTP CONNECT is accepted, the protocol the tunnel carries is
//! recognised like any other, with its metadata, while the flow stays `HTTP_Connect`.

use super::harness::Conv;
use super::tls::parser::tests::{client_hello_body, handshake, records};
use super::{http, mail, tls};

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
