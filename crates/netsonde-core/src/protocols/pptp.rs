//! PPTP control connection (RFC 2637, TCP 1723): every control message has a 12-byte
//! header — length, message type (1 control, 2 management), the magic cookie 0x1A2B3C4D,
//! a control message type 1..=15 and a reserved zero. Confirmed by the magic cookie with a
//! defined message type and a length that covers the header.

use super::wire::{be16, be32};
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::PPTP,
    transports: Transports::TCP,
    tcp_ports: &[1723],
    udp_ports: &[],
    inspect,
};

const MAGIC: u32 = 0x1A2B_3C4D;
const HEADER_LEN: usize = 12;

/// The control message type of a sound header at the start of `d`; `Some(None)` while the
/// header is still arriving.
pub fn control(d: &[u8]) -> Option<Option<u16>> {
    let (Some(len), Some(kind), Some(magic), Some(ctrl), Some(reserved)) =
        (be16(d, 0), be16(d, 2), be32(d, 4), be16(d, 8), be16(d, 10))
    else {
        return (d.len() < HEADER_LEN).then_some(None);
    };
    let ok = magic == MAGIC
        && matches!(kind, 1 | 2)
        && (1..=15).contains(&ctrl)
        && reserved == 0
        && usize::from(len) >= HEADER_LEN;
    ok.then_some(Some(ctrl))
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    match control(ins.data) {
        Some(Some(_)) => {
            ins.detect(id::PPTP);
            Verdict::Done
        }
        Some(None) => Verdict::Continue,
        None => Verdict::Exclude,
    }
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn start_control_connection_request() {
        let m = b"\x00\x9c\x00\x01\x1a\x2b\x3c\x4d\x00\x01\x00\x00\x01\x00\x00\x00";
        assert_eq!(control(m), Some(Some(1)));
        assert_eq!(control(b"\x00\x9c\x00\x01\x1a"), Some(None));
        assert_eq!(
            control(b"\x00\x9c\x00\x01\x1a\x2b\x3c\x4e\x00\x01\x00\x00"),
            None
        );
        assert_eq!(
            control(b"\x00\x9c\x00\x01\x1a\x2b\x3c\x4d\x00\x10\x00\x00"),
            None
        );
        let mut c = Conv::tcp(&DISSECTOR, 41366, 1723);
        c.client(m);
        assert_eq!(c.name(), "PPTP");
    }
}
