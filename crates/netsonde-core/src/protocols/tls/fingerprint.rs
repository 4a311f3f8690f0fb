//! Handshake fingerprints: JA3 and JA4 of a ClientHello, JA3S of a ServerHello. TLS and QUIC
//! share them: both hand a parsed [`ClientHello`] in.
//!
//! JA3 (Salesforce): MD5 of `version,ciphers,extensions,groups,point_formats`, each list of
//! decimal values joined with `-`, GREASE values left out.
//! JA4 (FoxIO): `{t|q|d}{version}{d|i}{ciphers:02}{extensions:02}{alpn}_{hash(sorted
//! ciphers)}_{hash(sorted extensions without SNI and ALPN, then signature algorithms)}`, each
//! hash the first 12 hex characters of a SHA-256, GREASE left out everywhere.

use md5::{Digest, Md5};
use sha2::Sha256;

use super::parser::{is_grease, ClientHello, ServerHello, EXT_ALPN, EXT_SERVER_NAME};
use crate::text::{hex, push_decimal, push_hex, push_hex4};

/// Appends values in decimal, joined with `-`.
fn push_joined_decimal(out: &mut String, values: impl Iterator<Item = u16>) {
    for (i, v) in values.enumerate() {
        if i > 0 {
            out.push('-');
        }
        push_decimal(out, u64::from(v));
    }
}

/// Appends values as four hex digits each, joined with `,`.
fn push_joined_hex4(out: &mut String, values: &[u16]) {
    out.reserve(values.len() * 5);
    for (i, &v) in values.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_hex4(out, v);
    }
}

fn not_grease(v: &u16) -> bool {
    !is_grease(*v)
}

/// The JA3 string (before hashing) of a ClientHello.
pub fn ja3_string(hello: &ClientHello) -> String {
    let mut s = String::with_capacity(128);
    push_decimal(&mut s, u64::from(hello.version));
    s.push(',');
    push_joined_decimal(
        &mut s,
        hello.cipher_suites.iter().copied().filter(not_grease),
    );
    s.push(',');
    push_joined_decimal(&mut s, hello.extension_types().filter(not_grease));
    s.push(',');
    push_joined_decimal(
        &mut s,
        hello.supported_groups.iter().copied().filter(not_grease),
    );
    s.push(',');
    push_joined_decimal(&mut s, hello.ec_point_formats.iter().map(|&p| u16::from(p)));
    s
}

/// JA3 of a ClientHello: MD5 of [`ja3_string`], 32 lower-case hex characters.
pub fn ja3(hello: &ClientHello) -> String {
    hex(&Md5::digest(ja3_string(hello).as_bytes()))
}

/// The JA3S string (before hashing) of a ServerHello: `version,cipher,extensions`.
pub fn ja3s_string(hello: &ServerHello) -> String {
    let mut s = String::with_capacity(48);
    push_decimal(&mut s, u64::from(hello.version));
    s.push(',');
    push_decimal(&mut s, u64::from(hello.cipher_suite));
    s.push(',');
    let extensions = hello.extensions.iter().map(|e| e.ext_type);
    push_joined_decimal(&mut s, extensions.filter(not_grease));
    s
}

/// JA3S of a ServerHello: MD5 of [`ja3s_string`].
pub fn ja3s(hello: &ServerHello) -> String {
    hex(&Md5::digest(ja3s_string(hello).as_bytes()))
}

/// JA4's two-character version code.
fn ja4_version(v: u16) -> &'static str {
    match v {
        0x0304 => "13",
        0x0303 => "12",
        0x0302 => "11",
        0x0301 => "10",
        0x0300 => "s3",
        0x0002 => "s2",
        0xfeff => "d1",
        0xfefd => "d2",
        0xfefc => "d3",
        _ => "00",
    }
}

/// JA4's ALPN code: first and last character of the first ALPN value; when either is not
/// ASCII alphanumeric, the first hex digit of the first byte and the last of the last byte;
/// `00` without ALPN.
fn ja4_alpn(hello: &ClientHello) -> String {
    let Some(first) = hello.alpn.first() else {
        return "00".to_string();
    };
    match (first.first(), first.last()) {
        (Some(&a), Some(&b)) if a.is_ascii_alphanumeric() && b.is_ascii_alphanumeric() => {
            format!("{}{}", char::from(a), char::from(b))
        }
        (Some(&a), Some(&b)) => {
            let h = hex(&[a, b]);
            let mut cs = h.chars();
            let c0 = cs.next().unwrap_or('0');
            let c1 = cs.last().unwrap_or('0');
            format!("{c0}{c1}")
        }
        _ => "00".to_string(),
    }
}

/// Appends the first 12 hex digits of a SHA-256: its first six bytes.
fn push_sha256_12(out: &mut String, s: &str) {
    let digest = Sha256::digest(s.as_bytes());
    push_hex(out, digest.get(..6).unwrap_or_default());
}

/// JA4's first part: protocol, version, SNI, counts and ALPN (`t13d1516h2`).
pub fn ja4_a(hello: &ClientHello, proto: char) -> String {
    let ciphers = hello.cipher_suites.iter().filter(|v| not_grease(v)).count();
    let exts = hello.extension_types().filter(not_grease).count();
    // `d`: the client named a domain; `i`: no server_name, or one holding a literal address
    // (which RFC 6066 forbids: the destination is then an IP, as nDPI also reports it).
    let ip_literal = hello
        .sni_str()
        .is_some_and(|s| s.parse::<std::net::IpAddr>().is_ok());
    let sni = if hello.extension_types().any(|t| t == EXT_SERVER_NAME) && !ip_literal {
        'd'
    } else {
        'i'
    };
    // Room for the whole JA4 (`t13d1516h2_` and two 12-digit hashes), which extends it.
    let mut s = String::with_capacity(36);
    s.push(proto);
    s.push_str(ja4_version(hello.max_version()));
    s.push(sni);
    for count in [ciphers, exts] {
        let count = count.min(99) as u8;
        s.push(char::from(b'0' + count / 10));
        s.push(char::from(b'0' + count % 10));
    }
    s.push_str(&ja4_alpn(hello));
    s
}

