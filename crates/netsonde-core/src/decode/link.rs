//! Link layers (Ethernet, Linux cooked, null/loopback, PPP, Cisco HDLC, 802.11 with PPI or
//! radiotap) and the EtherType chain (802.1Q/802.1ad tags, MPLS, PPPoE, LLC/SNAP).

use super::{be16, ip, Context, Outcome};
use crate::capture::LinkType;

pub const ETH_IPV4: u16 = 0x0800;
pub const ETH_ARP: u16 = 0x0806;
pub const ETH_VLAN: u16 = 0x8100;
pub const ETH_QINQ: u16 = 0x88A8;
pub const ETH_QINQ_OLD1: u16 = 0x9100;
pub const ETH_QINQ_OLD2: u16 = 0x9200;
pub const ETH_IPV6: u16 = 0x86DD;
pub const ETH_MPLS_UC: u16 = 0x8847;
pub const ETH_MPLS_MC: u16 = 0x8848;
pub const ETH_PPPOE_DISC: u16 = 0x8863;
pub const ETH_PPPOE_SESS: u16 = 0x8864;
pub const ETH_LLDP: u16 = 0x88CC;
pub const ETH_TEB: u16 = 0x6558;
pub const ETH_PBB: u16 = 0x88E7;
pub const ETH_FABRICPATH: u16 = 0x8903;
pub const ETH_VNTAG: u16 = 0x8926;

/// MPLS label stacks deeper than this are malformed.
const MAX_MPLS_LABELS: usize = 16;
/// VLAN tag stacks deeper than this are malformed.
const MAX_VLAN_TAGS: usize = 8;

pub fn decode_link(link: LinkType, d: &[u8], ctx: Context) -> Outcome<'_> {
    match link {
        LinkType::ETHERNET => ethernet(d, ctx),
        LinkType::RAW
        | LinkType::RAW_BSD12
        | LinkType::RAW_BSD14
        | LinkType::IPV4
        | LinkType::IPV6 => ip::decode_ip_any(d, ctx),
        LinkType::NULL | LinkType::LOOP => null_loopback(d, ctx),
        LinkType::PPP | LinkType::PPP_HDLC => ppp(d, ctx),
        LinkType::PPP_ETHER => pppoe_session(d, ctx),
        LinkType::C_HDLC => cisco_hdlc(d, ctx),
        LinkType::LINUX_SLL => linux_sll(d, ctx),
        LinkType::LINUX_SLL2 => linux_sll2(d, ctx),
        LinkType::IEEE802_11 => ieee80211(d, ctx),
        LinkType::IEEE802_11_RADIOTAP => radiotap(d, ctx),
        LinkType::PPI => ppi(d, ctx),
        _ => Outcome::UnsupportedLink,
    }
}

pub fn ethernet(d: &[u8], ctx: Context) -> Outcome<'_> {
    let Some(ethertype) = be16(d, 12) else {
        return Outcome::Malformed("ethernet header cut short");
    };
    let rest = d.get(14..).unwrap_or_default();
    if ethertype <= 1500 {
        // 802.3 frame: the field is a length and an LLC header follows.
        return llc(rest, ctx);
    }
    ethertype_chain(ethertype, rest, ctx)
}

