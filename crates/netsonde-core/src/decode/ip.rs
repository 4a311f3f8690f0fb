//! IPv4 (with options), IPv6 (with extension headers) and the transport headers: TCP, UDP,
//! SCTP, ICMP/ICMPv6, and IP protocols that tunnel (IP-in-IP, GRE).

use super::{
    be16, be32, tunnel, Context, Fragment, IpBytes, Outcome, Packet, Tunnel,
    MAX_ENCAPSULATION_DEPTH,
};

pub const PROTO_ICMP: u8 = 1;
pub const PROTO_IPIP: u8 = 4;
pub const PROTO_TCP: u8 = 6;
pub const PROTO_UDP: u8 = 17;
pub const PROTO_IPV6: u8 = 41;
pub const PROTO_GRE: u8 = 47;
pub const PROTO_ICMPV6: u8 = 58;
pub const PROTO_SCTP: u8 = 132;
pub const PROTO_UDPLITE: u8 = 136;

/// IPv6 extension headers walked before giving up.
const MAX_IPV6_EXTENSIONS: usize = 16;

/// An IP packet of either version, told apart by its first nibble.
pub fn decode_ip_any(d: &[u8], ctx: Context) -> Outcome<'_> {
    match d.first().map(|b| b >> 4) {
        Some(4) => ipv4(d, ctx),
        Some(6) => ipv6(d, ctx),
        Some(_) => Outcome::Malformed("IP version is neither 4 nor 6"),
        None => Outcome::Malformed("IP header missing"),
    }
}

fn ipv4(d: &[u8], ctx: Context) -> Outcome<'_> {
    let Some(&vihl) = d.first() else {
        return Outcome::Malformed("IPv4 header cut short");
    };
    let ihl = usize::from(vihl & 0x0f) * 4;
    if ihl < 20 {
        return Outcome::Malformed("IPv4 header length below 20");
    }
    let (Some(total), Some(id), Some(frag), Some(&proto)) =
        (be16(d, 2), be16(d, 4), be16(d, 6), d.get(9))
    else {
        return Outcome::Malformed("IPv4 header cut short");
    };
    if d.len() < ihl {
        return Outcome::Malformed("IPv4 header cut short");
    }
    let total = usize::from(total);
    // A zero total length comes from TCP segmentation offload; trust the capture then.
    let end = if total == 0 {
        d.len()
    } else {
        total.min(d.len())
    };
    if total != 0 && total < ihl {
        return Outcome::Malformed("IPv4 total length below header length");
    }
    if total > d.len() + ctx.uncaptured as usize {
        // Longer than the frame was on the wire: the header lies (snap-length cuts are fine).
        return Outcome::Malformed("IPv4 total length beyond the frame");
    }
    let mut src = [0u8; 16];
    let mut dst = [0u8; 16];
    if let (Some(s), Some(t)) = (d.get(12..16), d.get(16..20)) {
        src[..4].copy_from_slice(s);
        dst[..4].copy_from_slice(t);
    }
    let payload = d.get(ihl..end).unwrap_or_default();
    let offset = u32::from(frag & 0x1fff) * 8;
    let more = frag & 0x2000 != 0;
    if more || offset != 0 {
        return Outcome::Fragment(Fragment {
            ctx,
            ip_version: 4,
            src_ip: src,
            dst_ip: dst,
            protocol: proto,
            id: u32::from(id),
            offset,
            more,
            data: payload,
            announced_len: if total == 0 {
                payload.len() as u32
            } else {
                (total - ihl) as u32
            },
        });
    }
    decode_l4(ctx, 4, src, dst, proto, payload)
}

