//! DNSCrypt (version 2) over UDP. A query is the client magic (8 bytes), the client's
//! public key (32), its nonce half (12) and the encrypted, padded question; the resolver's
//! answer starts with the resolver magic "r6fnvWj8" followed by the full nonce, whose
//! first half repeats the client's. An answer that echoes the query's nonce confirms.

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::DNSCRYPT,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[443],
    inspect,
};

pub const RESOLVER_MAGIC: &[u8; 8] = b"r6fnvWj8";
/// Client magic, public key, nonce half, and at least a padded block of ciphertext.
const MIN_QUERY: usize = 8 + 32 + 12 + 16;

/// The client nonce half of a query, if `d` can be one.
pub fn query_nonce(d: &[u8]) -> Option<&[u8]> {
    if d.len() < MIN_QUERY || d.starts_with(RESOLVER_MAGIC) {
        return None;
    }
    d.get(40..52)
}

/// Whether `answer` is a resolver answer to the query with `nonce`.
pub fn answers(answer: &[u8], nonce: &[u8]) -> bool {
    answer.len() >= 8 + 24 + 16
        && answer.starts_with(RESOLVER_MAGIC)
        && answer.get(8..20) == Some(nonce)
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    let Some(nonce) = query_nonce(ins.first_payload[0]) else {
        return Verdict::Exclude;
    };
    if ins.to_server() {
        return if ins.dir_packets[1] == 0 && ins.dir_packets[0] <= 4 {
            Verdict::Continue
        } else {
            Verdict::Exclude
        };
    }
    if answers(ins.data, nonce) {
        ins.detect(id::DNSCRYPT);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::*;
    use crate::protocols::harness::Conv;

    fn query() -> Vec<u8> {
        let mut q: Vec<u8> = (0..512u32).map(|i| (i * 7 + 3) as u8).collect();
        q[..8].copy_from_slice(&[0xd3, 0x1b, 0x02, 0x04, 0x2a, 0xc4, 0x06, 0xf3]);
        q
    }

    fn answer(q: &[u8]) -> Vec<u8> {
        let mut a = RESOLVER_MAGIC.to_vec();
        a.extend_from_slice(&q[40..52]);
        a.resize(240, 0x61);
        a
    }

    #[test]
    fn exchange() {
        let q = query();
        assert!(answers(&answer(&q), query_nonce(&q).expect("query")));
        let mut c = Conv::udp(&DISSECTOR, 46858, 443);
        c.client(&q).server(&answer(&q));
        assert_eq!(c.name(), "DNScrypt");
    }

    #[test]
    fn rejects_others() {
        let q = query();
        let mut a = answer(&q);
        a[10] ^= 1;
        assert!(!answers(&a, query_nonce(&q).expect("query")));
        assert!(query_nonce(&q[..60]).is_none());
        let mut c = Conv::udp(&DISSECTOR, 46858, 443);
        c.client(&q).server(&q);
        assert_eq!(c.name(), "Unknown");
    }
}