/// Follows an EtherType through tags and shims to IP.
pub fn ethertype_chain(mut ethertype: u16, mut d: &[u8], mut ctx: Context) -> Outcome<'_> {
    let mut tags = 0;
    loop {
        match ethertype {
            ETH_IPV4 | ETH_IPV6 => return ip::decode_ip_any(d, ctx),
            ETH_VLAN | ETH_QINQ | ETH_QINQ_OLD1 | ETH_QINQ_OLD2 => {
                tags += 1;
                if tags > MAX_VLAN_TAGS {
                    return Outcome::Malformed("too many VLAN tags");
                }
                let (Some(tci), Some(next)) = (be16(d, 0), be16(d, 2)) else {
                    return Outcome::Malformed("VLAN tag cut short");
                };
                // The innermost tag names the VLAN, as nDPI reports it.
                ctx.vlan_id = tci & 0x0fff;
                d = d.get(4..).unwrap_or_default();
                ethertype = next;
                if ethertype <= 1500 {
                    return llc(d, ctx);
                }
            }
            ETH_VNTAG => {
                // Cisco VN-Tag: 4 bytes, then the next EtherType, like a VLAN tag.
                tags += 1;
                if tags > MAX_VLAN_TAGS {
                    return Outcome::Malformed("too many VLAN tags");
                }
                let Some(next) = be16(d, 4) else {
                    return Outcome::Malformed("VN-Tag cut short");
                };
                d = d.get(6..).unwrap_or_default();
                ethertype = next;
            }
            // Provider backbone bridging (802.1ah): a 4-byte I-TAG, then the customer frame.
            ETH_PBB => return ethernet(d.get(4..).unwrap_or_default(), ctx),
            // Cisco FabricPath: a 2-byte FTag/TTL after the outer header, then the frame.
            ETH_FABRICPATH => return ethernet(d.get(2..).unwrap_or_default(), ctx),
            ETH_MPLS_UC | ETH_MPLS_MC => return mpls(d, ctx),
            ETH_PPPOE_SESS => return pppoe_session(d, ctx),
            ETH_PPPOE_DISC => return Outcome::NotIp("pppoe-discovery"),
            ETH_ARP => return Outcome::NotIp("arp"),
            ETH_LLDP => return Outcome::NotIp("lldp"),
            ETH_TEB => return ethernet(d, ctx),
            0x8035 => return Outcome::NotIp("rarp"),
            0x8137 | 0x8138 => return Outcome::NotIp("ipx"),
            0x88E5 => return Outcome::NotIp("macsec"),
            0x888E => return Outcome::NotIp("eapol"),
            0x8809 => return Outcome::NotIp("slow-protocols"),
            0x9000 => return Outcome::NotIp("loopback"),
            _ => return Outcome::NotIp("other-ethertype"),
        }
    }
}

/// 802.2 LLC, with SNAP carrying an EtherType.
fn llc(d: &[u8], ctx: Context) -> Outcome<'_> {
    match d {
        [0xAA, 0xAA, 0x03, _, _, _, t0, t1, rest @ ..] => {
            let ethertype = u16::from_be_bytes([*t0, *t1]);
            if ethertype <= 1500 {
                // SNAP with a non-EtherType protocol id (e.g. Cisco CDP, OUI 00000c).
                return Outcome::NotIp("llc-snap");
            }
            ethertype_chain(ethertype, rest, ctx)
        }
        [0x42, 0x42, ..] => Outcome::NotIp("stp"),
        [0xE0, 0xE0, ..] | [0xFF, 0xFF, ..] => Outcome::NotIp("ipx"),
        [0xF0, 0xF0, ..] => Outcome::NotIp("netbios-llc"),
        [0xFE, 0xFE, ..] => Outcome::NotIp("osi"),
        [] => Outcome::Malformed("LLC header cut short"),
        _ => Outcome::NotIp("llc"),
    }
}

fn mpls(mut d: &[u8], ctx: Context) -> Outcome<'_> {
    for _ in 0..MAX_MPLS_LABELS {
        let Some(&[_, _, b2, _]) = d.get(..4).and_then(|s| <&[u8; 4]>::try_from(s).ok()) else {
            return Outcome::Malformed("MPLS label cut short");
        };
        d = d.get(4..).unwrap_or_default();
        if b2 & 0x01 != 0 {
            // Bottom of stack: no type field, so look at the payload's first nibble.
            return match d.first().map(|b| b >> 4) {
                Some(4) | Some(6) => ip::decode_ip_any(d, ctx),
                // Pseudowire control word (first nibble 0), then an Ethernet frame.
                Some(0) => ethernet(d.get(4..).unwrap_or_default(), ctx),
                Some(_) => ethernet(d, ctx),
                None => Outcome::Malformed("MPLS payload missing"),
            };
        }
    }
    Outcome::Malformed("MPLS label stack too deep")
}

