//! Tunnels: GRE (RFC 2784/2890, enhanced GRE of PPTP, ERSPAN II/III, transparent Ethernet
//! bridging; also over UDP, RFC 8086), GTP-U, VXLAN, Geneve, Teredo, AYIYA, CAPWAP data, TZSP
//! and L2TPv2.
//!
//! A tunnel header that does not validate is not a tunnel: the caller keeps the outer packet
//! as the flow, so traffic that merely uses a tunnel's port is never lost.

use super::ip::decode_ip_any;
use super::link::{ethernet, ethertype_chain, ieee80211, ieee80211_with_fc, ppp, ETH_TEB};
use super::{be16, Context, Outcome, Tunnel};

const PORT_GTP_U: u16 = 2152;
const PORT_VXLAN: u16 = 4789;
const PORT_VXLAN_LINUX: u16 = 8472;
const PORT_GENEVE: u16 = 6081;
const PORT_TEREDO: u16 = 3544;
const PORT_CAPWAP_DATA: u16 = 5247;
const PORT_TZSP: u16 = 37008;
const PORT_L2TP: u16 = 1701;
const PORT_GRE_IN_UDP: u16 = 4754;
const PORT_AYIYA: u16 = 5072;

const GRE_PPP: u16 = 0x880B;
const GRE_ERSPAN_2: u16 = 0x88BE;
const GRE_ERSPAN_3: u16 = 0x22EB;
const GRE_ARUBA_FIRST: u16 = 0x8200;
const GRE_ARUBA_LAST: u16 = 0x820F;

fn enter(ctx: Context, tunnel: Tunnel) -> Context {
    Context {
        tunnel,
        depth: ctx.depth + 1,
        ..ctx
    }
}

/// An inner outcome that failed to decode means the outer header was a false match.
fn validated(inner: Outcome<'_>) -> Option<Outcome<'_>> {
    match inner {
        Outcome::Malformed(_) | Outcome::UnsupportedLink => None,
        other => Some(other),
    }
}

/// A GRE packet (the payload of IP protocol 47). `None` when it carries nothing to decode,
/// e.g. the acknowledgement-only packets of enhanced GRE.
pub fn gre(d: &[u8], ctx: Context) -> Option<Outcome<'_>> {
    let flags = be16(d, 0)?;
    let proto = be16(d, 2)?;
    let version = flags & 0x7;
    let mut hdr = 4usize;
    match version {
        0 => {
            if flags & 0x4000 != 0 {
                return None; // source routing (RFC 1701), obsolete and unparsed
            }
            if flags & 0x8000 != 0 {
                hdr += 4; // checksum + reserved
            }
            if flags & 0x2000 != 0 {
                hdr += 4; // key
            }
            if flags & 0x1000 != 0 {
                hdr += 4; // sequence number
            }
        }
        1 => {
            // Enhanced GRE (RFC 2637): the key holds payload length and call id.
            let payload_len = be16(d, 4)?;
            hdr += 4;
            if flags & 0x1000 != 0 {
                hdr += 4;
            }
            if flags & 0x0080 != 0 {
                hdr += 4; // acknowledgement number
            }
            if payload_len == 0 || flags & 0x1000 == 0 {
                return None;
            }
        }
        _ => return None,
    }
    let rest = d.get(hdr..)?;
    if proto == GRE_ERSPAN_2 || proto == GRE_ERSPAN_3 {
        return validated(erspan(
            proto,
            flags & 0x1000 != 0,
            rest,
            enter(ctx, Tunnel::ERSPAN),
        ));
    }
    validated(gre_payload(proto, rest, enter(ctx, Tunnel::GRE)))
}

/// A GRE payload by its protocol type (an EtherType, or PPP for enhanced GRE).
pub fn gre_payload(proto: u16, rest: &[u8], ctx: Context) -> Outcome<'_> {
    match proto {
        GRE_PPP => ppp(rest, ctx),
        // Aruba access points tunnel 802.11 frames to their controller.
        GRE_ARUBA_FIRST..=GRE_ARUBA_LAST => ieee80211(rest, ctx),
        ETH_TEB => ethernet(rest, ctx),
        _ => ethertype_chain(proto, rest, ctx),
    }
}

fn erspan(proto: u16, has_seq: bool, d: &[u8], ctx: Context) -> Outcome<'_> {
    let frame = if proto == GRE_ERSPAN_2 {
        // Type I has no header (and no sequence number); type II has 8 bytes.
        if has_seq {
            d.get(8..)
        } else {
            Some(d)
        }
    } else {
        // Type III: 12 bytes, plus an 8-byte platform subheader when the O bit is set.
        let has_subheader = d.get(11).is_some_and(|b| b & 0x01 != 0);
        d.get(if has_subheader { 20 } else { 12 }..)
    };
    match frame {
        Some(f) => ethernet(f, ctx),
        None => Outcome::Malformed("ERSPAN header cut short"),
    }
}

