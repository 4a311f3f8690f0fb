//! Lustre networking (LNet over TCP, port 988): a connection opens with the acceptor's
//! connection request — the magic 0xACCE7100 and the acceptor protocol version (1), both
//! little-endian, then the target NID. Confirmed by the magic and the version.

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

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if is_connect_request(ins.data) {
        ins.detect(id::LUSTRE);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
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
}
