//! IKE (ISAKMP / IKEv1, RFC 2408/2409, and IKEv2, RFC 7296) over UDP, with or without the
//! NAT-traversal non-ESP marker (four zero bytes, RFC 3948). nDPI names it `IPSec`, as
//! ESP. Confirmed by the 28-byte header: a non-zero initiator SPI, a next-payload and an
//! exchange type valid for the version, and a length equal to the message's.

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};
use crate::attrs;
use crate::record::MetaValue;

attrs! {
    pub VERSION = "ike.version", Int, Service, "IKE major version (1 = ISAKMP/IKEv1, 2 = IKEv2)";
    pub EXCHANGE = "ike.exchange", Str, Usage, "Exchange type of the first message (main, aggressive, ike_sa_init, …)";
    pub INITIATOR_SPI = "ike.initiator_spi", Str, Identifier, "Initiator SPI of the security association, hex";
    pub NAT_T = "ike.nat_traversal", Int, Service, "1 when IKE runs behind the NAT-traversal non-ESP marker";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[&VERSION, &EXCHANGE, &INITIATOR_SPI, &NAT_T];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::ESP,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[500, 4500],
    inspect,
};

const HEADER_LEN: usize = 28;
const NON_ESP_MARKER: [u8; 4] = [0; 4];

/// A parsed IKE header.
#[derive(Debug, PartialEq, Eq)]
pub struct Header {
    pub version: u8,
    pub exchange: &'static str,
    pub initiator_spi: u64,
}

fn exchange_name(version: u8, t: u8) -> Option<&'static str> {
    Some(match (version, t) {
        (1, 1) => "base",
        (1, 2) => "main",
        (1, 3) => "authentication_only",
        (1, 4) => "aggressive",
        (1, 5) => "informational",
        (1, 6) => "transaction",
        (1, 32) => "quick",
        (1, 33) => "new_group",
        (2, 34) => "ike_sa_init",
        (2, 35) => "ike_auth",
        (2, 36) => "create_child_sa",
        (2, 37) => "informational",
        (2, 38) => "ike_session_resume",
        (2, 43) => "ike_intermediate",
        (2, 44) => "ike_followup_kex",
        _ => return None,
    })
}

/// Payload types 1..=32 are IKEv1's, 33 and up IKEv2's (unassigned and private-use values
/// included: they are seen in the wild).
fn next_payload_ok(version: u8, np: u8) -> bool {
    match version {
        1 => np <= 32 || np >= 128,
        _ => np == 0 || np >= 33,
    }
}

/// The header of one IKE message that fills `d` exactly.
pub fn header(d: &[u8]) -> Option<Header> {
    if d.len() < HEADER_LEN {
        return None;
    }
    let initiator_spi = u64::from_be_bytes(d.get(..8)?.try_into().ok()?);
    let np = *d.get(16)?;
    let ver = *d.get(17)?;
    let (major, minor) = (ver >> 4, ver & 0x0f);
    let length = u32::from_be_bytes(d.get(24..28)?.try_into().ok()?);
    if initiator_spi == 0 || !matches!(major, 1 | 2) || minor != 0 || !next_payload_ok(major, np) {
        return None;
    }
    let exchange = exchange_name(major, *d.get(18)?)?;
    (usize::try_from(length).ok()? == d.len()).then_some(Header {
        version: major,
        exchange,
        initiator_spi,
    })
}

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    let d = ins.data;
    // NAT-T keepalives (one 0xff byte) say nothing either way.
    if d == [0xff] {
        return Verdict::Continue;
    }
    let (msg, nat_t) = match d.strip_prefix(&NON_ESP_MARKER) {
        Some(rest) => (rest, true),
        None => (d, false),
    };
    let Some(h) = header(msg) else {
        return Verdict::Exclude;
    };
    ins.detect(id::ESP);
    st.set(&VERSION, MetaValue::Int(i64::from(h.version)));
    st.set_str(&EXCHANGE, h.exchange);
    st.set_str(&INITIATOR_SPI, format!("{:016x}", h.initiator_spi));
    if nat_t {
        st.set(&NAT_T, MetaValue::Int(1));
    }
    Verdict::Done
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    fn ike(version: u8, exchange: u8, np: u8, body: usize) -> Vec<u8> {
        let mut m = vec![0xb6, 0x4e, 0xf3, 0x21, 0x31, 0xa4, 0x89, 0x52];
        m.extend_from_slice(&[0; 8]);
        m.extend_from_slice(&[np, version << 4, exchange, 0x08, 0, 0, 0, 0]);
        m.extend_from_slice(&((HEADER_LEN + body) as u32).to_be_bytes());
        m.resize(HEADER_LEN + body, 0x22);
        m
    }

    #[test]
    fn ikev2_sa_init() {
        let mut c = Conv::udp(&DISSECTOR, 10500, 500);
        c.client(&ike(2, 34, 33, 100));
        assert_eq!(c.name(), "IPSec");
        assert_eq!(c.meta(&VERSION).as_deref(), Some("2"));
        assert_eq!(c.meta(&EXCHANGE).as_deref(), Some("ike_sa_init"));
        assert_eq!(c.meta(&INITIATOR_SPI).as_deref(), Some("b64ef32131a48952"));
        assert_eq!(c.meta(&NAT_T), None);
    }

    #[test]
    fn nat_traversal_ikev1() {
        let mut pkt = NON_ESP_MARKER.to_vec();
        pkt.extend_from_slice(&ike(1, 2, 1, 60));
        let mut c = Conv::udp(&DISSECTOR, 14500, 4500);
        c.client(&[0xff]).client(&pkt);
        assert_eq!(c.name(), "IPSec");
        assert_eq!(c.meta(&EXCHANGE).as_deref(), Some("main"));
        assert_eq!(c.meta(&NAT_T).as_deref(), Some("1"));
    }

    #[test]
    fn rejects() {
        let mut bad_len = ike(2, 34, 33, 100);
        bad_len.push(0);
        assert_eq!(header(&bad_len), None);
        assert_eq!(header(&ike(2, 2, 33, 10)), None); // IKEv1 exchange with IKEv2 version
        assert_eq!(header(&ike(3, 34, 33, 10)), None);
        assert_eq!(header(&ike(2, 34, 7, 10)), None); // an IKEv1 payload type
        let mut zero_spi = ike(2, 34, 33, 10);
        zero_spi.iter_mut().take(8).for_each(|b| *b = 0);
        assert_eq!(header(&zero_spi), None);
        let mut c = Conv::udp(&DISSECTOR, 1, 500);
        c.client(b"\x01\x02\x03");
        assert!(!c.open);
    }
}
