//! AliCloud (Alibaba Cloud) client channel over TCP: every message starts with the magic
//! 0xBABEFACE and the body length, both little-endian 32-bit; the client sends the 8-byte
//! header on its own before the body, the server header and body together. Confirmed by the
//! magic and a length that matches what follows (or a bare header).

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::ALICLOUD,
    transports: Transports::TCP,
    tcp_ports: &[],
    udp_ports: &[],
    inspect,
};

const MAGIC: u32 = 0xBABE_FACE;
const HEADER_LEN: usize = 8;
/// Largest body length accepted.
const MAX_BODY: usize = 1 << 20;

/// The body length of a message header, when `d` starts with one that fits what arrived.
pub fn header(d: &[u8]) -> Option<usize> {
    let le = |at: usize| Some(u32::from_le_bytes(d.get(at..at + 4)?.try_into().ok()?));
    if le(0)? != MAGIC {
        return None;
    }
    let len = usize::try_from(le(4)?).ok()?;
    let rest = d.len().saturating_sub(HEADER_LEN);
    (len > 0 && len <= MAX_BODY && (rest == 0 || rest == len)).then_some(len)
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    let d = ins.data;
    if d.len() < HEADER_LEN {
        let magic = MAGIC.to_le_bytes();
        let n = d.len().min(4);
        return if d.get(..n) == magic.get(..n) {
            Verdict::Continue
        } else {
            Verdict::Exclude
        };
    }
    if header(d).is_none() {
        return Verdict::Exclude;
    }
    ins.detect(id::ALICLOUD);
    Verdict::Done
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn bare_client_header() {
        let mut c = Conv::tcp(&DISSECTOR, 39018, 8999);
        c.client(b"\xce\xfa\xbe\xba\x80\x00\x00\x00");
        assert_eq!(c.name(), "AliCloud");
    }

    #[test]
    fn server_header_and_body() {
        let mut m = b"\xce\xfa\xbe\xba\x30\x00\x00\x00".to_vec();
        m.extend_from_slice(&[0x5a; 0x30]);
        assert_eq!(header(&m), Some(0x30));
        m.push(0);
        assert_eq!(header(&m), None);
    }

    #[test]
    fn rejects_other_magic() {
        assert_eq!(header(b"\xce\xfa\xbe\xbb\x80\x00\x00\x00"), None);
        assert_eq!(header(b"\xce\xfa\xbe\xba\x00\x00\x00\x00"), None);
        let mut c = Conv::tcp(&DISSECTOR, 39018, 8999);
        c.client(b"\xce\xfa");
        assert!(c.open);
        c.client(b"\xbe\xbb\x80\x00\x00\x00");
        assert!(!c.open);
    }
}
