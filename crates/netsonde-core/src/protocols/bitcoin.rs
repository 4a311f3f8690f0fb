//! Bitcoin peer-to-peer protocol: every message has a 24-byte header — network magic, a
//! NUL-padded lowercase ASCII command, the payload length and a checksum. Confirmed by a
//! header with a known network magic and a well-formed command; the `version` message
//! gives the peer's user agent.

use super::lines::text;
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};
use crate::attrs;

attrs! {
    pub COMMAND = "bitcoin.command", Str, Usage, "Command of the first message (version, verack, …)";
    pub NETWORK = "bitcoin.network", Str, Service, "Network named by the message magic (main, testnet3, testnet4, signet, regtest)";
    pub USER_AGENT = "bitcoin.user_agent", Str, Identifier, "User agent of the first version message";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[&COMMAND, &NETWORK, &USER_AGENT];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::BITCOIN,
    transports: Transports::TCP,
    tcp_ports: &[8333, 18333],
    udp_ports: &[],
    inspect,
};

const HEADER_LEN: usize = 24;
/// Messages are at most 32 MiB.
const MAX_PAYLOAD: u32 = 32 << 20;

fn network(magic: &[u8]) -> Option<&'static str> {
    Some(match magic {
        [0xf9, 0xbe, 0xb4, 0xd9] => "main",
        [0x0b, 0x11, 0x09, 0x07] => "testnet3",
        [0x1c, 0x16, 0x3f, 0x28] => "testnet4",
        [0x0a, 0x03, 0xcf, 0x40] => "signet",
        [0xfa, 0xbf, 0xb5, 0xda] => "regtest",
        _ => return None,
    })
}

/// A message header: network name, command, payload length.
pub fn header(d: &[u8]) -> Option<(&'static str, &[u8], u32)> {
    let net = network(d.get(..4)?)?;
    let cmd = d.get(4..16)?;
    let name_len = cmd.iter().position(|&b| b == 0).unwrap_or(cmd.len());
    let (name, pad) = cmd.split_at(name_len);
    if name.is_empty()
        || !name
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        || pad.iter().any(|&b| b != 0)
    {
        return None;
    }
    let len = u32::from_le_bytes(d.get(16..20)?.try_into().ok()?);
    (len <= MAX_PAYLOAD).then_some((net, name, len))
}

/// The user agent of a `version` payload (after version, services, time, two addresses,
/// nonce: 80 bytes), a length-prefixed string.
fn version_user_agent(p: &[u8]) -> Option<String> {
    let n = usize::from(*p.get(80)?);
    (n < 0xfd).then(|| text(p.get(81..81 + n).unwrap_or_default(), 256))
}

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    let d = ins.data;
    if d.len() < HEADER_LEN {
        let n = d.len().min(4);
        let could = [
            [0xf9, 0xbe, 0xb4, 0xd9],
            [0x0b, 0x11, 0x09, 0x07],
            [0x1c, 0x16, 0x3f, 0x28],
            [0x0a, 0x03, 0xcf, 0x40],
            [0xfa, 0xbf, 0xb5, 0xda],
        ]
        .iter()
        .any(|m| m.get(..n) == d.get(..n));
        return if could {
            Verdict::Continue
        } else {
            Verdict::Exclude
        };
    }
    let Some((net, cmd, len)) = header(d) else {
        return Verdict::Exclude;
    };
    ins.detect(id::BITCOIN);
    st.set_str(&NETWORK, net);
    st.set_str(&COMMAND, String::from_utf8_lossy(cmd));
    if cmd == b"version" {
        let end = HEADER_LEN + usize::try_from(len).unwrap_or(0);
        if let Some(ua) = d.get(HEADER_LEN..end).and_then(version_user_agent) {
            st.set_str(&USER_AGENT, ua);
        }
    }
    Verdict::Done
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    fn version_msg() -> Vec<u8> {
        let mut payload = vec![0u8; 80];
        payload.push(16);
        payload.extend_from_slice(b"/Satoshi:0.21.0/");
        payload.extend_from_slice(&[0, 0, 0, 0, 1]);
        let mut m = vec![0xf9, 0xbe, 0xb4, 0xd9];
        m.extend_from_slice(b"version\0\0\0\0\0");
        m.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        m.extend_from_slice(&[1, 2, 3, 4]);
        m.extend_from_slice(&payload);
        m
    }

    #[test]
    fn version() {
        let mut c = Conv::tcp(&DISSECTOR, 55317, 8333);
        c.client(&version_msg());
        assert_eq!(c.name(), "BITCOIN");
        assert_eq!(c.meta(&COMMAND).as_deref(), Some("version"));
        assert_eq!(c.meta(&NETWORK).as_deref(), Some("main"));
        assert_eq!(c.meta(&USER_AGENT).as_deref(), Some("/Satoshi:0.21.0/"));
    }

    #[test]
    fn bad_headers() {
        let mut m = version_msg();
        if let Some(b) = m.get_mut(12) {
            *b = b'x'; // text after the NUL padding started
        }
        assert_eq!(header(&m), None);
        let mut m = version_msg();
        if let Some(b) = m.get_mut(4) {
            *b = b'V';
        }
        assert_eq!(header(&m), None);
        let mut c = Conv::tcp(&DISSECTOR, 1, 8333);
        c.client(b"\xf9\xbe");
        assert!(c.open);
        let mut c = Conv::tcp(&DISSECTOR, 1, 8333);
        c.client(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(!c.open);
    }
}
