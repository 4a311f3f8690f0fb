//! Siemens S7 communication (ISO-on-TCP, port 102): TPKT frames (version 3, reserved 0, a
//! 16-bit length of the whole frame) carrying COTP. The connection opens with a COTP
//! connection request and confirm; the first data TPDU then starts with the S7 protocol id:
//! 0x32 for S7Comm (its PDU type 1-3 or 7) or 0x72 for S7CommPlus (version 1-3).

use super::wire::{be16, u8_at};
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static DISSECTOR: Dissector = Dissector {
    proto: id::S7COMM,
    transports: Transports::TCP,
    tcp_ports: &[102],
    udp_ports: &[],
    inspect,
};

/// COTP TPDU codes (high nibble).
const COTP_CR: u8 = 0xe0;
const COTP_CC: u8 = 0xd0;
const COTP_DT: u8 = 0xf0;

/// What the frames at the start of a stream show.
#[derive(Debug, PartialEq)]
pub enum Found {
    /// Not TPKT/COTP.
    No,
    /// Well-formed frames without S7 data yet.
    Pending,
    /// An S7 protocol in a data TPDU.
    S7(crate::classify::ProtoId),
}

/// Walks the TPKT frames of `d`.
pub fn scan(d: &[u8]) -> Found {
    let mut at = 0;
    while at < d.len() {
        if u8_at(d, at) != Some(3) || !matches!(u8_at(d, at + 1), None | Some(0)) {
            return Found::No;
        }
        let Some(len) = be16(d, at + 2).map(usize::from) else {
            return Found::Pending;
        };
        let Some(li) = u8_at(d, at + 4).map(usize::from) else {
            return Found::Pending;
        };
        // The COTP header (length byte included) lies inside the frame.
        if len < 7 || li < 2 || 5 + li > len {
            return Found::No;
        }
        let Some(code) = u8_at(d, at + 5) else {
            return Found::Pending;
        };
        match code & 0xf0 {
            COTP_CR | COTP_CC => {}
            COTP_DT => {
                let data = at + 5 + li;
                if data < at + len {
                    match (u8_at(d, data), u8_at(d, data + 1)) {
                        (Some(0x32), Some(1..=3 | 7)) => return Found::S7(id::S7COMM),
                        (Some(0x72), Some(1..=3)) => return Found::S7(id::S7COMM_PLUS),
                        (Some(_), Some(_)) => return Found::No,
                        _ => return Found::Pending,
                    }
                }
            }
            _ => return Found::No,
        }
        at += len;
    }
    Found::Pending
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    match scan(ins.data) {
        Found::S7(p) => {
            ins.detect(p);
            Verdict::Done
        }
        Found::Pending if ins.packet_no < 12 => Verdict::Continue,
        _ => Verdict::Exclude,
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    const CR: &[u8] =
        b"\x03\x00\x00\x16\x11\xe0\x00\x00\x00\x07\x00\xc1\x02\x01\x00\xc2\x02\x01\x02\xc0\x01\x0a";
    const CC: &[u8] =
        b"\x03\x00\x00\x16\x11\xd0\x00\x07\x00\x03\x00\xc0\x01\x0a\xc1\x02\x01\x00\xc2\x02\x01\x02";
    const SETUP: &[u8] = b"\x03\x00\x00\x19\x02\xf0\x80\x32\x01\x00\x00\x02\x00\x00\x08\x00\x00\xf0\x00\x00\x01\x00\x01\x01\xe0";

    #[test]
    fn s7comm_after_cotp_connection() {
        let mut c = Conv::tcp(&DISSECTOR, 4185, 102);
        c.client(CR).server(CC);
        assert!(c.open);
        c.client(SETUP);
        assert_eq!(c.name(), "S7Comm");
    }

    #[test]
    fn s7comm_plus() {
        let mut d = b"\x03\x00\x00\x0f\x02\xf0\x80\x72\x01\x00\x04\x31\x00\x00\x04".to_vec();
        assert_eq!(scan(&d), Found::S7(id::S7COMM_PLUS));
        d[8] = 9;
        assert_eq!(scan(&d), Found::No);
    }

    #[test]
    fn rejects() {
        // Other data over COTP (an MMS session PDU).
        assert_eq!(
            scan(b"\x03\x00\x00\x0b\x02\xf0\x80\x0d\x01\x00\x00"),
            Found::No
        );
        assert_eq!(scan(b"\x03\x00\x00\x05\x02\xf0\x80"), Found::No);
        assert_eq!(scan(b"\x16\x03\x01\x00\x05"), Found::No);
        assert_eq!(scan(&CR[..3]), Found::Pending);
        let mut c = Conv::tcp(&DISSECTOR, 4185, 102);
        c.client(b"GET / HTTP/1.1\r\n");
        assert!(!c.open);
    }
}
