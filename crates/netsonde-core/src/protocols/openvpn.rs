//! OpenVPN over UDP and TCP (a 16-bit length before each packet). Packets start with an
//! opcode (high five bits) and key id, then the sender's 8-byte session id. The client's
//! first packet is a hard reset (P_CONTROL_HARD_RESET_CLIENT_V2/V3, key id 0) and the
//! server's a P_CONTROL_HARD_RESET_SERVER_V2. Confirmed when the server's reset
//! acknowledges the client's session id, or when a later packet of either side repeats its
//! session id after both resets (tls-auth HMACs and tls-crypt hide the rest).

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};
use crate::attrs;

attrs! {
    pub CLIENT_SESSION = "openvpn.client_session_id", Str, Identifier, "Session id of the client (hex)";
    pub RESET_VERSION = "openvpn.reset_version", Int, Service, "Hard-reset version of the client's first packet (2, or 3 for tls-crypt-v2)";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[&CLIENT_SESSION, &RESET_VERSION];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::OPENVPN,
    transports: Transports::TCP_UDP,
    tcp_ports: &[1194],
    udp_ports: &[1194],
    inspect,
};

const HARD_RESET_CLIENT_V1: u8 = 1;
const HARD_RESET_SERVER_V1: u8 = 2;
const CONTROL_V1: u8 = 4;
const ACK_V1: u8 = 5;
const DATA_V1: u8 = 6;
const HARD_RESET_CLIENT_V2: u8 = 7;
const HARD_RESET_SERVER_V2: u8 = 8;
const DATA_V2: u8 = 9;
const HARD_RESET_CLIENT_V3: u8 = 10;
const CONTROL_WKC_V1: u8 = 11;
/// Session id length.
const SID: usize = 8;
/// Bytes of a server reset searched for the client's session id (HMAC up to 64 bytes,
/// packet id and time, ack array).
const SID_SEARCH: usize = 1 + SID + 64 + 8 + 1 + 4 + SID;
const MIN_PACKET: usize = 1 + SID + 1 + 4;
const MAX_PACKET: usize = 2048;

/// One packet of a direction's first bytes (without the TCP length).
fn packet(d: &[u8], tcp: bool) -> Option<&[u8]> {
    if tcp {
        let len = usize::from(u16::from_be_bytes([*d.first()?, *d.get(1)?]));
        d.get(2..2 + len)
    } else {
        Some(d)
    }
}

fn opcode(p: &[u8]) -> Option<(u8, u8)> {
    let b = *p.first()?;
    Some((b >> 3, b & 0x07))
}

fn session_id(p: &[u8]) -> Option<&[u8]> {
    p.get(1..1 + SID)
}

fn is_client_reset(p: &[u8]) -> bool {
    (MIN_PACKET..=MAX_PACKET).contains(&p.len())
        && matches!(
            opcode(p),
            Some((
                HARD_RESET_CLIENT_V1 | HARD_RESET_CLIENT_V2 | HARD_RESET_CLIENT_V3,
                0
            ))
        )
}

fn is_server_reset(p: &[u8]) -> bool {
    (MIN_PACKET..=MAX_PACKET).contains(&p.len())
        && matches!(
            opcode(p),
            Some((HARD_RESET_SERVER_V1 | HARD_RESET_SERVER_V2, 0))
        )
}

fn is_known_opcode(p: &[u8]) -> bool {
    matches!(
        opcode(p),
        Some((
            HARD_RESET_CLIENT_V1
                | HARD_RESET_SERVER_V1
                | CONTROL_V1
                | ACK_V1
                | DATA_V1
                | HARD_RESET_CLIENT_V2
                | HARD_RESET_SERVER_V2
                | DATA_V2
                | HARD_RESET_CLIENT_V3
                | CONTROL_WKC_V1,
            _
        ))
    )
}

