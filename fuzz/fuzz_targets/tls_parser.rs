//! TLS record and handshake parsing fed arbitrary bytes: records are split, handshake
//! messages parsed, hellos and certificate lists read, fingerprints computed; nothing panics.
#![no_main]
use libfuzzer_sys::fuzz_target;
use netsonde_core::protocols::tls::{fingerprint, parser};

fuzz_target!(|data: &[u8]| {
    let _ = parser::parse_sslv2_client_hello(data);
    let mut hs = Vec::new();
    let mut rest = data;
    while let Ok((rec, n)) = parser::parse_record(rest) {
        if rec.content_type == parser::CT_HANDSHAKE {
            hs.extend_from_slice(rec.fragment);
        }
        rest = rest.get(n..).unwrap_or_default();
    }
    // The data as a handshake stream on its own too, and as the records' payloads.
    for stream in [data, hs.as_slice()] {
        let mut at = stream;
        while let Ok((msg, n)) = parser::parse_handshake(at) {
            match msg.msg_type {
                parser::HS_CLIENT_HELLO => {
                    if let Some(h) = parser::parse_client_hello_body(msg.body) {
                        let _ = fingerprint::ja3(&h);
                        let _ = fingerprint::ja4(&h, false);
                        let _ = h.sni_str();
                    }
                }
                parser::HS_SERVER_HELLO => {
                    if let Some(h) = parser::parse_server_hello_body(msg.body) {
                        let _ = fingerprint::ja3s(&h);
                    }
                }
                parser::HS_CERTIFICATE => {
                    let _ = parser::certificates(msg.body).count();
                }
                _ => {}
            }
            at = at.get(n..).unwrap_or_default();
        }
        let _ = parser::first_certificate(stream);
    }
    if let Some(h) = parser::parse_client_hello(data) {
        let _ = fingerprint::ja4(&h, true);
    }
});
