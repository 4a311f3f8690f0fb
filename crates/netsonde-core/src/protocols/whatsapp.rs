//! WhatsApp's chat connection (TCP 5222 or 443). The client opens the stream with a
//! prologue: `WA` and two version bytes, after which frames follow, each behind a 3-byte
//! big-endian length. Newer clients put a routing preamble first: `ED`, two version bytes
//! (0, 1), then one framed routing header, then the `WA` prologue. Only the client's opening
//! bytes are read; everything after the prologue is Noise-encrypted.

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::WHATSAPP,
    transports: Transports::TCP,
    tcp_ports: &[5222, 443],
    udp_ports: &[],
    inspect,
};

/// Largest routing header accepted after the `ED` preamble.
const MAX_ROUTING: usize = 64;

/// What the client's opening bytes say.
#[derive(Debug, PartialEq, Eq)]
pub enum Opening {
    /// A WhatsApp prologue (`WA` + version), possibly behind the routing preamble.
    WhatsApp,
    /// A prefix of a prologue: more bytes are needed.
    Partial,
    No,
}

/// Checks `WA` + a version: major 1-9, then a 3-byte frame length when present.
fn prologue(d: &[u8]) -> Opening {
    let want = [b'W', b'A'];
    for (i, w) in want.iter().enumerate() {
        match d.get(i) {
            None => return Opening::Partial,
            Some(b) if b != w => return Opening::No,
            _ => {}
        }
    }
    match d.get(2) {
        None => Opening::Partial,
        Some(1..=9) => match d.get(3) {
            None => Opening::Partial,
            // The first frame's length must not be absurd (frames are at most 16 MiB by
            // construction; a client hello is small).
            Some(_) => match d.get(4) {
                Some(&hi) if hi != 0 => Opening::No,
                _ => Opening::WhatsApp,
            },
        },
        Some(_) => Opening::No,
    }
}

/// Classifies the client's first stream bytes.
pub fn opening(d: &[u8]) -> Opening {
    match d.first() {
        None => Opening::Partial,
        Some(b'W') => prologue(d),
        Some(b'E') => {
            let pre = [b'E', b'D', 0, 1];
            for (i, w) in pre.iter().enumerate() {
                match d.get(i) {
                    None => return Opening::Partial,
                    Some(b) if b != w => return Opening::No,
                    _ => {}
                }
            }
            // A 3-byte length, the routing header, then the prologue.
            let (Some(&a), Some(&b), Some(&c)) = (d.get(4), d.get(5), d.get(6)) else {
                return Opening::Partial;
            };
            let len = usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c);
            if len == 0 || len > MAX_ROUTING {
                return Opening::No;
            }
            match d.get(7 + len..) {
                Some(rest) => prologue(rest),
                None => Opening::Partial,
            }
        }
        Some(_) => Opening::No,
    }
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    // Only the client speaks first; its stream start decides.
    if !ins.to_server() {
        return if ins.first_payload[0].is_empty() {
            Verdict::Exclude
        } else {
            Verdict::Continue
        };
    }
    match opening(ins.data) {
        Opening::WhatsApp => {
            ins.detect(id::WHATSAPP);
            Verdict::Done
        }
        Opening::Partial if ins.dir_packets[0] < 4 => Verdict::Continue,
        _ => Verdict::Exclude,
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::*;

    #[test]
    fn plain_prologue() {
        let d = [b'W', b'A', 1, 5, 0, 0, 0x17, 0xf8, 5];
        assert_eq!(opening(&d), Opening::WhatsApp);
        assert_eq!(opening(&d[..3]), Opening::Partial);
        assert_eq!(opening(&d[..4]), Opening::WhatsApp);
        assert_eq!(opening(b"WAX"), Opening::No);
        assert_eq!(opening(b"WA\x00\x05"), Opening::No);
        // A huge first frame is not a client hello.
        assert_eq!(opening(&[b'W', b'A', 1, 5, 0x40, 0, 0]), Opening::No);
        assert_eq!(opening(b"GET / HTTP/1.1"), Opening::No);
    }

    #[test]
    fn routing_preamble() {
        let mut d = vec![b'E', b'D', 0, 1, 0, 0, 4, 8, 9, 8, 2];
        d.extend_from_slice(&[b'W', b'A', 5, 2, 0, 1, 0x0e]);
        assert_eq!(opening(&d), Opening::WhatsApp);
        // The preamble alone arrives in its own segment first.
        assert_eq!(opening(&d[..4]), Opening::Partial);
        assert_eq!(opening(&d[..9]), Opening::Partial);
        // Something else after the routing header.
        let mut bad = d.clone();
        bad[11] = b'X';
        assert_eq!(opening(&bad), Opening::No);
        // Other preamble versions or absurd lengths.
        assert_eq!(opening(b"ED\x00\x02"), Opening::No);
        assert_eq!(opening(&[b'E', b'D', 0, 1, 0, 1, 0]), Opening::No);
        assert_eq!(opening(&[b'E', b'D', 0, 1, 0, 0, 0]), Opening::No);
    }
}