/// The raw (unhashed) strings of JA4's second and third parts.
pub fn ja4_raw_parts(hello: &ClientHello) -> (String, String) {
    let mut ciphers: Vec<u16> = hello
        .cipher_suites
        .iter()
        .copied()
        .filter(not_grease)
        .collect();
    ciphers.sort_unstable();
    let mut exts: Vec<u16> = hello
        .extension_types()
        .filter(|&t| not_grease(&t) && t != EXT_SERVER_NAME && t != EXT_ALPN)
        .collect();
    exts.sort_unstable();
    let sigs: Vec<u16> = hello
        .signature_algorithms
        .iter()
        .copied()
        .filter(not_grease)
        .collect();
    let mut c = String::new();
    push_joined_hex4(&mut c, &exts);
    if !sigs.is_empty() {
        c.push('_');
        push_joined_hex4(&mut c, &sigs);
    }
    let mut b = String::new();
    push_joined_hex4(&mut b, &ciphers);
    (b, c)
}

/// JA4 of a ClientHello; `quic` marks a ClientHello carried by QUIC (`q` instead of `t`).
pub fn ja4(hello: &ClientHello, quic: bool) -> String {
    ja4_with_proto(hello, if quic { 'q' } else { 't' })
}

/// JA4 with an explicit protocol character (`t`, `q`, or `d` for DTLS).
pub fn ja4_with_proto(hello: &ClientHello, proto: char) -> String {
    let (b, c) = ja4_raw_parts(hello);
    let mut s = ja4_a(hello, proto);
    s.push('_');
    if b.is_empty() {
        s.push_str("000000000000");
    } else {
        push_sha256_12(&mut s, &b);
    }
    s.push('_');
    if hello.extension_types().any(|t| not_grease(&t)) {
        push_sha256_12(&mut s, &c);
    } else {
        s.push_str("000000000000");
    }
    s
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing)]
    use super::super::parser::tests::{client_hello_body, server_hello_body};
    use super::super::parser::{parse_client_hello_body, parse_server_hello_body};
    use super::*;

    fn sha256_12(s: &str) -> String {
        let mut h = String::new();
        push_sha256_12(&mut h, s);
        h
    }

    #[test]
    fn ja3_string_drops_grease_and_keeps_order() {
        let body = client_hello_body();
        let ch = parse_client_hello_body(&body).expect("hello");
        assert_eq!(
            ja3_string(&ch),
            "771,4865-4866-4867-49195-49199,0-23-10-11-16-13-43,29-23,0"
        );
        assert_eq!(ja3(&ch), hex(&Md5::digest(ja3_string(&ch).as_bytes())));
        assert_eq!(ja3(&ch).len(), 32);
    }

    #[test]
    fn ja4_parts() {
        let body = client_hello_body();
        let ch = parse_client_hello_body(&body).expect("hello");
        assert_eq!(ja4_a(&ch, 't'), "t13d0507h2");
        let (b, c) = ja4_raw_parts(&ch);
        assert_eq!(b, "1301,1302,1303,c02b,c02f");
        assert_eq!(c, "000a,000b,000d,0017,002b_0403,0804,0401");
        let fp = ja4(&ch, false);
        assert_eq!(
            fp,
            format!("t13d0507h2_{}_{}", sha256_12(&b), sha256_12(&c))
        );
        assert!(ja4(&ch, true).starts_with("q13d0507h2_"));
    }

    #[test]
    fn ja4_alpn_codes() {
        let body = client_hello_body();
        let mut ch = parse_client_hello_body(&body).expect("hello");
        ch.alpn = vec![b"http/1.1"];
        assert_eq!(ja4_alpn(&ch), "h1");
        ch.alpn = vec![b"h3-29"];
        assert_eq!(ja4_alpn(&ch), "h9");
        ch.alpn = vec![&[0xab, b'x', 0x3c]];
        assert_eq!(ja4_alpn(&ch), "ac");
        ch.alpn = vec![];
        assert_eq!(ja4_alpn(&ch), "00");
    }

    #[test]
    fn ja4_sni_code() {
        let body = client_hello_body();
        let mut ch = parse_client_hello_body(&body).expect("hello");
        assert_eq!(&ja4_a(&ch, 't')[3..4], "d");
        ch.sni = Some(b"192.0.2.7");
        assert_eq!(&ja4_a(&ch, 't')[3..4], "i");
        ch.sni = None;
        ch.extensions.retain(|e| e.ext_type != EXT_SERVER_NAME);
        assert_eq!(ja4_a(&ch, 't'), "t13i0506h2");
    }

    #[test]
    fn ja4_known_value() {
        // FoxIO's documented example: the sorted cipher list of a Chrome hello hashes to
        // 8daaf6152771.
        let ciphers = "002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9";
        assert_eq!(sha256_12(ciphers), "8daaf6152771");
    }

    #[test]
    fn ja3s_of_a_server_hello() {
        let body = server_hello_body(0xc02f, false);
        let sh = parse_server_hello_body(&body).expect("sh");
        assert_eq!(ja3s_string(&sh), "771,49199,65281-16");
        assert_eq!(ja3s(&sh).len(), 32);
    }
}
