//! PostgreSQL frontend/backend protocol (TCP 5432): a client opens with an SSLRequest or
//! GSSENCRequest (length 8 and the codes 80877103 / 80877104) or a StartupMessage (its
//! length, protocol 3.0 and NUL-terminated parameters starting with a name such as
//! `user`). Confirmed by one of those openings.

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::POSTGRESQL,
    transports: Transports::TCP,
    tcp_ports: &[5432],
    udp_ports: &[],
    inspect,
};

const SSL_REQUEST: u32 = 80_877_103;
const GSSENC_REQUEST: u32 = 80_877_104;
const PROTOCOL_3: u32 = 0x0003_0000;
/// Startup messages are small; the server refuses longer ones.
const MAX_STARTUP: usize = 10_000;

fn be32(d: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(d.get(at..at + 4)?.try_into().ok()?))
}

/// A client's opening message.
pub fn is_opening(d: &[u8]) -> bool {
    let (Some(len), Some(code)) = (be32(d, 0), be32(d, 4)) else {
        return false;
    };
    let Ok(len) = usize::try_from(len) else {
        return false;
    };
    if len != d.len() {
        return false;
    }
    match code {
        SSL_REQUEST | GSSENC_REQUEST => len == 8,
        PROTOCOL_3 => {
            let params = d.get(8..).unwrap_or_default();
            len <= MAX_STARTUP
                && params.last() == Some(&0)
                && params
                    .iter()
                    .take_while(|&&b| b != 0)
                    .all(|&b| b.is_ascii_lowercase() || b == b'_')
                && params.first().is_some_and(u8::is_ascii_lowercase)
        }
        _ => false,
    }
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if ins.to_server() && is_opening(ins.data) {
        ins.detect(id::POSTGRESQL);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn ssl_request() {
        let mut c = Conv::tcp(&DISSECTOR, 59038, 5432);
        c.client(b"\x00\x00\x00\x08\x04\xd2\x16\x2f");
        assert_eq!(c.name(), "PostgreSQL");
    }

    #[test]
    fn startup_and_others() {
        let mut m =
            b"\x00\x00\x00\x00\x00\x03\x00\x00user\x00bob\x00database\x00db\x00\x00".to_vec();
        let n = m.len() as u32;
        m.splice(0..4, n.to_be_bytes());
        assert!(is_opening(&m));
        assert!(!is_opening(b"\x00\x00\x00\x09\x04\xd2\x16\x2f"));
        assert!(!is_opening(b"\x00\x00\x00\x08\x04\xd2\x16\x31"));
    }
}