/// `Some(true)` confirmed, `Some(false)` not OpenVPN, `None` not yet known.
fn probe(ins: &Inspect<'_>) -> Option<bool> {
    let tcp = ins.flow.l4 == 6;
    let [first_c, first_s] = ins.first_payload;
    // First bytes of each direction: TCP streams keep them (nothing is consumed before
    // confirmation); for UDP the first datagram is kept aside.
    let (client, server) = match (tcp, ins.to_server()) {
        (true, true) => (ins.data, first_s),
        (true, false) => (first_c, ins.data),
        (false, _) => (first_c, first_s),
    };
    // The current direction's first packet (TCP: wait while it arrives).
    let (cur_first, cur_is_client) = if ins.to_server() {
        (client, true)
    } else {
        (server, false)
    };
    let Some(cp) = packet(cur_first, tcp) else {
        let len = match cur_first {
            [a, b, ..] => Some(usize::from(u16::from_be_bytes([*a, *b]))),
            _ => None,
        };
        return match len {
            Some(l) if (MIN_PACKET..=MAX_PACKET).contains(&l) => None,
            _ if cur_first.len() < 2 => None,
            _ => Some(false),
        };
    };
    let first_ok = if cur_is_client {
        is_client_reset(cp)
    } else {
        is_server_reset(cp)
    };
    if !first_ok {
        return Some(false);
    }
    let (Some(c), Some(s)) = (packet(client, tcp), packet(server, tcp)) else {
        return None;
    };
    if !is_client_reset(c) || !is_server_reset(s) {
        return if client.is_empty() || server.is_empty() {
            None
        } else {
            Some(false)
        };
    }
    let csid = session_id(c)?;
    // The server acknowledges the client's reset with the client's session id.
    let head = s.get(..SID_SEARCH).unwrap_or(s);
    if head.windows(SID).skip(1 + SID).any(|w| w == csid) {
        return Some(true);
    }
    // Or a later packet repeats its direction's session id.
    let dir = ins.dir as usize;
    if ins.dir_packets.get(dir).copied().unwrap_or(0) >= 2 {
        let own_sid = if cur_is_client { csid } else { session_id(s)? };
        let later = if tcp {
            // The stream holds the first packet, then this one.
            let first_len = 2 + cp.len();
            ins.data
                .get(first_len..)
                .and_then(|rest| packet(rest, true))
        } else {
            Some(ins.data)
        };
        return later.map(|p| {
            is_known_opcode(p)
                && (matches!(opcode(p), Some((DATA_V1 | DATA_V2, _)))
                    || session_id(p) == Some(own_sid))
        });
    }
    None
}

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    match probe(ins) {
        Some(true) => {}
        Some(false) => return Verdict::Exclude,
        None => return Verdict::Continue,
    }
    ins.detect(id::OPENVPN);
    let tcp = ins.flow.l4 == 6;
    let [first_c, _] = ins.first_payload;
    if let Some(c) = packet(first_c, tcp) {
        if let Some(sid) = session_id(c) {
            st.set_str(&CLIENT_SESSION, crate::text::hex(sid));
        }
        let version = match opcode(c) {
            Some((HARD_RESET_CLIENT_V3, _)) => 3,
            Some((HARD_RESET_CLIENT_V2, _)) => 2,
            _ => 1,
        };
        st.set(&RESET_VERSION, crate::record::MetaValue::Int(version));
    }
    Verdict::Done
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    const CLIENT_SID: [u8; 8] = [0x39, 0xfd, 0xed, 0x2d, 0xaa, 0x10, 0xa4, 0x37];

    fn client_reset() -> Vec<u8> {
        let mut p = vec![HARD_RESET_CLIENT_V2 << 3];
        p.extend_from_slice(&CLIENT_SID);
        p.extend_from_slice(&[0, 0, 0, 0, 0]);
        p
    }

    fn server_reset(ack_client: bool) -> Vec<u8> {
        let mut p = vec![HARD_RESET_SERVER_V2 << 3];
        p.extend_from_slice(&[0x94, 0x21, 0x91, 0x7d, 0xe7, 0x26, 0x77, 0x29]);
        if ack_client {
            p.extend_from_slice(&[1, 0, 0, 0, 0]);
            p.extend_from_slice(&CLIENT_SID);
        } else {
            p.extend_from_slice(&[0xee; 13]);
        }
        p.extend_from_slice(&[0, 0, 0, 0]);
        p
    }

    fn tcp(p: &[u8]) -> Vec<u8> {
        let mut v = (p.len() as u16).to_be_bytes().to_vec();
        v.extend_from_slice(p);
        v
    }

    #[test]
    fn udp_reset_exchange() {
        let mut c = Conv::udp(&DISSECTOR, 51146, 1194);
        c.client(&client_reset());
        assert_eq!(c.name(), "Unknown");
        c.server(&server_reset(true));
        assert_eq!(c.name(), "OpenVPN");
        assert_eq!(c.meta(&CLIENT_SESSION).as_deref(), Some("39fded2daa10a437"));
        assert_eq!(c.meta(&RESET_VERSION).as_deref(), Some("2"));
    }

    #[test]
    fn tcp_with_hidden_ack() {
        let mut c = Conv::tcp(&DISSECTOR, 39772, 1194);
        c.client(&tcp(&client_reset()))
            .server(&tcp(&server_reset(false)));
        assert_eq!(c.name(), "Unknown");
        let mut next = vec![ACK_V1 << 3];
        next.extend_from_slice(&CLIENT_SID);
        next.extend_from_slice(&[0; 9]);
        c.client(&tcp(&next));
        assert_eq!(c.name(), "OpenVPN");
    }

    #[test]
    fn udp_tls_crypt() {
        let mut reset = vec![HARD_RESET_CLIENT_V3 << 3];
        reset.extend_from_slice(&CLIENT_SID);
        reset.extend_from_slice(&[0x5a; 340]);
        let mut c = Conv::udp(&DISSECTOR, 56256, 1194);
        c.client(&reset).server(&server_reset(false));
        assert_eq!(c.name(), "Unknown");
        let mut wkc = vec![CONTROL_WKC_V1 << 3];
        wkc.extend_from_slice(&CLIENT_SID);
        wkc.extend_from_slice(&[0x11; 600]);
        c.client(&wkc);
        assert_eq!(c.name(), "OpenVPN");
        assert_eq!(c.meta(&RESET_VERSION).as_deref(), Some("3"));
    }

    #[test]
    fn not_openvpn() {
        let mut c = Conv::udp(&DISSECTOR, 1, 1194);
        c.client(b"\x38 not a reset at all, just text");
        c.server(b"\x10 reply");
        assert!(!c.open);
        let mut c = Conv::udp(&DISSECTOR, 1, 1194);
        c.client(&client_reset()).server(&client_reset());
        assert!(!c.open);
        let mut c = Conv::tcp(&DISSECTOR, 1, 1194);
        c.client(b"GET / HTTP/1.1\r\n\r\n");
        assert!(!c.open);
    }
}
