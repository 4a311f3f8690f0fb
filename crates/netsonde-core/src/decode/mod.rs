//! Layer 2 to 4 decoding, zero copy: from a captured frame to the innermost IP flow's
//! addresses, ports and payload, peeling VLAN/QinQ, MPLS, PPPoE and tunnels on the way.
//!
//! Decoding never panics and never allocates. A frame ends as exactly one [`Outcome`]: a
//! packet of some IP flow, an IP fragment for the defragmenter, a frame that is not IP
//! (counted by kind), or a malformed frame (counted by reason).

mod ip;
mod link;
mod tunnel;

use crate::capture::LinkType;
use crate::text::{push_decimal, push_hex_short};

pub use ip::decode_l4;

/// Tunnel encapsulations, numbered as nDPI's reader and nfstream number them (0-6) so that
/// `tunnel_id` compares one to one; later numbers are netsonde's.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default, PartialOrd, Ord)]
pub struct Tunnel(pub u8);

impl Tunnel {
    pub const NONE: Tunnel = Tunnel(0);
    pub const GTP: Tunnel = Tunnel(1);
    pub const CAPWAP: Tunnel = Tunnel(2);
    pub const TZSP: Tunnel = Tunnel(3);
    pub const L2TP: Tunnel = Tunnel(4);
    pub const VXLAN: Tunnel = Tunnel(5);
    pub const GRE: Tunnel = Tunnel(6);
    pub const GENEVE: Tunnel = Tunnel(7);
    pub const TEREDO: Tunnel = Tunnel(8);
    pub const IP_IN_IP: Tunnel = Tunnel(9);
    pub const ERSPAN: Tunnel = Tunnel(10);
    pub const AYIYA: Tunnel = Tunnel(11);

    pub const ALL: [Tunnel; 12] = [
        Self::NONE,
        Self::GTP,
        Self::CAPWAP,
        Self::TZSP,
        Self::L2TP,
        Self::VXLAN,
        Self::GRE,
        Self::GENEVE,
        Self::TEREDO,
        Self::IP_IN_IP,
        Self::ERSPAN,
        Self::AYIYA,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::NONE => "none",
            Self::GTP => "GTP",
            Self::CAPWAP => "CAPWAP",
            Self::TZSP => "TZSP",
            Self::L2TP => "L2TP",
            Self::VXLAN => "VXLAN",
            Self::GRE => "GRE",
            Self::GENEVE => "Geneve",
            Self::TEREDO => "Teredo",
            Self::IP_IN_IP => "IP-in-IP",
            Self::ERSPAN => "ERSPAN",
            Self::AYIYA => "AYIYA",
            _ => "unknown",
        }
    }
}

/// Options that change what the decoder peels.
#[derive(Clone, Copy, Debug)]
pub struct DecodeOptions {
    /// Decapsulate tunnels; when off, the outer flow is the flow.
    pub decode_tunnels: bool,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            decode_tunnels: true,
        }
    }
}

/// Tunnels nested deeper than this are treated as malformed (a loop or an attack).
pub const MAX_ENCAPSULATION_DEPTH: u8 = 8;

/// Where the decoder is: the innermost VLAN and tunnel seen so far.
#[derive(Clone, Copy, Debug, Default)]
pub struct Context {
    pub vlan_id: u16,
    pub tunnel: Tunnel,
    pub depth: u8,
    pub opts_decode_tunnels: bool,
    /// Bytes of the frame that the capture did not keep (wire length minus captured length):
    /// an IP length may exceed what was captured by this much, and no more.
    pub uncaptured: u32,
}

/// An IP address in a 16-byte slot; IPv4 uses the first four bytes and zeros elsewhere.
pub type IpBytes = [u8; 16];

