//! Lustre networking (LNet over TCP, port 988): a connection opens with the acceptor's
//! connection request — the magic 0xACCE7100 and the acceptor protocol version (1), both
//! little-endian, then the target NID. Confirmed by the magic and the version. A connection
//! seen after its opening carries socklnd messages: a type (0xc1, an LNet message), a
//! checksum and two zero-copy cookies, then the LNet header whose destination and source
//! NIDs (little-endian: an IPv4 address, then the network number and the LND type, 2 for
//! the TCP socket LND) name the two ends of the connection.

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::LUSTRE,
    transports: Transports::TCP,
    tcp_ports: &[988],
    udp_ports: &[],
    inspect,
};

const ACCEPTOR_MAGIC: u32 = 0xACCE_7100;
const ACCEPTOR_VERSION: u32 = 1;

/// An acceptor connection request.
pub fn is_connect_request(d: &[u8]) -> bool {
    let le = |at: usize| {
        d.get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_le_bytes)
    };
    d.len() >= 16 && le(0) == Some(ACCEPTOR_MAGIC) && le(4) == Some(ACCEPTOR_VERSION)
}

/// socklnd message type of an LNet message.
const KSOCK_MSG_LNET: u8 = 0xc1;
/// LND type of the TCP socket LND in a NID.
const SOCKLND: u8 = 2;
/// Where the LNet header starts in a socklnd message.
const LNET_HEADER: usize = 24;

/// Whether `nid` (8 bytes, little-endian) is the TCP NID of the IPv4 address `ip`.
fn is_tcp_nid(nid: &[u8], ip: &[u8]) -> bool {
    let (Some(addr), Some(&lnd)) = (nid.get(..4), nid.get(6)) else {
        return false;
    };
    lnd == SOCKLND && nid.get(7) == Some(&0) && addr.iter().rev().eq(ip.iter())
}

/// An LNet message from `from` to `to` (IPv4 addresses).
pub fn is_lnet_message(d: &[u8], from: &[u8], to: &[u8]) -> bool {
    if d.first() != Some(&KSOCK_MSG_LNET) || d.get(1..4) != Some(&[0, 0, 0]) {
        return false;
    }
    let (Some(dest), Some(src)) = (
        d.get(LNET_HEADER..LNET_HEADER + 8),
        d.get(LNET_HEADER + 8..LNET_HEADER + 16),
    ) else {
        return false;
    };
    is_tcp_nid(dest, to) && is_tcp_nid(src, from)
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    let f = &ins.flow;
    let (client, server) = (f.client_ip.get(..4), f.server_ip.get(..4));
    let (from, to) = if ins.to_server() {
        (client, server)
    } else {
        (server, client)
    };
    if let (4, Some(from), Some(to)) = (f.ip_version, from, to) {
        if is_lnet_message(ins.data, from, to) {
            ins.detect(id::LUSTRE);
            return Verdict::Done;
        }
    }
    if is_connect_request(ins.data) {
        ins.detect(id::LUSTRE);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn acceptor_request() {
        let m = b"\x00\x71\xce\xac\x01\x00\x00\x00\x83\x58\xa8\xc0\x00\x00\x02\x00";
        let mut c = Conv::tcp(&DISSECTOR, 1022, 988);
        c.client(m);
        assert_eq!(c.name(), "Lustre");
        assert!(!is_connect_request(
            b"\x00\x71\xce\xac\x02\x00\x00\x00\x83\x58\xa8\xc0\x00\x00\x02\x00"
        ));
    }

    #[test]
    fn lnet_message_between_the_ends() {
        let mut m = vec![0xc1, 0, 0, 0];
        m.extend_from_slice(&[0; 20]);
        m.extend_from_slice(b"\x77\x58\xa8\xc0\x00\x00\x02\x00\x76\x58\xa8\xc0\x00\x00\x02\x00");
        m.extend_from_slice(b"\x39\x30\x00\x00\x39\x30\x00\x00\x01\x00\x00\x00");
        let (a, b) = ([192, 168, 88, 118], [192, 168, 88, 119]);
        assert!(is_lnet_message(&m, &a, &b));
        assert!(!is_lnet_message(&m, &b, &a));
        m[0] = 0xc0;
        assert!(!is_lnet_message(&m, &a, &b));
    }
}
