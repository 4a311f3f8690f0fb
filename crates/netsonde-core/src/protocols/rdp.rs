//! RDP: the connection starts with a TPKT-framed X.224 Connection Request (RFC 1006 / ITU
//! X.224) carrying RDP's own variable part — a `Cookie: mstshash=` line or routing token,
//! and/or an RDP_NEG_REQ — answered by a Connection Confirm with RDP_NEG_RSP. Confirmed by
//! the request (which sets it apart from other X.224 users such as S7comm, whose requests
//! carry TSAP parameters). When the server picks TLS or CredSSP the flow is handed to TLS
//! for the handshake's metadata; it stays named RDP.
//!
//! Over UDP (MS-RDPEUDP, the transport RDP 8+ adds beside TCP), a connection opens with a
//! SYN datagram zero-padded to 1232 bytes: no acknowledgement yet (`snSourceAck` all ones),
//! the SYN flag, the initial sequence number and both MTUs (1132-1232); the server answers
//! with SYN and ACK, acknowledging that sequence number.

use super::lines::text;
use super::{id, Dissector, DissectorState, Inspect, ProtoState, Transports, Verdict};
use crate::attrs;
use crate::record::MetaValue;

attrs! {
    pub COOKIE = "rdp.cookie", Str, Identifier, "User name of the mstshash cookie (or the routing token) in the connection request";
    pub REQUESTED_PROTOCOLS = "rdp.requested_protocols", Int, Security, "Security protocols the client offers (bit 0 TLS, 1 CredSSP, 3 CredSSP with early auth)";
    pub SELECTED_PROTOCOL = "rdp.selected_protocol", Int, Security, "Security protocol the server selected (0 = standard RDP security)";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] =
    &[&COOKIE, &REQUESTED_PROTOCOLS, &SELECTED_PROTOCOL, &UDP_MTU];

attrs! {
    pub UDP_MTU = "rdp.udp_mtu", Int, Performance, "Upstream MTU a client offers in its RDP-UDP SYN (1132-1232)";
}

pub static UDP_DISSECTOR: Dissector = Dissector {
    proto: id::RDP,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[3389],
    inspect: inspect_udp,
};

/// MS-RDPEUDP 2.2.2.5: the flags of the FEC header.
const RDPUDP_FLAG_SYN: u16 = 0x0001;
const RDPUDP_FLAG_ACK: u16 = 0x0004;
/// The size a SYN datagram is padded to, and the MTU range.
const RDPUDP_SYN_SIZE: usize = 1232;
const RDPUDP_MTUS: std::ops::RangeInclusive<u16> = 1132..=1232;

/// A SYN (client) or SYN+ACK (server) datagram: its flags and upstream MTU.
fn rdpudp_syn(d: &[u8]) -> Option<(u16, u16)> {
    let be16 = |at| super::wire::be16(d, at);
    let flags = be16(6)?;
    let (up, down) = (be16(12)?, be16(14)?);
    let ok = flags & RDPUDP_FLAG_SYN != 0
        && RDPUDP_MTUS.contains(&up)
        && RDPUDP_MTUS.contains(&down)
        && (flags & RDPUDP_FLAG_ACK != 0
            || (d.get(..4) == Some(&[0xff; 4]) && d.len() >= RDPUDP_SYN_SIZE));
    ok.then_some((flags, up))
}

fn inspect_udp(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    match rdpudp_syn(ins.data) {
        Some((flags, up)) if ins.to_server() && flags & RDPUDP_FLAG_ACK == 0 => {
            ins.detect(id::RDP);
            st.meta.set(&UDP_MTU, MetaValue::Int(i64::from(up)));
            Verdict::Done
        }
        Some(_) if !ins.to_server() => {
            ins.detect(id::RDP);
            Verdict::Done
        }
        _ => Verdict::Exclude,
    }
}

pub static DISSECTOR: Dissector = Dissector {
    proto: id::RDP,
    transports: Transports::TCP,
    tcp_ports: &[3389],
    udp_ports: &[],
    inspect,
};

const TPKT_HEADER: usize = 4;
const CONNECTION_REQUEST: u8 = 0xe0;
const CONNECTION_CONFIRM: u8 = 0xd0;
const NEG_REQ: u8 = 1;
const NEG_RSP: u8 = 2;
const MSTSHASH: &[u8] = b"Cookie: mstshash=";

