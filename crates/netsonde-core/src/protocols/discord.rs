//! Discord voice (UDP): before media flows, the client discovers its public address by
//! sending an IP-discovery packet to the voice server, which answers in kind. The packet
//! is 74 bytes: type (1 request, 2 response), length 70, the client's SSRC, a 64-byte
//! NUL-padded address (empty in the request), and a port. Later packets are RTP.

use super::wire::{be16, be32};
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};
use crate::attrs;

attrs! {
    pub ADDRESS = "discord.discovered_address", Str, Identifier, "Client address reported by the voice server's IP discovery";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[&ADDRESS];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::DISCORD,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[],
    inspect,
};

const PACKET_LEN: usize = 74;
const BODY_LEN: u16 = 70;
const ADDR_LEN: usize = 64;

/// An IP-discovery packet: `(is_response, ssrc, address, port)`.
pub fn discovery(d: &[u8]) -> Option<(bool, u32, String, u16)> {
    if d.len() != PACKET_LEN || be16(d, 2)? != BODY_LEN {
        return None;
    }
    let response = match be16(d, 0)? {
        1 => false,
        2 => true,
        _ => return None,
    };
    let ssrc = be32(d, 4)?;
    let field = d.get(8..8 + ADDR_LEN)?;
    let end = field.iter().position(|&b| b == 0).unwrap_or(ADDR_LEN);
    let (addr, pad) = field.split_at(end);
    // The address is printable text, NUL-padded to the end; a request leaves it empty.
    if pad.iter().any(|&b| b != 0) || !addr.iter().all(|b| b.is_ascii_graphic()) {
        return None;
    }
    if response == addr.is_empty() {
        return None;
    }
    let port = be16(d, 8 + ADDR_LEN)?;
    Some((
        response,
        ssrc,
        String::from_utf8_lossy(addr).into_owned(),
        port,
    ))
}

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    match discovery(ins.data) {
        Some((response, _, addr, _)) => {
            ins.detect(id::DISCORD);
            if response {
                st.set_str(&ADDRESS, addr);
                Verdict::Done
            } else {
                Verdict::Continue
            }
        }
        // Media after a discovery request: the flow is confirmed and has no more to say.
        None if discovery(ins.first_payload[0]).is_some() => Verdict::Done,
        None => Verdict::Exclude,
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::*;

    fn packet(kind: u16, addr: &[u8]) -> Vec<u8> {
        let mut d = Vec::new();
        d.extend_from_slice(&kind.to_be_bytes());
        d.extend_from_slice(&70u16.to_be_bytes());
        d.extend_from_slice(&0xace3u32.to_be_bytes());
        let mut a = addr.to_vec();
        a.resize(64, 0);
        d.extend_from_slice(&a);
        d.extend_from_slice(&50004u16.to_be_bytes());
        d
    }

    #[test]
    fn request_and_response() {
        assert_eq!(
            discovery(&packet(1, b"")),
            Some((false, 0xace3, String::new(), 50004))
        );
        assert_eq!(
            discovery(&packet(2, b"84.59.132.100")),
            Some((true, 0xace3, "84.59.132.100".to_string(), 50004))
        );
        // A response must carry the address, a request must not.
        assert!(discovery(&packet(2, b"")).is_none());
        assert!(discovery(&packet(1, b"1.2.3.4")).is_none());
        assert!(discovery(&packet(3, b"")).is_none());
        let mut bad = packet(2, b"1.2.3.4");
        bad[40] = 7; // garbage after the padding starts
        assert!(discovery(&bad).is_none());
        let p = packet(1, b"");
        assert!(discovery(&p[..73]).is_none());
    }
}