/// The innermost IP packet of a frame, with its L4 header read.
#[derive(Clone, Copy, Debug)]
pub struct Packet<'a> {
    pub vlan_id: u16,
    pub tunnel: Tunnel,
    pub ip_version: u8,
    pub src_ip: IpBytes,
    pub dst_ip: IpBytes,
    /// IANA protocol number of the transport (after IPv6 extension headers).
    pub protocol: u8,
    pub src_port: u16,
    pub dst_port: u16,
    /// TCP flags byte (FIN=0x01 … CWR=0x80); 0 for other transports.
    pub tcp_flags: u8,
    /// TCP sequence number; 0 for other transports.
    pub tcp_seq: u32,
    /// The transport payload as captured (may be cut by the snap length).
    pub payload: &'a [u8],
}

/// An IPv4 or IPv6 fragment, for the defragmenter.
#[derive(Clone, Copy, Debug)]
pub struct Fragment<'a> {
    pub ctx: Context,
    pub ip_version: u8,
    pub src_ip: IpBytes,
    pub dst_ip: IpBytes,
    /// The protocol of the fragmented payload.
    pub protocol: u8,
    pub id: u32,
    /// Offset of this fragment's data in the datagram, in bytes.
    pub offset: u32,
    pub more: bool,
    /// This fragment's share of the datagram (as captured).
    pub data: &'a [u8],
    /// The datagram length announced by the header (captured length may be shorter).
    pub announced_len: u32,
}

/// The result of decoding one frame.
#[derive(Clone, Copy, Debug)]
pub enum Outcome<'a> {
    Packet(Packet<'a>),
    Fragment(Fragment<'a>),
    /// A frame that carries no IP (ARP, LLDP, STP, …), by kind.
    NotIp(&'static str),
    /// The frame's headers are inconsistent or cut short, by reason.
    Malformed(&'static str),
    /// A link type the decoder does not know.
    UnsupportedLink,
}

/// Decodes a captured frame of the given link type.
pub fn decode(
    link_type: LinkType,
    frame: &[u8],
    wire_len: u32,
    opts: DecodeOptions,
) -> Outcome<'_> {
    let uncaptured = wire_len.saturating_sub(frame.len() as u32);
    let ctx = Context {
        opts_decode_tunnels: opts.decode_tunnels,
        uncaptured,
        ..Context::default()
    };
    link::decode_link(link_type, frame, ctx)
}

/// The addresses of a frame's flow, read straight from fixed offsets, for frames whose
/// full decode could not give other ones: Ethernet with at most two VLAN tags, then IPv4 or
/// IPv6 (without extension headers) carrying TCP, ICMP or UDP that no tunnel may use. `None`
/// when only [`decode`] can tell (tunnels, fragments, other links, MPLS, PPPoE, extension
/// headers…). Frames [`decode`] finds malformed may get addresses here: callers use
/// this to route frames, never to account them. Each address comes as the number its
/// [`IpBytes`] read little-endian make (an IPv4 address in the low 32 bits), without the
/// arrays: this runs on every frame when the work is sharded.
#[inline]
pub fn plain_flow_addresses(
    link_type: LinkType,
    frame: &[u8],
    opts: DecodeOptions,
) -> Option<(u128, u128)> {
    if link_type != LinkType::ETHERNET {
        return None;
    }
    let mut at = 12;
    let mut ethertype = be16(frame, at)?;
    for _ in 0..2 {
        if !matches!(
            ethertype,
            link::ETH_VLAN | link::ETH_QINQ | link::ETH_QINQ_OLD1 | link::ETH_QINQ_OLD2
        ) {
            break;
        }
        at += 4;
        ethertype = be16(frame, at)?;
    }
    if ethertype != link::ETH_IPV4 && ethertype != link::ETH_IPV6 {
        return None;
    }
    let ip = frame.get(at + 2..)?;
    let (src, dst, proto, l4) = match ip.first()? >> 4 {
        4 => {
            let header: &[u8; 20] = ip.get(..20)?.try_into().ok()?;
            let [.., f0, f1, _, proto, _, _, s0, s1, s2, s3, d0, d1, d2, d3] = *header;
            if u16::from_be_bytes([f0, f1]) & 0x3fff != 0 {
                // A fragment: the datagram may be a tunnel's, with another flow inside.
                return None;
            }
            let ihl = usize::from(header[0] & 0x0f) * 4;
            (
                u128::from(u32::from_le_bytes([s0, s1, s2, s3])),
                u128::from(u32::from_le_bytes([d0, d1, d2, d3])),
                proto,
                ip.get(ihl..).unwrap_or_default(),
            )
        }
        6 => {
            let header: &[u8; 40] = ip.get(..40)?.try_into().ok()?;
            let (src, dst) = header.split_at(24);
            (
                u128::from_le_bytes(src.get(8..)?.try_into().ok()?),
                u128::from_le_bytes(dst.try_into().ok()?),
                header[6],
                ip.get(40..).unwrap_or_default(),
            )
        }
        _ => return None,
    };
    match proto {
        ip::PROTO_TCP | ip::PROTO_ICMP | ip::PROTO_ICMPV6 => Some((src, dst)),
        ip::PROTO_UDP => match (be16(l4, 0), be16(l4, 2)) {
            (Some(sport), Some(dport))
                if opts.decode_tunnels
                    && tunnel::udp_may_tunnel(sport, dport, l4.get(8..).unwrap_or_default()) =>
            {
                None
            }
            _ => Some((src, dst)),
        },
        _ => None,
    }
}

/// Reads a big-endian u16 without panicking.
#[inline]
pub(crate) fn be16(d: &[u8], at: usize) -> Option<u16> {
    let b = d.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([*b.first()?, *b.get(1)?]))
}

/// Reads a big-endian u32 without panicking.
#[inline]
pub(crate) fn be32(d: &[u8], at: usize) -> Option<u32> {
    let b: [u8; 4] = d.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_be_bytes(b))
}

