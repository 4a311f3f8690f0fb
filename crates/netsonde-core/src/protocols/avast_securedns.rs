//! AVAST SecureDNS: DNSCrypt to Avast's resolvers. A session opens with the DNSCrypt
//! certificate request, a plain DNS query for the TXT record `2.securedns.avast.com` (the
//! client randomises the name's letter case); the answer carries the `DNSC` certificate.
//! Confirmed by that question in a well-formed DNS message (one question, standard query).
//! Listed before DNS so that the resolver exchange is not taken for ordinary DNS.

use super::dns::read_name;
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::AVAST_SECURE_DNS,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[],
    inspect,
};

/// The DNSCrypt provider name of Avast's resolvers (protocol version 2).
const PROVIDER: &str = "2.securedns.avast.com";
const TYPE_TXT: u16 = 16;
const HEADER_LEN: usize = 12;

fn be16(d: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(d.get(at..at + 2)?.try_into().ok()?))
}

/// A DNS message whose single question asks for the provider's TXT certificate.
pub fn is_cert_exchange(d: &[u8]) -> bool {
    let (Some(flags), Some(qd)) = (be16(d, 2), be16(d, 4)) else {
        return false;
    };
    // Standard query (opcode 0), one question.
    if flags & 0x7800 != 0 || qd != 1 {
        return false;
    }
    let Some((name, after)) = read_name(d, HEADER_LEN) else {
        return false;
    };
    name == PROVIDER && be16(d, after) == Some(TYPE_TXT)
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if is_cert_exchange(ins.data) {
        ins.detect(id::AVAST_SECURE_DNS);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    const QUERY: &[u8] = b"\x48\xc4\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x012\tSeCURednS\x05aVasT\x03CoM\x00\x00\x10\x00\x01";

    #[test]
    fn certificate_query() {
        assert!(is_cert_exchange(QUERY));
        let mut c = Conv::all(17, 57970, 443);
        c.client(QUERY);
        assert_eq!(c.name(), "AVASTSecureDNS");
    }

    #[test]
    fn other_questions() {
        let mut a = QUERY.to_vec();
        a[36] = 1; // type A
        assert!(!is_cert_exchange(&a));
        let mut other = QUERY.to_vec();
        other[20] = b'x';
        assert!(!is_cert_exchange(&other));
        let mut two = QUERY.to_vec();
        two[5] = 2;
        assert!(!is_cert_exchange(&two));
    }
}
