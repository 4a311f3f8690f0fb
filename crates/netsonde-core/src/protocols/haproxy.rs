//! The PROXY protocol of HAProxy (haproxy.org, "The PROXY protocol", versions 1 and 2): a
//! load balancer prefixes the connection it opens to a server with the original client's
//! addresses. Version 1 is one text line `PROXY TCP4|TCP6|UNKNOWN ...\r\n` of at most 107
//! bytes; version 2 a 12-byte signature, a version/command byte (0x20 LOCAL, 0x21 PROXY), an
//! address family/transport byte and a 16-bit length of the addresses that follow.

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static DISSECTOR: Dissector = Dissector {
    proto: id::HAPROXY,
    transports: Transports::TCP,
    tcp_ports: &[],
    udp_ports: &[],
    inspect,
};

const V2_SIGNATURE: &[u8] = b"\r\n\r\n\0\r\nQUIT\n";
const V1_MAX_LINE: usize = 107;

#[derive(Debug, PartialEq, Eq)]
enum Header {
    Yes,
    NeedMore,
    No,
}

/// Whether a connection's first bytes are a PROXY protocol header.
fn header(d: &[u8]) -> Header {
    if d.first() == Some(&b'\r') {
        let n = d.len().min(V2_SIGNATURE.len());
        if d.get(..n) != V2_SIGNATURE.get(..n) {
            return Header::No;
        }
        let (Some(&ver_cmd), Some(&fam)) = (d.get(12), d.get(13)) else {
            return Header::NeedMore;
        };
        // Families: unspecified, IPv4, IPv6, Unix; transports: unspecified, stream, datagram.
        let ok = (ver_cmd == 0x20 || ver_cmd == 0x21) && fam >> 4 <= 3 && fam & 0x0f <= 2;
        return if ok { Header::Yes } else { Header::No };
    }
    const V1: &[u8] = b"PROXY ";
    let n = d.len().min(V1.len());
    if n == 0 || d.get(..n) != V1.get(..n) {
        return Header::No;
    }
    let Some(end) = d.windows(2).position(|w| w == b"\r\n") else {
        return if d.len() < V1_MAX_LINE {
            Header::NeedMore
        } else {
            Header::No
        };
    };
    if end + 2 > V1_MAX_LINE {
        return Header::No;
    }
    let line = d.get(V1.len()..end).unwrap_or_default();
    let mut words = line.split(|&b| b == b' ');
    match words.next() {
        Some(b"UNKNOWN") => Header::Yes,
        Some(b"TCP4" | b"TCP6") => {
            // Source and destination addresses, then ports.
            let rest: Vec<&[u8]> = words.collect();
            let ports_ok = rest.get(2..4).is_some_and(|p| {
                p.iter()
                    .all(|w| !w.is_empty() && w.len() <= 5 && w.iter().all(u8::is_ascii_digit))
            });
            let addrs_ok = rest.get(..2).is_some_and(|a| {
                a.iter().all(|w| {
                    std::str::from_utf8(w)
                        .ok()
                        .and_then(|s| s.parse::<std::net::IpAddr>().ok())
                        .is_some()
                })
            });
            if rest.len() == 4 && ports_ok && addrs_ok {
                Header::Yes
            } else {
                Header::No
            }
        }
        _ => Header::No,
    }
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if !ins.to_server() {
        return if ins.dir_packets[0] == 0 {
            Verdict::Continue
        } else {
            Verdict::Exclude
        };
    }
    match header(ins.data) {
        Header::Yes => {
            ins.detect(id::HAPROXY);
            Verdict::Done
        }
        Header::NeedMore => Verdict::Continue,
        Header::No => Verdict::Exclude,
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn version_1_line() {
        let mut c = Conv::tcp(&DISSECTOR, 48502, 443);
        c.client(b"PROXY TCP4 11.111.11.111 222.222.222.22 52176 443\r\n\x16\x03\x01\x00\xfd");
        assert_eq!(c.name(), "HAProxy");
        assert_eq!(header(b"PROXY UNKNOWN\r\n"), Header::Yes);
        assert_eq!(
            header(b"PROXY TCP6 2001:db8::1 2001:db8::2 1 2\r\n"),
            Header::Yes
        );
        assert_eq!(header(b"PROXY TCP4 1.2.3"), Header::NeedMore);
        assert_eq!(header(b"PROX"), Header::NeedMore);
        assert_eq!(header(b"PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n"), Header::No);
        assert_eq!(header(b"PROXY TCP4 a.b.c.d 5.6.7.8 1 2\r\n"), Header::No);
        assert_eq!(header(b"PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n"), Header::No);
        assert_eq!(header(&[b'P'; 200]), Header::No);
        assert_eq!(header(b"GET / HTTP/1.1\r\n"), Header::No);
    }

    #[test]
    fn version_2_binary() {
        let mut p = V2_SIGNATURE.to_vec();
        p.extend_from_slice(&[
            0x21, 0x11, 0, 12, 10, 0, 0, 1, 10, 0, 0, 2, 0x1f, 0x90, 0, 80,
        ]);
        let mut c = Conv::tcp(&DISSECTOR, 40000, 80);
        c.client(&p);
        assert_eq!(c.name(), "HAProxy");
        assert_eq!(header(&p[..8]), Header::NeedMore);
        let mut bad = p.clone();
        bad[12] = 0x13;
        assert_eq!(header(&bad), Header::No);
        bad = p.clone();
        bad[7] = b'X';
        assert_eq!(header(&bad), Header::No);
    }
}