/// Formats an address for records: dotted quad, or IPv6 with the longest run of zero groups
/// shortened to `::` even when it is a single group — the way nDPI prints addresses (RFC 5952
/// would keep a lone `0`), so records compare one to one with nDPI's.
pub fn format_ip(version: u8, ip: &IpBytes) -> String {
    let mut out = String::with_capacity(if version == 4 { 15 } else { 39 });
    write_ip(&mut out, version, ip);
    out
}

/// Appends an address as [`format_ip`] formats it, without allocating.
pub fn write_ip(out: &mut String, version: u8, ip: &IpBytes) {
    use std::fmt::Write;
    let [a, b, c, d, ..] = *ip;
    if version == 4 {
        for (i, octet) in [a, b, c, d].into_iter().enumerate() {
            if i > 0 {
                out.push('.');
            }
            push_decimal(out, u64::from(octet));
        }
        return;
    }
    let v6 = std::net::Ipv6Addr::from(*ip);
    if v6.to_ipv4_mapped().is_some() || v6.segments()[..6] == [0; 6] && v6.segments()[6] != 0 {
        // Mapped and compatible forms keep the standard library's notation.
        let _ = write!(out, "{v6}");
        return;
    }
    let groups = v6.segments();
    // Longest run of zero groups (the first one on ties).
    let (mut best_start, mut best_len, mut run_start, mut run_len) =
        (0usize, 0usize, 0usize, 0usize);
    for (i, g) in groups.iter().enumerate() {
        if *g == 0 {
            if run_len == 0 {
                run_start = i;
            }
            run_len += 1;
            if run_len > best_len {
                best_start = run_start;
                best_len = run_len;
            }
        } else {
            run_len = 0;
        }
    }
    let mut i = 0;
    while i < 8 {
        if best_len > 0 && i == best_start {
            out.push_str(if i == 0 { "::" } else { ":" });
            i += best_len;
            continue;
        }
        push_hex_short(out, groups.get(i).copied().unwrap_or(0));
        if i < 7 {
            out.push(':');
        }
        i += 1;
    }
}

#[cfg(test)]
pub(crate) mod tests;
