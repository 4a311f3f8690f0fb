//! MapleStory (Nexon) over TCP: the game server's hello (a 16-bit little-endian length of
//! 14, the game version, a one-character patch string) and the patcher's HTTP requests
//! ("GET /maplestory/…" from the "AspINet" client, "GET /maple/patch…" from "Patcher" to a
//! "patch." host). Tried before HTTP, as nDPI names those requests MapleStory outright.

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::MAPLESTORY,
    transports: Transports::TCP,
    tcp_ports: &[80, 8484],
    udp_ports: &[],
    inspect,
};

/// Whether `d` is the game server's hello.
pub fn is_hello(d: &[u8]) -> bool {
    d.len() == 16
        && d.get(..2) == Some(&[14, 0][..])
        && d.get(4..6) == Some(&[1, 0][..])
        && d.get(6).is_some_and(u8::is_ascii_digit)
}

/// A header's value in an HTTP request head.
fn header<'a>(head: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    head.split(|&b| b == b'\n').skip(1).find_map(|line| {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let colon = line.iter().position(|&b| b == b':')?;
        let (n, v) = line.split_at(colon);
        n.eq_ignore_ascii_case(name)
            .then(|| v.get(1..).unwrap_or_default().trim_ascii())
    })
}

/// The request head (through the last header line), once whole.
fn request_head(d: &[u8]) -> Option<&[u8]> {
    let end = d.windows(4).position(|w| w == b"\r\n\r\n")?;
    d.get(..end + 2)
}

/// Whether `d` is a whole patcher request head.
pub fn is_patcher_request(d: &[u8]) -> bool {
    let Some(head) = request_head(d) else {
        return false;
    };
    let ua = header(head, b"user-agent");
    if head.starts_with(b"GET /maplestory/") {
        return ua == Some(b"AspINet");
    }
    head.starts_with(b"GET /maple/patch")
        && ua == Some(b"Patcher")
        && header(head, b"host").is_some_and(|h| h.starts_with(b"patch."))
}

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    let d = ins.data;
    if is_hello(d) {
        ins.detect(id::MAPLESTORY);
        return Verdict::Done;
    }
    if ins.to_server() && is_patcher_request(d) {
        // The request's host and client, as an HTTP flow would report them.
        let head = request_head(d).unwrap_or_default();
        for (name, spec) in [
            (&b"host"[..], &super::http::HOST),
            (&b"user-agent"[..], &super::http::USER_AGENT),
        ] {
            if let Some(v) = header(head, name) {
                st.set_str(spec, super::wire::text(v));
            }
        }
        ins.detect(id::MAPLESTORY);
        return Verdict::Done;
    }
    // A request head still arriving.
    if ins.to_server() && d.starts_with(b"GET /maple") && d.len() < 2048 && ins.dir_packets[0] < 4 {
        return Verdict::Continue;
    }
    Verdict::Exclude
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::*;
    use crate::protocols::harness::Conv;

    const REQUEST: &[u8] =
        b"GET /maplestory/ HTTP/1.1\r\nHost: example.com\r\nUser-Agent: AspINet\r\nAccept: */*\r\n\r\n";

    #[test]
    fn patcher_requests() {
        assert!(is_patcher_request(REQUEST));
        assert!(is_patcher_request(
            b"GET /maple/patch/x.patch HTTP/1.1\r\nHost: patch.nexon.net\r\nUser-Agent: Patcher\r\n\r\n"
        ));
        assert!(!is_patcher_request(
            b"GET /maplestory/ HTTP/1.1\r\nUser-Agent: curl\r\n\r\n"
        ));
        let mut c = Conv::all(6, 60546, 80);
        c.client(REQUEST);
        assert_eq!(c.name(), "MapleStory");
        assert_eq!(
            c.meta(&crate::protocols::http::HOST).as_deref(),
            Some("example.com")
        );
        assert_eq!(
            c.meta(&crate::protocols::http::USER_AGENT).as_deref(),
            Some("AspINet")
        );
        let mut c = Conv::all(6, 60546, 80);
        c.client(b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n");
        assert_eq!(c.name(), "HTTP");
    }

    #[test]
    fn hello() {
        let h = [14, 0, 0x3a, 0, 1, 0, b'2', 1, 2, 3, 4, 5, 6, 7, 8, 9];
        assert!(is_hello(&h));
        let mut bad = h;
        bad[0] = 15;
        assert!(!is_hello(&bad));
    }
}