/// A UDP payload on a tunnel port, or Teredo on any port, or `None` when it is not (a
/// valid) tunnel.
pub fn udp_tunnel(sport: u16, dport: u16, d: &[u8], ctx: Context) -> Option<Outcome<'_>> {
    let Some(tunnel) = udp_tunnel_on(sport, dport) else {
        return is_teredo_off_its_port(d)
            .then(|| teredo(d, enter(ctx, Tunnel::TEREDO)))
            .flatten();
    };
    let inner = enter(ctx, tunnel);
    match tunnel {
        Tunnel::GTP => gtp_u(d, inner),
        Tunnel::VXLAN => vxlan(d, inner),
        Tunnel::GENEVE => geneve(d, inner),
        Tunnel::TEREDO => teredo(d, inner),
        Tunnel::CAPWAP => capwap_data(d, inner),
        Tunnel::TZSP => tzsp(d, inner),
        Tunnel::L2TP => l2tp_v2(d, inner),
        // GRE enters its own tunnel (GRE or ERSPAN).
        Tunnel::GRE => gre(d, ctx),
        Tunnel::AYIYA => ayiya(d, inner),
        _ => None,
    }
}

/// Whether a UDP datagram may carry a tunnel [`udp_tunnel`] opens: one between these ports,
/// or one that may be Teredo off its port (`payload` not yet cut to the UDP length). Every
/// other datagram is known not to.
pub fn udp_may_tunnel(sport: u16, dport: u16, payload: &[u8]) -> bool {
    udp_tunnel_on(sport, dport).is_some() || may_be_teredo_off_its_port(payload)
}

/// The tunnel a UDP datagram between these ports may carry (the one place that maps
/// ports to UDP tunnels).
fn udp_tunnel_on(sport: u16, dport: u16) -> Option<Tunnel> {
    let on = |port: u16| sport == port || dport == port;
    Some(if on(PORT_GTP_U) {
        Tunnel::GTP
    } else if dport == PORT_VXLAN || dport == PORT_VXLAN_LINUX {
        Tunnel::VXLAN
    } else if dport == PORT_GENEVE {
        Tunnel::GENEVE
    } else if on(PORT_TEREDO) {
        Tunnel::TEREDO
    } else if on(PORT_CAPWAP_DATA) {
        Tunnel::CAPWAP
    } else if dport == PORT_TZSP {
        Tunnel::TZSP
    } else if on(PORT_L2TP) {
        Tunnel::L2TP
    } else if dport == PORT_GRE_IN_UDP {
        Tunnel::GRE
    } else if on(PORT_AYIYA) {
        Tunnel::AYIYA
    } else {
        return None;
    })
}

fn gtp_u(d: &[u8], ctx: Context) -> Option<Outcome<'_>> {
    let (&flags, &msg_type) = (d.first()?, d.get(1)?);
    // Version 1, protocol type GTP, message G-PDU (user data).
    if flags >> 5 != 1 || flags & 0x10 == 0 || msg_type != 0xFF {
        return None;
    }
    let mut hdr = 8usize;
    if flags & 0x07 != 0 {
        hdr = 12;
        // Extension headers: each has a length in 4-byte units and ends with the next type.
        let mut next = *d.get(11)?;
        let mut guard = 0;
        while flags & 0x04 != 0 && next != 0 {
            let len = usize::from(*d.get(hdr)?) * 4;
            if len == 0 || guard > 16 {
                return None;
            }
            next = *d.get(hdr + len - 1)?;
            hdr += len;
            guard += 1;
        }
    }
    validated(decode_ip_any(d.get(hdr..)?, ctx))
}

fn vxlan(d: &[u8], ctx: Context) -> Option<Outcome<'_>> {
    // The I flag says the VNI is valid; the reserved bits must not look like another protocol.
    if d.first()? & 0x08 == 0 || d.len() < 8 + 14 {
        return None;
    }
    validated(ethernet(d.get(8..)?, ctx))
}

fn geneve(d: &[u8], ctx: Context) -> Option<Outcome<'_>> {
    let (&vo, proto) = (d.first()?, be16(d, 2)?);
    if vo >> 6 != 0 {
        return None;
    }
    let hdr = 8 + usize::from(vo & 0x3f) * 4;
    let rest = d.get(hdr..)?;
    validated(gre_payload(proto, rest, ctx))
}

/// Where the IPv6 packet of a Teredo datagram starts: after the optional authentication
/// (type 1) and origin indication (type 0) headers, at a byte of IP version 6.
fn teredo_start(mut d: &[u8]) -> Option<&[u8]> {
    if let [0x00, 0x01, id_len, au_len, ..] = d {
        d = d.get(4 + usize::from(*id_len) + usize::from(*au_len) + 9..)?;
    }
    if let [0x00, 0x00, ..] = d {
        d = d.get(8..)?;
    }
    (d.first()? >> 4 == 6).then_some(d)
}

/// The IPv6 packet a Teredo datagram carries: only a complete, self-consistent IPv6 header
/// is taken as Teredo.
fn teredo_ipv6(d: &[u8]) -> Option<&[u8]> {
    teredo_start(d).filter(|ip| be16(ip, 4).is_some_and(|n| usize::from(n) + 40 == ip.len()))
}

