#![allow(clippy::indexing_slicing)]

use super::*;

const OPTS: DecodeOptions = DecodeOptions {
    decode_tunnels: true,
};

fn ipv4(proto: u8, src: [u8; 4], dst: [u8; 4], payload: &[u8]) -> Vec<u8> {
    let total = (20 + payload.len()) as u16;
    let mut v = vec![0x45, 0];
    v.extend(total.to_be_bytes());
    v.extend([0, 1, 0x40, 0, 64, proto, 0, 0]);
    v.extend(src);
    v.extend(dst);
    v.extend_from_slice(payload);
    v
}

fn ipv6(next: u8, src: [u8; 16], dst: [u8; 16], payload: &[u8]) -> Vec<u8> {
    let mut v = vec![0x60, 0, 0, 0];
    v.extend((payload.len() as u16).to_be_bytes());
    v.extend([next, 64]);
    v.extend(src);
    v.extend(dst);
    v.extend_from_slice(payload);
    v
}

fn tcp(sport: u16, dport: u16, flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend(sport.to_be_bytes());
    v.extend(dport.to_be_bytes());
    v.extend(1000u32.to_be_bytes());
    v.extend(0u32.to_be_bytes());
    v.extend([0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    v.extend_from_slice(payload);
    v
}

fn udp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend(sport.to_be_bytes());
    v.extend(dport.to_be_bytes());
    v.extend(((8 + payload.len()) as u16).to_be_bytes());
    v.extend([0, 0]);
    v.extend_from_slice(payload);
    v
}

fn eth(ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2];
    v.extend(ethertype.to_be_bytes());
    v.extend_from_slice(payload);
    v
}