fn ipv6(d: &[u8], ctx: Context) -> Outcome<'_> {
    let (Some(plen), Some(&first_next)) = (be16(d, 4), d.get(6)) else {
        return Outcome::Malformed("IPv6 header cut short");
    };
    let (Some(s), Some(t)) = (d.get(8..24), d.get(24..40)) else {
        return Outcome::Malformed("IPv6 header cut short");
    };
    let src: IpBytes = s.try_into().unwrap_or_default();
    let dst: IpBytes = t.try_into().unwrap_or_default();
    let body = d.get(40..).unwrap_or_default();
    if usize::from(plen) > body.len() + ctx.uncaptured as usize {
        return Outcome::Malformed("IPv6 payload length beyond the frame");
    }
    // Payload length 0 is a jumbogram or an offloaded segment; trust the capture then.
    let body = if plen == 0 {
        body
    } else {
        body.get(..usize::from(plen)).unwrap_or(body)
    };
    let mut next = first_next;
    let mut rest = body;
    for _ in 0..MAX_IPV6_EXTENSIONS {
        match next {
            // Hop-by-hop, routing, destination options, mobility, HIP, shim6.
            0 | 43 | 60 | 135 | 139 | 140 => {
                let (Some(&nh), Some(&len)) = (rest.first(), rest.get(1)) else {
                    return Outcome::Malformed("IPv6 extension header cut short");
                };
                let skip = (usize::from(len) + 1) * 8;
                let Some(r) = rest.get(skip..) else {
                    return Outcome::Malformed("IPv6 extension header cut short");
                };
                next = nh;
                rest = r;
            }
            // Authentication header: its length is in 4-byte units, minus 2.
            51 => {
                let (Some(&nh), Some(&len)) = (rest.first(), rest.get(1)) else {
                    return Outcome::Malformed("IPv6 AH header cut short");
                };
                let skip = (usize::from(len) + 2) * 4;
                let Some(r) = rest.get(skip..) else {
                    return Outcome::Malformed("IPv6 AH header cut short");
                };
                next = nh;
                rest = r;
            }
            44 => {
                let (Some(&nh), Some(fo), Some(id)) = (rest.first(), be16(rest, 2), be32(rest, 4))
                else {
                    return Outcome::Malformed("IPv6 fragment header cut short");
                };
                let offset = u32::from(fo >> 3) * 8;
                let more = fo & 1 != 0;
                let data = rest.get(8..).unwrap_or_default();
                if offset == 0 && !more {
                    // An atomic fragment (RFC 6946): the whole datagram is here.
                    next = nh;
                    rest = data;
                    continue;
                }
                return Outcome::Fragment(Fragment {
                    ctx,
                    ip_version: 6,
                    src_ip: src,
                    dst_ip: dst,
                    protocol: nh,
                    id,
                    offset,
                    more,
                    data,
                    announced_len: data.len() as u32,
                });
            }
            _ => return decode_l4(ctx, 6, src, dst, next, rest),
        }
    }
    Outcome::Malformed("too many IPv6 extension headers")
}

/// Reads the transport header of a (possibly reassembled) IP payload and peels tunnels.
pub fn decode_l4(
    ctx: Context,
    ip_version: u8,
    src: IpBytes,
    dst: IpBytes,
    proto: u8,
    l4: &[u8],
) -> Outcome<'_> {
    let mut pkt = Packet {
        vlan_id: ctx.vlan_id,
        tunnel: ctx.tunnel,
        ip_version,
        src_ip: src,
        dst_ip: dst,
        protocol: proto,
        src_port: 0,
        dst_port: 0,
        tcp_flags: 0,
        tcp_seq: 0,
        payload: &[],
    };
    match proto {
        PROTO_TCP => {
            // A header cut short still tells which hosts talk: it joins their flow with
            // ports 0 (as nDPI keys it) instead of vanishing.
            let (Some(sp), Some(dp), Some(seq), Some(&flags)) =
                (be16(l4, 0), be16(l4, 2), be32(l4, 4), l4.get(13))
            else {
                return Outcome::Packet(pkt);
            };
            let hdr = l4.get(12).map_or(20, |b| usize::from(b >> 4) * 4).max(20);
            pkt.src_port = sp;
            pkt.dst_port = dp;
            pkt.tcp_flags = flags;
            pkt.tcp_seq = seq;
            pkt.payload = l4.get(hdr..).unwrap_or_default();
        }
        PROTO_UDP | PROTO_UDPLITE => {
            let (Some(sp), Some(dp), Some(_)) = (be16(l4, 0), be16(l4, 2), be16(l4, 6)) else {
                return Outcome::Packet(pkt);
            };
            pkt.src_port = sp;
            pkt.dst_port = dp;
            let body = l4.get(8..).unwrap_or_default();
            // The UDP length bounds the payload (Ethernet padding follows otherwise).
            let ulen = be16(l4, 4).map_or(0, usize::from);
            pkt.payload = if proto == PROTO_UDP && ulen >= 8 {
                body.get(..ulen - 8).unwrap_or(body)
            } else {
                body
            };
            if can_decapsulate(&ctx) {
                if let Some(inner) = tunnel::udp_tunnel(sp, dp, pkt.payload, ctx) {
                    return inner;
                }
            }
        }
        PROTO_SCTP => {
            let (Some(sp), Some(dp)) = (be16(l4, 0), be16(l4, 2)) else {
                return Outcome::Malformed("SCTP header cut short");
            };
            pkt.src_port = sp;
            pkt.dst_port = dp;
            pkt.payload = l4.get(12..).unwrap_or_default();
        }
        PROTO_ICMP | PROTO_ICMPV6 => {
            pkt.payload = l4.get(4..).unwrap_or_default();
        }
        PROTO_IPIP | PROTO_IPV6 if can_decapsulate(&ctx) => {
            let inner = Context {
                tunnel: Tunnel::IP_IN_IP,
                depth: ctx.depth + 1,
                ..ctx
            };
            return match decode_ip_any(l4, inner) {
                Outcome::Malformed(_) => Outcome::Packet(Packet { payload: l4, ..pkt }),
                other => other,
            };
        }
        PROTO_GRE if can_decapsulate(&ctx) => {
            if let Some(inner) = tunnel::gre(l4, ctx) {
                return inner;
            }
            pkt.payload = l4;
        }
        _ => pkt.payload = l4,
    }
    Outcome::Packet(pkt)
}

fn can_decapsulate(ctx: &Context) -> bool {
    ctx.opts_decode_tunnels && ctx.depth < MAX_ENCAPSULATION_DEPTH
}
