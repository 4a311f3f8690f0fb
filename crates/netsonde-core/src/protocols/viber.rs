//! Viber's TCP signalling (ports 4244, 5242 and others): messages start with their total
//! length, little-endian, and the client's opening message carries the marker 0xFC 0xFF
//! at offset 6, after the length and a 32-bit session field, ahead of flag bytes.
//! Recognised from the client's first message alone.

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::VIBER,
    transports: Transports::TCP,
    tcp_ports: &[4244, 5242],
    udp_ports: &[],
    inspect,
};

/// Smallest opening message: length, session field, marker, flags.
const MIN_LEN: usize = 12;
const MARKER: [u8; 2] = [0xFC, 0xFF];

/// Whether `d` starts with a Viber opening message filling the first `segment` bytes.
pub fn opening(d: &[u8]) -> bool {
    let (Some(&lo), Some(&hi)) = (d.first(), d.get(1)) else {
        return false;
    };
    let len = usize::from(lo) | usize::from(hi) << 8;
    len >= MIN_LEN && len == d.len() && d.get(6..8) == Some(&MARKER[..])
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if ins.to_server() && ins.dir_packets[0] == 1 && opening(ins.first_payload[0]) {
        ins.detect(id::VIBER);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::*;

    #[test]
    fn opening_message() {
        let d = [
            0x18, 0, 0, 0, 0, 0, 0xfc, 0xff, 0x05, 0x80, 0x09, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x33, 0,
            0, 0,
        ];
        assert!(opening(&d));
        // The length must cover exactly the message.
        assert!(!opening(&d[..23]));
        let mut more = d.to_vec();
        more.push(0);
        assert!(!opening(&more));
        let mut nomark = d;
        nomark[7] = 0;
        assert!(!opening(&nomark));
        assert!(!opening(&[0x02, 0]));
    }
}
