//! The Elder Scrolls Online (TCP). Game messages are framed by a 32-bit big-endian length
//! of what follows; the client's login message carries two 16-bit fields of 1, a second
//! length (the message less those 8 bytes) and, after the account and language strings,
//! either the "eso.live" client version or a zlib stream (0x78 0x9c) of the rest.

use super::wire::be32;
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::TESO,
    transports: Transports::TCP,
    tcp_ports: &[],
    udp_ports: &[],
    inspect,
};

/// Whether `d` is one whole framed login message.
pub fn is_login(d: &[u8]) -> bool {
    let (Some(outer), Some(inner)) = (be32(d, 0), be32(d, 8)) else {
        return false;
    };
    let n = d.len();
    n >= 600
        && usize::try_from(outer).is_ok_and(|o| o + 4 == n)
        && usize::try_from(inner).is_ok_and(|i| i + 12 == n)
        && d.get(4..8) == Some(&[0, 1, 0, 1][..])
        && (contains(d, b"eso.live") || contains(d, &[0x8b, 0x78, 0x9c, 0x01]))
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Whether `d` is the start of a login message still arriving in later segments.
fn login_in_progress(d: &[u8]) -> bool {
    be32(d, 0).is_some_and(|n| (596..=65536).contains(&n) && (n as usize) + 4 > d.len())
        && d.get(4..8)
            .is_some_and(|w| w == [0, 1, 0, 1] || d.len() < 8)
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if !ins.to_server() {
        return Verdict::Continue;
    }
    if is_login(ins.data) {
        ins.detect(id::TESO);
        return Verdict::Done;
    }
    if login_in_progress(ins.data) && ins.dir_packets[0] < 4 {
        return Verdict::Continue;
    }
    Verdict::Exclude
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::*;
    use crate::protocols::harness::Conv;

    fn login(marker: &[u8]) -> Vec<u8> {
        let n: u32 = 700;
        let mut p = Vec::new();
        p.extend_from_slice(&(n - 4).to_be_bytes());
        p.extend_from_slice(&[0, 1, 0, 1]);
        p.extend_from_slice(&(n - 12).to_be_bytes());
        p.extend_from_slice(&[0x01, 0x10, 0x00, 0x04]);
        p.extend_from_slice(b"user\0\0\x00\x02ru");
        p.extend_from_slice(marker);
        p.resize(n as usize, 0x33);
        p
    }

    #[test]
    fn login_messages() {
        assert!(is_login(&login(b"eso.live.9.3.6")));
        assert!(is_login(&login(&[0, 0, 0, 0x8b, 0x78, 0x9c, 0x01])));
        let mut c = Conv::tcp(&DISSECTOR, 47860, 24504);
        c.client(&login(b"eso.live.9.3.6"));
        assert_eq!(c.name(), "TES_Online");
    }

    #[test]
    fn rejects_others() {
        assert!(!is_login(&login(b"nothing here")));
        let mut p = login(b"eso.live");
        p[3] ^= 1;
        assert!(!is_login(&p));
        let mut p = login(b"eso.live");
        p[5] = 2;
        assert!(!is_login(&p));
        assert!(!is_login(&login(b"eso.live")[..300]));
    }

    #[test]
    fn login_split_over_segments() {
        let p = login(b"eso.live.9.3.6");
        let mut c = Conv::tcp(&DISSECTOR, 47860, 24504);
        c.client(&p[..300]);
        assert_eq!(c.name(), "Unknown");
        c.client(&p[300..]);
        assert_eq!(c.name(), "TES_Online");
    }
}