#[derive(Default, Debug)]
pub struct State;

/// One TPKT packet at the start of `d`: `Some(Ok(payload))` whole, `Some(Err(()))` while
/// it arrives, `None` when `d` is not TPKT.
#[allow(clippy::type_complexity)]
fn tpkt(d: &[u8]) -> Option<Result<&[u8], ()>> {
    if *d.first()? != 3 || d.get(1).is_some_and(|&b| b != 0) {
        return None;
    }
    let (Some(&hi), Some(&lo)) = (d.get(2), d.get(3)) else {
        return Some(Err(()));
    };
    let len = usize::from(u16::from_be_bytes([hi, lo]));
    if len < TPKT_HEADER + 3 {
        return None;
    }
    Some(d.get(TPKT_HEADER..len).ok_or(()))
}

/// The X.224 TPDU of a TPKT payload: its code and variable part (after the 7-byte
/// CR/CC header).
fn x224(p: &[u8]) -> Option<(u8, &[u8])> {
    let li = usize::from(*p.first()?);
    if li + 1 != p.len() || li < 6 {
        return None;
    }
    let code = *p.get(1)? & 0xf0;
    // Class 0, no options.
    if p.get(6).is_some_and(|&c| c & 0xf0 != 0) {
        return None;
    }
    Some((code, p.get(7..)?))
}

/// An RDP negotiation structure: type, flags, length 8, 32-bit value.
fn negotiation(v: &[u8]) -> Option<(u8, u32)> {
    let t = *v.first()?;
    let len = u16::from_le_bytes([*v.get(2)?, *v.get(3)?]);
    (len == 8 && v.len() == 8).then_some(())?;
    Some((t, u32::from_le_bytes(v.get(4..8)?.try_into().ok()?)))
}