fn pppoe_session(d: &[u8], ctx: Context) -> Outcome<'_> {
    // ver/type, code, session id, length, then the PPP protocol.
    let Some(len) = be16(d, 4) else {
        return Outcome::Malformed("PPPoE header cut short");
    };
    let body = d.get(6..).unwrap_or_default();
    let body = body.get(..len as usize).unwrap_or(body);
    ppp_protocol(body, ctx)
}

/// A PPP frame that may start with the HDLC address/control bytes.
pub fn ppp(d: &[u8], ctx: Context) -> Outcome<'_> {
    let d = match d {
        [0xFF, 0x03, rest @ ..] => rest,
        // Cisco HDLC framing (unicast or broadcast address) on a link declared as PPP.
        [0x0F | 0x8F, 0x00, ..] => return cisco_hdlc(d, ctx),
        _ => d,
    };
    ppp_protocol(d, ctx)
}

/// A PPP protocol field (possibly compressed to one byte) and its payload.
fn ppp_protocol(d: &[u8], ctx: Context) -> Outcome<'_> {
    let (proto, rest) = match d {
        [b, rest @ ..] if b & 1 == 1 => (u16::from(*b), rest),
        [b0, b1, rest @ ..] => (u16::from_be_bytes([*b0, *b1]), rest),
        _ => return Outcome::Malformed("PPP header cut short"),
    };
    match proto {
        0x0021 | 0x0057 => ip::decode_ip_any(rest, ctx),
        0x0281 | 0x0283 => mpls(rest, ctx),
        0x003D => Outcome::NotIp("ppp-multilink"),
        0xC021 | 0xC023 | 0xC223 | 0x8021 | 0x8057 | 0x80FD | 0x8281 => {
            Outcome::NotIp("ppp-control")
        }
        _ => Outcome::NotIp("ppp-other"),
    }
}

fn cisco_hdlc(d: &[u8], ctx: Context) -> Outcome<'_> {
    let Some(proto) = be16(d, 2) else {
        return Outcome::Malformed("Cisco HDLC header cut short");
    };
    let rest = d.get(4..).unwrap_or_default();
    match proto {
        0x8035 => Outcome::NotIp("slarp"),
        0x2000 => Outcome::NotIp("cdp"),
        _ => ethertype_chain(proto, rest, ctx),
    }
}

fn null_loopback(d: &[u8], ctx: Context) -> Outcome<'_> {
    let Some(raw) = d.get(..4) else {
        return Outcome::Malformed("loopback header cut short");
    };
    let rest = d.get(4..).unwrap_or_default();
    // The family is in the writer's byte order for DLT_NULL, network order for DLT_LOOP;
    // accept either. IPv6 is 24, 28 or 30 depending on the BSD.
    let raw: [u8; 4] = raw.try_into().unwrap_or_default();
    let le = u32::from_le_bytes(raw);
    let be = u32::from_be_bytes(raw);
    let family = if le < 256 { le } else { be };
    match family {
        2 | 24 | 28 | 30 => ip::decode_ip_any(rest, ctx),
        _ => Outcome::NotIp("loopback-other-family"),
    }
}

fn linux_sll(d: &[u8], ctx: Context) -> Outcome<'_> {
    let (Some(arphrd), Some(proto)) = (be16(d, 2), be16(d, 14)) else {
        return Outcome::Malformed("Linux cooked header cut short");
    };
    sll_payload(arphrd, proto, d.get(16..).unwrap_or_default(), ctx)
}