fn teredo(d: &[u8], ctx: Context) -> Option<Outcome<'_>> {
    validated(decode_ip_any(teredo_ipv6(d)?, ctx))
}

/// Whether an IPv6 packet is from or to a Teredo address (2001:0::/32, RFC 4380 §2.14).
fn has_teredo_address(ip: &[u8]) -> bool {
    const PREFIX: [u8; 4] = [0x20, 0x01, 0x00, 0x00];
    ip.get(8..12) == Some(&PREFIX[..]) || ip.get(24..28) == Some(&PREFIX[..])
}

/// Teredo off UDP port 3544: a client and its relay talk between any ports (RFC 4380 §5.2),
/// so the datagram itself must say it: an IPv6 packet exactly filling it, from or to a
/// Teredo address.
fn is_teredo_off_its_port(d: &[u8]) -> bool {
    may_be_teredo_off_its_port(d) && teredo_ipv6(d).is_some()
}

/// What [`is_teredo_off_its_port`] says of any cut of `d` to a shorter length (the decoder
/// cuts a datagram to its UDP and IP lengths; this is asked before it does).
fn may_be_teredo_off_its_port(d: &[u8]) -> bool {
    // Most datagrams fail on their first byte.
    matches!(d.first(), Some(&b) if b >> 4 == 6 || b == 0)
        && teredo_start(d).is_some_and(has_teredo_address)
}

/// AYIYA ("Anything In Anything", the tunnel of SixXS's IPv6 tunnel brokers): a header of
/// 8 bytes (identity length as a power of two, signature length in words, method and
/// operation, the next header, a time), the identity and the signature, then the packet.
/// Only a forward (operation 1) carries one.
fn ayiya(d: &[u8], ctx: Context) -> Option<Outcome<'_>> {
    const FORWARD: u8 = 1;
    let (&ids, &sig, &op, &next) = (d.first()?, d.get(1)?, d.get(2)?, d.get(3)?);
    if op & 0x0f != FORWARD {
        return None;
    }
    let id_len = 1usize << (ids >> 4);
    let sig_len = usize::from(sig >> 4) * 4;
    let packet = d.get(8 + id_len + sig_len..)?;
    let version = packet.first()? >> 4;
    match (next, version) {
        (super::ip::PROTO_IPV6, 6) | (super::ip::PROTO_IPIP, 4) => {
            validated(decode_ip_any(packet, ctx))
        }
        _ => None,
    }
}

fn capwap_data(d: &[u8], ctx: Context) -> Option<Outcome<'_>> {
    let (&preamble, &b1, &b2) = (d.first()?, d.get(1)?, d.get(2)?);
    if preamble != 0 {
        return None; // not version 0 / CAPWAP header (DTLS-encrypted data is opaque)
    }
    // Bits: preamble (8), HLEN (5, in words), RID (5), WBID (5), T (1), flags (8).
    let hlen = usize::from(b1 >> 3) * 4;
    let wbid = (b2 >> 1) & 0x1f;
    let native = b2 & 0x01 != 0;
    let frame = d.get(hlen..)?;
    if hlen < 8 {
        return None;
    }
    if !(native && wbid == 1) {
        return validated(ethernet(frame, ctx));
    }
    // Some access points (Cisco's among them) send the frame control bytes swapped.
    let (&fc0, &fc1) = (frame.first()?, frame.get(1)?);
    let is_data = |fc: u8| (fc >> 2) & 0x3 == 2 && fc & 0x3 == 0;
    let (fc0, fc1) = if !is_data(fc0) && is_data(fc1) {
        (fc1, fc0)
    } else {
        (fc0, fc1)
    };
    validated(ieee80211_with_fc(fc0, fc1, frame, ctx))
}

fn tzsp(d: &[u8], ctx: Context) -> Option<Outcome<'_>> {
    let (&version, encap) = (d.first()?, be16(d, 2)?);
    if version != 1 {
        return None;
    }
    let mut pos = 4usize;
    loop {
        match *d.get(pos)? {
            0 => pos += 1, // padding
            1 => {
                pos += 1;
                break;
            } // end of tagged fields
            _ => pos += 2 + usize::from(*d.get(pos + 1)?),
        }
    }
    let frame = d.get(pos..)?;
    validated(match encap {
        1 => ethernet(frame, ctx),
        18 => ieee80211(frame, ctx),
        _ => return None,
    })
}

fn l2tp_v2(d: &[u8], ctx: Context) -> Option<Outcome<'_>> {
    let flags = be16(d, 0)?;
    if flags & 0x000f != 2 || flags & 0x8000 != 0 {
        return None; // not version 2, or a control message
    }
    let mut hdr = 2usize;
    if flags & 0x4000 != 0 {
        hdr += 2;
    }
    hdr += 4; // tunnel id, session id
    if flags & 0x0800 != 0 {
        hdr += 4;
    }
    if flags & 0x0200 != 0 {
        hdr += 2 + usize::from(be16(d, hdr)?);
    }
    validated(ppp(d.get(hdr..)?, ctx))
}