/// The cookie (or routing token) and the negotiation request of a Connection Request's
/// variable part, if it is RDP's.
fn rdp_request(var: &[u8]) -> Option<(Option<String>, Option<u32>)> {
    let mut rest = var;
    let mut cookie = None;
    if rest.starts_with(b"Cookie: ") {
        let end = rest.windows(2).position(|w| w == b"\r\n")?;
        let line = rest.get(..end)?;
        cookie = Some(text(
            line.strip_prefix(MSTSHASH).unwrap_or(line.get(8..)?),
            128,
        ));
        rest = rest.get(end + 2..)?;
    }
    match rest {
        [] => Some((cookie, None)),
        _ => match negotiation(rest)? {
            (NEG_REQ, protocols) => Some((cookie, Some(protocols))),
            _ => None,
        },
    }
}

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    let detected = matches!(st.state, ProtoState::Rdp(_));
    let payload = match tpkt(ins.data) {
        Some(Ok(p)) => p,
        Some(Err(())) => return Verdict::Continue,
        None if detected => return Verdict::Done,
        None => return Verdict::Exclude,
    };
    let Some((code, var)) = x224(payload) else {
        return if detected {
            Verdict::Done
        } else {
            Verdict::Exclude
        };
    };
    let used = TPKT_HEADER + payload.len();
    if !detected {
        if !ins.to_server() || code != CONNECTION_REQUEST {
            return Verdict::Exclude;
        }
        let Some((cookie, protocols)) = rdp_request(var) else {
            return Verdict::Exclude;
        };
        ins.detect(id::RDP);
        *st.state = ProtoState::Rdp(State);
        if let Some(c) = cookie {
            st.set_str(&COOKIE, c);
        }
        if let Some(p) = protocols {
            st.set(&REQUESTED_PROTOCOLS, MetaValue::Int(i64::from(p)));
        }
        ins.consume(used);
        return Verdict::Continue;
    }
    if ins.to_server() || code != CONNECTION_CONFIRM {
        return Verdict::Done;
    }
    ins.consume(used);
    match negotiation(var) {
        Some((NEG_RSP, selected)) => {
            st.set(&SELECTED_PROTOCOL, MetaValue::Int(i64::from(selected)));
            if selected != 0 {
                // TLS (1), CredSSP (2), CredSSP with early user auth (8): TLS follows.
                ins.handover(id::TLS);
            }
        }
        // A failure, or standard RDP security (no negotiation structure).
        _ => {
            if var.is_empty() {
                st.set(&SELECTED_PROTOCOL, MetaValue::Int(0));
            }
        }
    }
    Verdict::Done
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod udp_tests {
    use super::super::harness::Conv;
    use super::*;

    /// The client's SYN of Zeek's rdpeudp-handshake-success trace: no ACK yet, window 64,
    /// SYN|CORRELATION_ID|SYNEX, sequence 0x0b127f15, MTUs 1232, padded to 1232 bytes.
    fn syn() -> Vec<u8> {
        let mut d = vec![0xff, 0xff, 0xff, 0xff, 0x00, 0x40, 0x18, 0x01];
        d.extend_from_slice(&[0x0b, 0x12, 0x7f, 0x15, 0x04, 0xd0, 0x04, 0xd0]);
        d.resize(RDPUDP_SYN_SIZE, 0);
        d
    }

    #[test]
    fn a_client_syn_on_any_port() {
        let mut c = Conv::all(17, 61291, 50000);
        c.client(&syn());
        assert_eq!(c.name(), "RDP");
        assert_eq!(c.meta(&UDP_MTU).as_deref(), Some("1232"));
    }

    #[test]
    fn the_servers_syn_ack() {
        let mut c = Conv::udp(&UDP_DISSECTOR, 61291, 3389);
        c.server(&[
            0x0b, 0x12, 0x7f, 0x15, 0x00, 0x40, 0x10, 0x05, 0x0f, 0x94, 0xea, 0x0b, 0x04, 0xd0,
            0x04, 0xd0, 0x00, 0x01, 0x00, 0x02,
        ]);
        assert_eq!(c.name(), "RDP");
    }

    #[test]
    fn not_a_syn() {
        let mut d = syn();
        d.truncate(1000); // not padded
        assert_eq!(rdpudp_syn(&d), None);
        let mut d = syn();
        d[13] = 0x00; // MTU 1024
        assert_eq!(rdpudp_syn(&d), None);
        let mut d = syn();
        d[7] = 0x00; // no SYN
        assert_eq!(rdpudp_syn(&d), None);
    }
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn request_and_confirm() {
        let mut c = Conv::tcp(&DISSECTOR, 52494, 3389);
        c.client(b"\x03\x00\x00\x13\x0e\xe0\x00\x00\x00\x00\x00\x01\x00\x08\x00\x0b\x00\x00\x00");
        assert_eq!(c.name(), "RDP");
        assert_eq!(c.meta(&REQUESTED_PROTOCOLS).as_deref(), Some("11"));
        c.server(b"\x03\x00\x00\x13\x0e\xd0\x00\x00\x12\x34\x00\x02\x1f\x08\x00\x08\x00\x00\x00");
        assert_eq!(c.meta(&SELECTED_PROTOCOL).as_deref(), Some("8"));
    }

    #[test]
    fn cookie() {
        let mut req = b"\x03\x00\x00\x00\x00\xe0\x00\x00\x00\x00\x00Cookie: mstshash=WDeployAdmin\r\n\x01\x00\x08\x00\x03\x00\x00\x00".to_vec();
        let len = req.len() as u16;
        if let Some(b) = req.get_mut(2..4) {
            b.copy_from_slice(&len.to_be_bytes());
        }
        if let Some(li) = req.get_mut(4) {
            *li = (len - 5) as u8;
        }
        let mut c = Conv::tcp(&DISSECTOR, 35888, 3389);
        c.client(&req);
        assert_eq!(c.name(), "RDP");
        assert_eq!(c.meta(&COOKIE).as_deref(), Some("WDeployAdmin"));
    }

    #[test]
    fn not_rdp() {
        // An S7comm COTP connection request: TSAP parameters, not RDP's variable part.
        let s7 = b"\x03\x00\x00\x16\x11\xe0\x00\x00\x00\x01\x00\xc1\x02\x01\x00\xc2\x02\x01\x02\xc0\x01\x0a";
        let mut c = Conv::tcp(&DISSECTOR, 1, 102);
        c.client(s7);
        assert!(!c.open);
        let mut c = Conv::tcp(&DISSECTOR, 1, 3389);
        c.client(b"\x16\x03\x01\x00\x10");
        assert!(!c.open);
        // Length that disagrees with the length indicator.
        let mut c = Conv::tcp(&DISSECTOR, 1, 3389);
        c.client(b"\x03\x00\x00\x0b\x07\xe0\x00\x00\x00\x00\x00");
        assert!(!c.open);
    }
}