fn linux_sll2(d: &[u8], ctx: Context) -> Outcome<'_> {
    let (Some(proto), Some(arphrd)) = (be16(d, 0), be16(d, 8)) else {
        return Outcome::Malformed("Linux cooked v2 header cut short");
    };
    sll_payload(arphrd, proto, d.get(20..).unwrap_or_default(), ctx)
}

fn sll_payload(arphrd: u16, proto: u16, rest: &[u8], ctx: Context) -> Outcome<'_> {
    match (arphrd, proto) {
        (824, _) => Outcome::NotIp("netlink"),
        // ARPHRD_IPGRE: the protocol field is GRE's payload type.
        (778, _) => super::tunnel::gre_payload(proto, rest, ctx),
        (_, 0x0004) => llc(rest, ctx),
        (_, 0x0001) | (_, 0x0002) | (_, 0x0003) => Outcome::NotIp("linux-sll-other"),
        _ => ethertype_chain(proto, rest, ctx),
    }
}

/// An 802.11 frame: data frames carry LLC/SNAP; management, control and protected frames
/// carry no IP we can read.
pub fn ieee80211(d: &[u8], ctx: Context) -> Outcome<'_> {
    let (Some(&fc0), Some(&fc1)) = (d.first(), d.get(1)) else {
        return Outcome::Malformed("802.11 header cut short");
    };
    ieee80211_with_fc(fc0, fc1, d, ctx)
}

/// An 802.11 frame whose frame control bytes are given (CAPWAP peers may swap them).
pub fn ieee80211_with_fc(fc0: u8, fc1: u8, d: &[u8], ctx: Context) -> Outcome<'_> {
    let frame_type = (fc0 >> 2) & 0x3;
    let subtype = fc0 >> 4;
    if frame_type != 2 {
        return Outcome::NotIp("802.11-non-data");
    }
    if fc1 & 0x40 != 0 {
        return Outcome::NotIp("802.11-protected");
    }
    if subtype & 0x4 != 0 {
        return Outcome::NotIp("802.11-null-data");
    }
    let mut hdr = 24;
    if fc1 & 0x03 == 0x03 {
        hdr += 6; // four addresses (WDS)
    }
    if subtype & 0x8 != 0 {
        hdr += 2; // QoS control
        if fc1 & 0x80 != 0 {
            hdr += 4; // HT control
        }
    }
    match d.get(hdr..) {
        Some(rest) => llc(rest, ctx),
        None => Outcome::Malformed("802.11 header cut short"),
    }
}

fn radiotap(d: &[u8], ctx: Context) -> Outcome<'_> {
    let Some(len) = le16(d, 2) else {
        return Outcome::Malformed("radiotap header cut short");
    };
    // The FCS flag (bit 4 of the Flags field) would leave 4 trailing bytes; IP lengths
    // inside bound the payload, so they are harmless.
    match d.get(len as usize..) {
        Some(rest) => ieee80211(rest, ctx),
        None => Outcome::Malformed("radiotap header cut short"),
    }
}

fn ppi(d: &[u8], ctx: Context) -> Outcome<'_> {
    let (Some(len), Some(dlt)) = (le16(d, 2), le32(d, 4)) else {
        return Outcome::Malformed("PPI header cut short");
    };
    match d.get(len as usize..) {
        // A PPI header inside PPI would recurse without end.
        Some(rest) if LinkType(dlt) != LinkType::PPI => decode_link(LinkType(dlt), rest, ctx),
        _ => Outcome::Malformed("PPI header cut short"),
    }
}

fn le16(d: &[u8], at: usize) -> Option<u16> {
    let b: [u8; 2] = d.get(at..at + 2)?.try_into().ok()?;
    Some(u16::from_le_bytes(b))
}

fn le32(d: &[u8], at: usize) -> Option<u32> {
    let b: [u8; 4] = d.get(at..at + 4)?.try_into().ok()?;
    Some(u32::from_le_bytes(b))
}