fn packet(o: Outcome<'_>) -> Packet<'_> {
    match o {
        Outcome::Packet(p) => p,
        other => panic!("expected a packet, got {other:?}"),
    }
}

/// An IPv4 address as the decoder stores it (in the first 4 of 16 bytes).
pub(crate) fn v4(a: [u8; 4]) -> IpBytes {
    let mut ip = [0u8; 16];
    ip[..4].copy_from_slice(&a);
    ip
}

#[test]
fn ethernet_ipv4_tcp() {
    let f = eth(
        0x0800,
        &ipv4(
            6,
            [10, 0, 0, 1],
            [10, 0, 0, 2],
            &tcp(1234, 80, 0x02, b"GET"),
        ),
    );
    let p = packet(decode(LinkType::ETHERNET, &f, f.len() as u32, OPTS));
    assert_eq!(
        (
            p.ip_version,
            p.protocol,
            p.src_port,
            p.dst_port,
            p.tcp_flags
        ),
        (4, 6, 1234, 80, 0x02)
    );
    assert_eq!((p.src_ip, p.dst_ip), (v4([10, 0, 0, 1]), v4([10, 0, 0, 2])));
    assert_eq!(p.payload, b"GET");
    assert_eq!((p.vlan_id, p.tunnel), (0, Tunnel::NONE));
}

#[test]
fn ethernet_padding_is_not_payload() {
    let mut f = eth(
        0x0800,
        &ipv4(17, [1, 1, 1, 1], [2, 2, 2, 2], &udp(53, 5353, b"x")),
    );
    f.resize(60, 0);
    assert_eq!(
        packet(decode(LinkType::ETHERNET, &f, 60, OPTS)).payload,
        b"x"
    );
}

#[test]
fn stacked_vlan_tags_give_the_innermost_id_and_mpls_is_peeled() {
    let ip = ipv4(17, [1, 1, 1, 1], [2, 2, 2, 2], &udp(1, 2, b""));
    let mut inner = vec![0x00, 0x64, 0x81, 0x00, 0x00, 0xC8, 0x88, 0x47];
    inner.extend([0, 0, 0x10, 64, 0, 0, 0x21, 64]); // two labels, bottom of stack on the second
    inner.extend(&ip);
    let f = eth(0x88A8, &inner);
    let p = packet(decode(LinkType::ETHERNET, &f, f.len() as u32, OPTS));
    assert_eq!(p.vlan_id, 200);
    assert_eq!((p.src_port, p.dst_port), (1, 2));
}

#[test]
fn pppoe_session_and_llc_snap() {
    let ip = ipv4(6, [1, 1, 1, 1], [2, 2, 2, 2], &tcp(5, 6, 0x10, b""));
    let mut pppoe = vec![0x11, 0, 0, 1];
    pppoe.extend(((ip.len() + 2) as u16).to_be_bytes());
    pppoe.extend([0, 0x21]);
    pppoe.extend(&ip);
    assert_eq!(
        packet(decode(LinkType::ETHERNET, &eth(0x8864, &pppoe), 0, OPTS)).src_port,
        5
    );
    let mut snap = vec![0xAA, 0xAA, 0x03, 0, 0, 0, 0x08, 0x00];
    snap.extend(&ip);
    let mut f = eth(snap.len() as u16, &snap);
    f[12..14].copy_from_slice(&(snap.len() as u16).to_be_bytes());
    assert_eq!(packet(decode(LinkType::ETHERNET, &f, 0, OPTS)).dst_port, 6);
}

#[test]
fn ipv6_extension_headers_are_walked() {
    let l4 = udp(1000, 2000, b"hi");
    let mut ext = vec![43, 0, 0, 0, 0, 0, 0, 0]; // hop-by-hop → routing
    ext.extend([60, 0, 0, 0, 0, 0, 0, 0]); // routing → destination options
    ext.extend([17, 0, 0, 0, 0, 0, 0, 0]); // destination options → UDP
    ext.extend(&l4);
    let f = ipv6(0, [1; 16], [2; 16], &ext);
    let p = packet(decode(LinkType::RAW, &f, f.len() as u32, OPTS));
    assert_eq!(
        (p.ip_version, p.protocol, p.src_port, p.payload),
        (6, 17, 1000, &b"hi"[..])
    );
}

#[test]
fn fragments_are_handed_to_the_defragmenter() {
    let mut f = ipv4(17, [1, 1, 1, 1], [2, 2, 2, 2], &[0u8; 16]);
    f[6] = 0x20; // more fragments, offset 0
    match decode(LinkType::RAW, &f, f.len() as u32, OPTS) {
        Outcome::Fragment(fr) => assert_eq!(
            (fr.offset, fr.more, fr.protocol, fr.data.len()),
            (0, true, 17, 16)
        ),
        other => panic!("{other:?}"),
    }
    let mut frag = vec![17, 0, 0, 0x08 | 0x01, 0, 0, 0, 9]; // offset 8 bytes, more
    frag.extend([0u8; 8]);
    match decode(LinkType::RAW, &ipv6(44, [1; 16], [2; 16], &frag), 0, OPTS) {
        Outcome::Fragment(fr) => {
            assert_eq!((fr.offset, fr.more, fr.id, fr.ip_version), (8, true, 9, 6))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn tunnels_give_the_inner_flow() {
    let inner = ipv4(
        6,
        [192, 168, 0, 1],
        [8, 8, 8, 8],
        &tcp(40000, 443, 0x02, b""),
    );
    let inner_eth = eth(0x0800, &inner);
    let mut gre = vec![0x20, 0, 0x08, 0x00, 0, 0, 0, 7]; // key present
    gre.extend(&inner);
    let mut vxlan = vec![0x08, 0, 0, 0, 0, 0, 1, 0];
    vxlan.extend(&inner_eth);
    let mut gtp = vec![0x30, 0xFF];
    gtp.extend((inner.len() as u16).to_be_bytes());
    gtp.extend([0, 0, 0, 1]);
    gtp.extend(&inner);
    let mut geneve = vec![0, 0, 0x65, 0x58, 0, 0, 1, 0];
    geneve.extend(&inner_eth);
    let cases: Vec<(Vec<u8>, Tunnel)> = vec![
        (ipv4(47, [1, 0, 0, 1], [1, 0, 0, 2], &gre), Tunnel::GRE),
        (
            ipv4(17, [1, 0, 0, 1], [1, 0, 0, 2], &udp(5000, 4789, &vxlan)),
            Tunnel::VXLAN,
        ),
        (
            ipv4(17, [1, 0, 0, 1], [1, 0, 0, 2], &udp(2152, 2152, &gtp)),
            Tunnel::GTP,
        ),
        (
            ipv4(17, [1, 0, 0, 1], [1, 0, 0, 2], &udp(5000, 6081, &geneve)),
            Tunnel::GENEVE,
        ),
        (
            ipv4(4, [1, 0, 0, 1], [1, 0, 0, 2], &inner),
            Tunnel::IP_IN_IP,
        ),
        (ipv6(4, [1; 16], [2; 16], &inner), Tunnel::IP_IN_IP),
    ];
    for (outer, tunnel) in cases {
        let f = eth(if outer[0] >> 4 == 6 { 0x86DD } else { 0x0800 }, &outer);
        let p = packet(decode(LinkType::ETHERNET, &f, f.len() as u32, OPTS));
        assert_eq!(
            (p.src_ip, p.dst_port, p.tunnel),
            (v4([192, 168, 0, 1]), 443, tunnel),
            "{tunnel:?}"
        );
        let flat = packet(decode(
            LinkType::ETHERNET,
            &f,
            f.len() as u32,
            DecodeOptions {
                decode_tunnels: false,
            },
        ));
        let outer_src = if outer[0] >> 4 == 6 {
            [1; 16]
        } else {
            v4([1, 0, 0, 1])
        };
        assert_eq!((flat.src_ip, flat.tunnel), (outer_src, Tunnel::NONE));
    }
}

#[test]
fn a_tunnel_port_without_a_tunnel_stays_the_outer_flow() {
    let f = ipv4(
        17,
        [1, 0, 0, 1],
        [1, 0, 0, 2],
        &udp(3544, 3544, b"not teredo at all"),
    );
    let p = packet(decode(LinkType::RAW, &f, f.len() as u32, OPTS));
    assert_eq!(
        (p.src_port, p.tunnel, p.payload),
        (3544, Tunnel::NONE, &b"not teredo at all"[..])
    );
}

#[test]
fn other_link_types() {
    let ip = ipv4(17, [1, 0, 0, 1], [1, 0, 0, 2], &udp(7, 9, b""));
    let mut null = 2u32.to_le_bytes().to_vec();
    null.extend(&ip);
    let mut loop_ = 2u32.to_be_bytes().to_vec();
    loop_.extend(&ip);
    let mut ppp = vec![0xFF, 0x03, 0x00, 0x21];
    ppp.extend(&ip);
    let mut chdlc = vec![0x0F, 0x00, 0x08, 0x00];
    chdlc.extend(&ip);
    let mut sll = vec![0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00];
    sll.extend(&ip);
    let mut sll2 = vec![
        0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0,
    ];
    sll2.extend(&ip);
    for (link, frame) in [
        (LinkType::NULL, null),
        (LinkType::LOOP, loop_),
        (LinkType::PPP, ppp.clone()),
        (LinkType::C_HDLC, chdlc.clone()),
        (LinkType::PPP, chdlc), // Cisco HDLC framing on a link declared PPP
        (LinkType::LINUX_SLL, sll),
        (LinkType::LINUX_SLL2, sll2),
        (LinkType::IPV4, ip.clone()),
    ] {
        let p = packet(decode(link, &frame, frame.len() as u32, OPTS));
        assert_eq!((p.src_port, p.dst_port), (7, 9), "{link}");
    }
}

#[test]
fn non_ip_malformed_and_unsupported_are_told_apart() {
    assert!(matches!(
        decode(LinkType::ETHERNET, &eth(0x0806, &[0; 28]), 0, OPTS),
        Outcome::NotIp("arp")
    ));
    assert!(matches!(
        decode(LinkType::ETHERNET, &eth(0x88CC, &[0; 8]), 0, OPTS),
        Outcome::NotIp("lldp")
    ));
    assert!(matches!(
        decode(LinkType::ETHERNET, &[0; 10], 10, OPTS),
        Outcome::Malformed(_)
    ));
    assert!(matches!(
        decode(LinkType::RAW, &[0x45, 0, 0], 3, OPTS),
        Outcome::Malformed(_)
    ));
    assert!(matches!(
        decode(LinkType(4242), &[0; 40], 40, OPTS),
        Outcome::UnsupportedLink
    ));
}

#[test]
fn an_ip_length_beyond_the_wire_frame_is_malformed_but_a_snaplen_cut_is_not() {
    let f = ipv4(17, [1, 0, 0, 1], [1, 0, 0, 2], &udp(7, 9, &[0; 100]));
    let cut = &f[..40];
    assert!(matches!(
        decode(LinkType::RAW, cut, f.len() as u32, OPTS),
        Outcome::Packet(_)
    ));
    assert!(matches!(
        decode(LinkType::RAW, cut, cut.len() as u32, OPTS),
        Outcome::Malformed(_)
    ));
}

#[test]
fn truncated_transport_header_keeps_the_hosts_with_ports_zero() {
    let f = ipv4(6, [1, 0, 0, 1], [1, 0, 0, 2], &[0x04, 0xd2]);
    let p = packet(decode(LinkType::RAW, &f, f.len() as u32, OPTS));
    assert_eq!((p.protocol, p.src_port, p.dst_port), (6, 0, 0));
}

#[test]
fn deep_nesting_is_bounded() {
    let mut pkt = ipv4(17, [1, 0, 0, 1], [1, 0, 0, 2], &udp(1, 2, b""));
    for _ in 0..40 {
        pkt = ipv4(4, [9, 9, 9, 9], [8, 8, 8, 8], &pkt);
    }
    // Decoding stops after MAX_ENCAPSULATION_DEPTH levels and keeps that level's packet.
    assert!(matches!(
        decode(LinkType::RAW, &pkt, pkt.len() as u32, OPTS),
        Outcome::Packet(_)
    ));
}

#[test]
fn ipv6_text_matches_inet_ntop() {
    let cases = [
        (
            "32fb:f967:681e:e96b:face:b00c:0:74fd",
            "32fb:f967:681e:e96b:face:b00c::74fd",
        ),
        ("2001:db8::1", "2001:db8::1"),
        ("::", "::"),
        ("::1", "::1"),
        ("fe80::", "fe80::"),
        ("1:0:0:2:0:0:0:3", "1:0:0:2::3"),
        ("1:0:0:2:3:0:0:4", "1::2:3:0:0:4"),
    ];
    for (input, want) in cases {
        let ip: std::net::Ipv6Addr = input.parse().expect("valid");
        assert_eq!(format_ip(6, &ip.octets()), want);
    }
    assert_eq!(format_ip(4, &v4([10, 1, 2, 3])), "10.1.2.3");
}

/// The addresses read at fixed offsets are those the full decode finds, whenever it finds
/// a packet or a fragment; and frames that may hide another flow are left to it.
#[test]
fn plain_flow_addresses_agree_with_the_full_decode() {
    let (a, b) = ([10, 0, 0, 1], [192, 0, 2, 7]);
    let (a6, b6) = ([0x20; 16], [0xfe; 16]);
    let vxlan = {
        let mut v = vec![0x08, 0, 0, 0, 0, 0, 0x2a, 0];
        v.extend(eth(
            0x0800,
            &ipv4(6, [1, 1, 1, 1], [2, 2, 2, 2], &tcp(1, 2, 2, b"")),
        ));
        v
    };
    let mut fragment = ipv4(17, a, b, &udp(5000, 4789, &vxlan));
    fragment[6] = 0x20; // more fragments
    let vlan = |inner: Vec<u8>| {
        let mut v = vec![0, 7];
        v.extend(0x0800u16.to_be_bytes());
        v.extend(inner);
        v
    };
    let plain = [
        eth(0x0800, &ipv4(6, a, b, &tcp(40000, 443, 0x18, b"hello"))),
        eth(0x0800, &ipv4(17, a, b, &udp(5353, 53, b"q"))),
        eth(0x0800, &ipv4(1, a, b, &[8, 0, 0, 0])),
        eth(0x86DD, &ipv6(6, a6, b6, &tcp(1, 2, 2, b""))),
        eth(0x86DD, &ipv6(17, a6, b6, &udp(1, 2, b"x"))),
        eth(0x8100, &vlan(ipv4(6, a, b, &tcp(1, 2, 2, b"")))),
    ];
    let hidden = [
        // A fragment's flow may be inside a tunnel its first fragment opens.
        eth(0x0800, &fragment),
        eth(0x0800, &ipv4(17, a, b, &udp(5000, 4789, &vxlan))),
        eth(
            0x0800,
            &ipv4(
                17,
                a,
                b,
                &udp(2152, 2152, b"\x30\xff\x00\x04\0\0\0\x01abcd"),
            ),
        ),
        eth(
            0x0800,
            &ipv4(
                4,
                a,
                b,
                &ipv4(6, [1, 1, 1, 1], [2, 2, 2, 2], &tcp(1, 2, 2, b"")),
            ),
        ),
        eth(0x0800, &ipv4(47, a, b, b"\0\0\x08\0")),
        eth(0x86DD, &ipv6(0, a6, b6, &[6, 0, 0, 0, 0, 0, 0, 0])),
        eth(0x8847, &[0, 0, 0x11, 64]),
    ];
    for f in &plain {
        assert!(
            plain_flow_addresses(LinkType::ETHERNET, f, OPTS).is_some(),
            "{f:02x?}"
        );
    }
    for f in &hidden {
        assert!(
            plain_flow_addresses(LinkType::ETHERNET, f, OPTS).is_none(),
            "{f:02x?}"
        );
    }
    assert!(plain_flow_addresses(LinkType(101), &plain[0][14..], OPTS).is_none());
    // Without tunnel decoding a tunnel port is an ordinary one.
    let no_tunnels = DecodeOptions {
        decode_tunnels: false,
    };
    assert!(plain_flow_addresses(LinkType::ETHERNET, &hidden[1], no_tunnels).is_some());
    // Whatever the bytes, the two never disagree on a packet's addresses.
    for base in plain.iter().chain(&hidden) {
        for at in 0..base.len().min(80) {
            for value in [0x00, 0x01, 0x06, 0x11, 0x20, 0x45, 0x60, 0x81, 0xff] {
                let mut f = base.clone();
                f[at] = value;
                for opts in [OPTS, no_tunnels] {
                    let Some(pair) = plain_flow_addresses(LinkType::ETHERNET, &f, opts) else {
                        continue;
                    };
                    let wire = f.len() as u32;
                    let full = match decode(LinkType::ETHERNET, &f, wire, opts) {
                        Outcome::Packet(p) => (p.src_ip, p.dst_ip),
                        Outcome::Fragment(x) => (x.src_ip, x.dst_ip),
                        _ => continue,
                    };
                    let full = (u128::from_le_bytes(full.0), u128::from_le_bytes(full.1));
                    assert_eq!(pair, full, "byte {at} set to {value:#x}: {f:02x?}");
                }
            }
        }
    }
}

#[test]
fn teredo_between_a_client_and_its_relay_is_known_by_its_teredo_address_on_any_port() {
    let teredo_client = {
        let mut a = [0u8; 16];
        a[..4].copy_from_slice(&[0x20, 0x01, 0x00, 0x00]);
        a[15] = 7;
        a
    };
    let web = {
        let mut a = [0u8; 16];
        a[..4].copy_from_slice(&[0x20, 0x01, 0x48, 0x60]);
        a[15] = 0x68;
        a
    };
    let inner = ipv6(6, teredo_client, web, &tcp(1286, 80, 0x02, b""));
    let f = ipv4(
        17,
        [192, 168, 2, 16],
        [83, 170, 1, 38],
        &udp(3797, 32900, &inner),
    );
    let p = packet(decode(LinkType::RAW, &f, f.len() as u32, OPTS));
    assert_eq!(
        (p.src_port, p.dst_port, p.tunnel),
        (1286, 80, Tunnel::TEREDO)
    );
    // The sharding shortcut must not take the outer addresses for it.
    let framed = eth(0x0800, &f);
    assert_eq!(
        plain_flow_addresses(LinkType::ETHERNET, &framed, OPTS),
        None
    );

    // The same IPv6 packet without a Teredo address, or not filling the datagram, stays UDP.
    let native = ipv6(6, web, web, &tcp(1286, 80, 0x02, b""));
    let mut longer = inner.clone();
    longer.push(0);
    for payload in [native, longer] {
        let f = ipv4(
            17,
            [192, 168, 2, 16],
            [83, 170, 1, 38],
            &udp(3797, 32900, &payload),
        );
        let p = packet(decode(LinkType::RAW, &f, f.len() as u32, OPTS));
        assert_eq!((p.src_port, p.tunnel), (3797, Tunnel::NONE));
    }
}

#[test]
fn gre_over_udp_and_ayiya_carry_their_inner_packets() {
    let inner4 = ipv4(
        6,
        [172, 17, 0, 2],
        [192, 0, 78, 150],
        &tcp(36518, 80, 0x02, b""),
    );
    // GRE in UDP (RFC 8086): a plain GRE header for IPv4, to port 4754.
    let mut gre = vec![0, 0, 0x08, 0x00];
    gre.extend(&inner4);
    let f = ipv4(17, [10, 0, 0, 1], [10, 0, 0, 2], &udp(50343, 4754, &gre));
    let p = packet(decode(LinkType::RAW, &f, f.len() as u32, OPTS));
    assert_eq!((p.src_port, p.dst_port, p.tunnel), (36518, 80, Tunnel::GRE));

    // AYIYA forward: 4-byte identity (2^2), 20-byte signature (5 words), next header IPv6.
    let inner6 = ipv6(6, [0x20; 16], [0x30; 16], &tcp(53382, 80, 0x02, b""));
    let ayiya = |op: u8| {
        let mut v = vec![0x21, 0x52, 0x10 | op, 41, 0, 0, 0, 0];
        v.extend([7; 4 + 20]);
        v.extend(&inner6);
        v
    };
    let f = ipv4(
        17,
        [10, 0, 0, 1],
        [10, 0, 0, 2],
        &udp(53859, 5072, &ayiya(1)),
    );
    let p = packet(decode(LinkType::RAW, &f, f.len() as u32, OPTS));
    assert_eq!(
        (p.src_port, p.dst_port, p.tunnel),
        (53382, 80, Tunnel::AYIYA)
    );
    // A heartbeat (operation 0) carries no packet: the outer flow stays.
    let f = ipv4(
        17,
        [10, 0, 0, 1],
        [10, 0, 0, 2],
        &udp(53859, 5072, &ayiya(0)),
    );
    let p = packet(decode(LinkType::RAW, &f, f.len() as u32, OPTS));
    assert_eq!((p.src_port, p.tunnel), (53859, Tunnel::NONE));
}
