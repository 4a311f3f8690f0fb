//! UFTP (encrypted multicast file transfer, UDP 1044): versions 4 and 5 share a 16-byte
//! header — the version byte (0x40 or 0x50), the message function, a sequence number, the
//! source id, group id, group instance, GRTT, group size and a reserved zero byte — and
//! every message body starts by repeating the function. Confirmed by the version, a known
//! function, the zero byte and the repeated function.

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::UFTP,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[1044],
    inspect,
};

const HEADER_LEN: usize = 16;
/// Message functions ANNOUNCE (1) … the highest defined, PROXY_KEY.
const MAX_FUNC: u8 = 20;

/// The function of a UFTP v4/v5 message.
pub fn function(d: &[u8]) -> Option<u8> {
    let version = *d.first()?;
    let func = *d.get(1)?;
    let ok = matches!(version, 0x40 | 0x50)
        && (1..=MAX_FUNC).contains(&func)
        && *d.get(15)? == 0
        && *d.get(HEADER_LEN)? == func;
    ok.then_some(func)
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if function(ins.data).is_some() {
        ins.detect(id::UFTP);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    const ANNOUNCE: &[u8] = b"\x40\x01\x00\x00\x0a\x00\x00\x01\x96\xf4\xc3\x04\x00\x9d\x00\x00\x01\x06\x00\x14\x00\x00\x05\x14";

    #[test]
    fn announce() {
        assert_eq!(function(ANNOUNCE), Some(1));
        let mut c = Conv::udp(&DISSECTOR, 37173, 1044);
        c.client(ANNOUNCE);
        assert_eq!(c.name(), "UFTP");
    }

    #[test]
    fn rejects_others() {
        let mut m = ANNOUNCE.to_vec();
        m[16] = 2;
        assert_eq!(function(&m), None);
        let mut m = ANNOUNCE.to_vec();
        m[0] = 0x30;
        assert_eq!(function(&m), None);
        assert_eq!(function(&ANNOUNCE[..16]), None);
    }
}
