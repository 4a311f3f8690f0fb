//! Tailscale's peer discovery ("disco") messages, sent over UDP beside the WireGuard tunnel
//! between nodes and relays: the 6-byte magic `TS` followed by the UTF-8 speech balloon
//! (U+1F4AC), the sender's 32-byte disco public key, a 24-byte nonce and a NaCl box (at
//! least its 16-byte authenticator) holding the message (ping, pong, call-me-maybe).

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static DISSECTOR: Dissector = Dissector {
    proto: id::TAILSCALE,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[41641],
    inspect,
};

const MAGIC: &[u8] = b"TS\xf0\x9f\x92\xac";
/// Magic, sender key, nonce and the box's authenticator.
const MIN_LEN: usize = 6 + 32 + 24 + 16;

/// Whether a datagram is a disco message.
pub fn is_disco(d: &[u8]) -> bool {
    d.len() >= MIN_LEN && d.starts_with(MAGIC)
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if is_disco(ins.data) {
        ins.detect(id::TAILSCALE);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn disco_ping() {
        let mut p = MAGIC.to_vec();
        p.resize(92, 0x5a);
        let mut c = Conv::udp(&DISSECTOR, 41641, 41641);
        c.client(&p);
        assert_eq!(c.name(), "Tailscale");
        assert!(!is_disco(p.get(..MIN_LEN - 1).unwrap_or_default()));
        let mut bad = p.clone();
        if let Some(b) = bad.get_mut(2) {
            *b = b'!';
        }
        assert!(!is_disco(&bad));
    }
}
