"""Decoding: every link type and encapsulation leads to the innermost flow, with the
innermost VLAN tag and the tunnel's number; non-IP frames are counted, never flows."""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import netsonde
import pcapgen as pg
import pytest

CLIENT4, SERVER4 = "10.1.1.1", "10.2.2.2"
CLIENT6, SERVER6 = "2001:db8:1::1", "2001:db8:2::2"
CPORT, SPORT = 40001, 443
OUT_C, OUT_S = "192.0.2.1", "192.0.2.2"
OUT_C6, OUT_S6 = "2001:db8:ffff::1", "2001:db8:ffff::2"

TUNNEL_NONE, TUNNEL_GTP, TUNNEL_CAPWAP, TUNNEL_TZSP, TUNNEL_L2TP = 0, 1, 2, 3, 4
TUNNEL_VXLAN, TUNNEL_GRE = 5, 6
TUNNEL_GENEVE, TUNNEL_TEREDO, TUNNEL_IPIP, TUNNEL_ERSPAN = 7, 8, 9, 10


def handshake(version: int = 4) -> list[tuple[bool, bytes]]:
    """The inner conversation: SYN, SYN-ACK, ACK as (from_client, ip_packet)."""
    c, s = (CLIENT4, SERVER4) if version == 4 else (CLIENT6, SERVER6)
    return [
        (
            True,
            pg.ip_packet(
                c, s, pg.PROTO_TCP, pg.tcp(CPORT, SPORT, flags="S", seq=100, options=pg.tcp_options())
            ),
        ),
        (False, pg.ip_packet(s, c, pg.PROTO_TCP, pg.tcp(SPORT, CPORT, flags="SA", seq=900, ack=101))),
        (True, pg.ip_packet(c, s, pg.PROTO_TCP, pg.tcp(CPORT, SPORT, flags="A", seq=101, ack=901))),
    ]


# An encapsulation turns (inner ip packet, from_client) into a frame of the case's link type.
Encap = Callable[[bytes, bool], bytes]


@dataclass(frozen=True)
class Case:
    linktype: int
    encap: Encap
    vlan_id: int = 0
    tunnel_id: int = TUNNEL_NONE
    inner_version: int = 4
    # The outer flow when tunnels are not decoded: protocol and one well-known port (or 0).
    outer_protocol: int | None = None
    outer_port: int = 0
    outer_version: int = 4


def _l2(fn: Callable[[bytes], bytes]) -> Encap:
    return lambda p, _c: fn(p)


def _outer_ip(
    proto: int, version: int = 4, vlans: tuple[tuple[int, int], ...] = ()
) -> Callable[[Callable[[bytes], bytes]], Encap]:
    """An outer IP header (direction-aware) around what ``inner`` makes of the packet."""

    def wrap(inner: Callable[[bytes], bytes]) -> Encap:
        def encap(p: bytes, from_client: bool) -> bytes:
            a, b = (OUT_C, OUT_S) if version == 4 else (OUT_C6, OUT_S6)
            src, dst = (a, b) if from_client else (b, a)
            return pg.ether_for(pg.ip_packet(src, dst, proto, inner(p)), vlans=vlans)

        return encap

    return wrap


def _udp_tunnel(
    port: int,
    body: Callable[[bytes], bytes],
    *,
    version: int = 4,
    both_to_port: bool = True,
    vlans: tuple[tuple[int, int], ...] = (),
) -> Encap:
    """UDP to the tunnel port; replies go to the port too (VXLAN, Geneve) or come from it."""

    def encap(p: bytes, from_client: bool) -> bytes:
        a, b = (OUT_C, OUT_S) if version == 4 else (OUT_C6, OUT_S6)
        if from_client:
            seg = pg.udp(50000, port, body(p))
            src, dst = a, b
        else:
            seg = pg.udp(50001, port, body(p)) if both_to_port else pg.udp(port, 50000, body(p))
            src, dst = b, a
        return pg.ether_for(pg.ip_packet(src, dst, pg.PROTO_UDP, seg), vlans=vlans)

    return encap


def _ppp_bare(p: bytes) -> bytes:
    return pg.ppp_for(p, address_control=False)


def _ppp_compressed(p: bytes) -> bytes:
    return pg.ppp_for(p, address_control=False, compress=True)


ETHER = pg.LINKTYPE_ETHERNET
V = pg.TPID_VLAN
Q = pg.TPID_QINQ

LINK_CASES: dict[str, Case] = {
    "ethernet": Case(ETHER, _l2(pg.ether_for)),
    "ethernet-ipv6": Case(ETHER, _l2(pg.ether_for), inner_version=6),
    "ethernet-padded": Case(ETHER, _l2(lambda p: pg.ether_for(p, pad=True))),
    "802.3-llc-snap": Case(ETHER, _l2(pg.dot3_llc_snap)),
    "802.3-llc-snap-ipv6": Case(ETHER, _l2(lambda p: pg.dot3_llc_snap(p, pg.ETH_IPV6)), inner_version=6),
    "802.1q": Case(ETHER, _l2(lambda p: pg.ether_for(p, vlans=[(V, 100)])), vlan_id=100),
    "802.1q-ipv6": Case(
        ETHER, _l2(lambda p: pg.ether_for(p, vlans=[(V, 4094)])), vlan_id=4094, inner_version=6
    ),
    "802.1ad-qinq": Case(ETHER, _l2(lambda p: pg.ether_for(p, vlans=[(Q, 100), (V, 200)])), vlan_id=200),
    "qinq-0x9100": Case(
        ETHER, _l2(lambda p: pg.ether_for(p, vlans=[(pg.TPID_QINQ_OLD, 7), (V, 8)])), vlan_id=8
    ),
    "three-tags": Case(ETHER, _l2(lambda p: pg.ether_for(p, vlans=[(Q, 1), (V, 2), (V, 3)])), vlan_id=3),
    "802.1q-priority-dei": Case(
        ETHER, _l2(lambda p: pg.ether_for(p, vlans=[(V, (5 << 13) | (1 << 12) | 1234)])), vlan_id=1234
    ),
    "802.1q-priority-only": Case(ETHER, _l2(lambda p: pg.ether_for(p, vlans=[(V, 6 << 13)]))),
    "mpls-pseudowire-control-word": Case(
        ETHER,
        _l2(
            lambda p: pg.ether(
                pg.mpls(b"\x00\x00\x00\x00" + pg.ether_for(p, vlans=[(V, 9)]), [16, 17]), pg.ETH_MPLS
            )
        ),
        vlan_id=9,
    ),
    "mpls-one-label": Case(ETHER, _l2(lambda p: pg.ether(pg.mpls(p, [16]), pg.ETH_MPLS))),
    "mpls-stack": Case(ETHER, _l2(lambda p: pg.ether(pg.mpls(p, [16, 17, 18]), pg.ETH_MPLS))),
    "mpls-stack-ipv6": Case(
        ETHER, _l2(lambda p: pg.ether(pg.mpls(p, [100, 200]), pg.ETH_MPLS)), inner_version=6
    ),
    "vlan-mpls": Case(
        ETHER, _l2(lambda p: pg.ether(pg.mpls(p, [16, 17]), pg.ETH_MPLS, vlans=[(V, 55)])), vlan_id=55
    ),
    "pppoe": Case(ETHER, _l2(lambda p: pg.ether(pg.pppoe_session(p), pg.ETH_PPPOE_SESSION))),
    "pppoe-ipv6": Case(
        ETHER, _l2(lambda p: pg.ether(pg.pppoe_session(p), pg.ETH_PPPOE_SESSION)), inner_version=6
    ),
    "vlan-pppoe": Case(
        ETHER,
        _l2(lambda p: pg.ether(pg.pppoe_session(p), pg.ETH_PPPOE_SESSION, vlans=[(Q, 300), (V, 301)])),
        vlan_id=301,
    ),
    "raw": Case(pg.LINKTYPE_RAW, _l2(lambda p: p)),
    "raw-ipv6": Case(pg.LINKTYPE_RAW, _l2(lambda p: p), inner_version=6),
    "ipv4-228": Case(pg.LINKTYPE_IPV4, _l2(lambda p: p)),
    "ipv6-229": Case(pg.LINKTYPE_IPV6, _l2(lambda p: p), inner_version=6),
    "null-little-endian": Case(pg.LINKTYPE_NULL, _l2(pg.link_null)),
    "null-big-endian": Case(pg.LINKTYPE_NULL, _l2(lambda p: pg.link_null(p, big_endian=True))),
    "null-ipv6-24": Case(pg.LINKTYPE_NULL, _l2(lambda p: pg.link_null(p, family=24)), inner_version=6),
    "null-ipv6-28": Case(pg.LINKTYPE_NULL, _l2(lambda p: pg.link_null(p, family=28)), inner_version=6),
    "null-ipv6-30-be": Case(
        pg.LINKTYPE_NULL, _l2(lambda p: pg.link_null(p, family=30, big_endian=True)), inner_version=6
    ),
    "loop": Case(pg.LINKTYPE_LOOP, _l2(pg.link_loop)),
    "loop-ipv6": Case(pg.LINKTYPE_LOOP, _l2(lambda p: pg.link_loop(p, family=24)), inner_version=6),
    "ppp": Case(pg.LINKTYPE_PPP, _l2(pg.ppp_for)),
    "ppp-ipv6": Case(pg.LINKTYPE_PPP, _l2(pg.ppp_for), inner_version=6),
    "ppp-no-address-control": Case(pg.LINKTYPE_PPP, _l2(_ppp_bare)),
    "ppp-compressed-protocol": Case(pg.LINKTYPE_PPP, _l2(_ppp_compressed)),
    "cisco-hdlc": Case(pg.LINKTYPE_C_HDLC, _l2(pg.link_cisco_hdlc)),
    "cisco-hdlc-broadcast-ipv6": Case(
        pg.LINKTYPE_C_HDLC, _l2(lambda p: pg.link_cisco_hdlc(p, address=0x8F)), inner_version=6
    ),
    "linux-sll": Case(pg.LINKTYPE_LINUX_SLL, _l2(pg.link_sll)),
    "linux-sll-ipv6-outgoing": Case(
        pg.LINKTYPE_LINUX_SLL, _l2(lambda p: pg.link_sll(p, packet_type=4)), inner_version=6
    ),
    "linux-sll-vlan": Case(
        pg.LINKTYPE_LINUX_SLL,
        _l2(lambda p: pg.link_sll(b"\x00\x2a" + b"\x08\x00" + p, ethertype=V)),
        vlan_id=42,
    ),
    "ieee802.11": Case(pg.LINKTYPE_IEEE802_11, _l2(pg.ieee80211_data)),
    "ieee802.11-qos-ipv6": Case(
        pg.LINKTYPE_IEEE802_11, _l2(lambda p: pg.ieee80211_data(p, qos=True)), inner_version=6
    ),
    "radiotap": Case(
        pg.LINKTYPE_RADIOTAP, _l2(lambda p: pg.link_radiotap(pg.ieee80211_data(p, to_ds=False)))
    ),
    "ppi-80211": Case(pg.LINKTYPE_PPI, _l2(lambda p: pg.link_ppi(pg.ieee80211_data(p)))),
    "ppi-ethernet": Case(pg.LINKTYPE_PPI, _l2(lambda p: pg.link_ppi(pg.ether_for(p), dlt=1))),
    "linux-sll2": Case(pg.LINKTYPE_LINUX_SLL2, _l2(pg.link_sll2)),
    "linux-sll2-ipv6": Case(pg.LINKTYPE_LINUX_SLL2, _l2(pg.link_sll2), inner_version=6),
}

_gre = _outer_ip(pg.PROTO_GRE)

TUNNEL_CASES: dict[str, Case] = {
    "gre": Case(ETHER, _gre(pg.gre), tunnel_id=TUNNEL_GRE, outer_protocol=pg.PROTO_GRE),
    "gre-key-seq-checksum": Case(
        ETHER,
        _gre(lambda p: pg.gre(p, key=0xABCD, seq=7, checksum=True)),
        tunnel_id=TUNNEL_GRE,
        outer_protocol=pg.PROTO_GRE,
    ),
    "gre-key-only": Case(
        ETHER, _gre(lambda p: pg.gre(p, key=1)), tunnel_id=TUNNEL_GRE, outer_protocol=pg.PROTO_GRE
    ),
    "gre-ipv6-payload": Case(
        ETHER,
        _gre(lambda p: pg.gre(p, pg.ETH_IPV6)),
        tunnel_id=TUNNEL_GRE,
        inner_version=6,
        outer_protocol=pg.PROTO_GRE,
    ),
    "gre-over-ipv6": Case(
        ETHER,
        _outer_ip(pg.PROTO_GRE, version=6)(pg.gre),
        tunnel_id=TUNNEL_GRE,
        outer_protocol=pg.PROTO_GRE,
        outer_version=6,
    ),
    "gre-transparent-ethernet-vlan": Case(
        ETHER,
        _gre(lambda p: pg.gre(pg.ether_for(p, vlans=[(V, 77)]), pg.ETH_TEB)),
        vlan_id=77,
        tunnel_id=TUNNEL_GRE,
        outer_protocol=pg.PROTO_GRE,
    ),
    "gre-in-vlan": Case(
        ETHER,
        _outer_ip(pg.PROTO_GRE, vlans=((V, 12),))(pg.gre),
        vlan_id=12,
        tunnel_id=TUNNEL_GRE,
        outer_protocol=pg.PROTO_GRE,
    ),
    "pptp-enhanced-gre": Case(
        ETHER, _gre(lambda p: pg.gre_pptp(pg.ppp(p))), tunnel_id=TUNNEL_GRE, outer_protocol=pg.PROTO_GRE
    ),
    "pptp-enhanced-gre-ack": Case(
        ETHER,
        _gre(lambda p: pg.gre_pptp(pg.ppp(p), seq=9, ack=8)),
        tunnel_id=TUNNEL_GRE,
        outer_protocol=pg.PROTO_GRE,
    ),
    "pptp-enhanced-gre-compressed-ppp": Case(
        ETHER,
        _gre(lambda p: pg.gre_pptp(pg.ppp(p, address_control=False, compress=True))),
        tunnel_id=TUNNEL_GRE,
        outer_protocol=pg.PROTO_GRE,
    ),
    "erspan-i": Case(
        ETHER,
        _gre(lambda p: pg.erspan_i(pg.ether_for(p))),
        tunnel_id=TUNNEL_ERSPAN,
        outer_protocol=pg.PROTO_GRE,
    ),
    "erspan-ii": Case(
        ETHER,
        _gre(lambda p: pg.erspan_ii(pg.ether_for(p))),
        tunnel_id=TUNNEL_ERSPAN,
        outer_protocol=pg.PROTO_GRE,
    ),
    "erspan-ii-mirrored-vlan": Case(
        ETHER,
        _gre(lambda p: pg.erspan_ii(pg.ether_for(p, vlans=[(V, 321)]))),
        vlan_id=321,
        tunnel_id=TUNNEL_ERSPAN,
        outer_protocol=pg.PROTO_GRE,
    ),
    "erspan-iii": Case(
        ETHER,
        _gre(lambda p: pg.erspan_iii(pg.ether_for(p))),
        tunnel_id=TUNNEL_ERSPAN,
        outer_protocol=pg.PROTO_GRE,
    ),
    "erspan-iii-platform-subheader": Case(
        ETHER,
        _gre(lambda p: pg.erspan_iii(pg.ether_for(p), platform_subheader=True)),
        tunnel_id=TUNNEL_ERSPAN,
        outer_protocol=pg.PROTO_GRE,
    ),
    "ipip-4in4": Case(
        ETHER, _outer_ip(pg.PROTO_IPIP)(lambda p: p), tunnel_id=TUNNEL_IPIP, outer_protocol=pg.PROTO_IPIP
    ),
    "ipip-6in4": Case(
        ETHER,
        _outer_ip(pg.PROTO_IPV6)(lambda p: p),
        tunnel_id=TUNNEL_IPIP,
        inner_version=6,
        outer_protocol=pg.PROTO_IPV6,
    ),
    "ipip-4in6": Case(
        ETHER,
        _outer_ip(pg.PROTO_IPIP, version=6)(lambda p: p),
        tunnel_id=TUNNEL_IPIP,
        outer_protocol=pg.PROTO_IPIP,
        outer_version=6,
    ),
    "ipip-6in6": Case(
        ETHER,
        _outer_ip(pg.PROTO_IPV6, version=6)(lambda p: p),
        tunnel_id=TUNNEL_IPIP,
        inner_version=6,
        outer_protocol=pg.PROTO_IPV6,
        outer_version=6,
    ),
    "gtp-u": Case(
        ETHER,
        _udp_tunnel(2152, pg.gtp_u, both_to_port=False),
        tunnel_id=TUNNEL_GTP,
        outer_protocol=pg.PROTO_UDP,
        outer_port=2152,
    ),
    "gtp-u-both-2152": Case(
        ETHER, _udp_tunnel(2152, pg.gtp_u), tunnel_id=TUNNEL_GTP, outer_protocol=pg.PROTO_UDP, outer_port=2152
    ),
    "gtp-u-extension-header": Case(
        ETHER,
        _udp_tunnel(2152, lambda p: pg.gtp_u(p, extension=True)),
        tunnel_id=TUNNEL_GTP,
        outer_protocol=pg.PROTO_UDP,
        outer_port=2152,
    ),
    "gtp-u-sequence": Case(
        ETHER,
        _udp_tunnel(2152, lambda p: pg.gtp_u(p, sequence=5)),
        tunnel_id=TUNNEL_GTP,
        outer_protocol=pg.PROTO_UDP,
        outer_port=2152,
    ),
    "gtp-u-ipv6-inner": Case(
        ETHER,
        _udp_tunnel(2152, lambda p: pg.gtp_u(p, extension=True)),
        tunnel_id=TUNNEL_GTP,
        inner_version=6,
        outer_protocol=pg.PROTO_UDP,
        outer_port=2152,
    ),
    "gtp-u-over-ipv6": Case(
        ETHER,
        _udp_tunnel(2152, pg.gtp_u, version=6),
        tunnel_id=TUNNEL_GTP,
        outer_protocol=pg.PROTO_UDP,
        outer_port=2152,
        outer_version=6,
    ),
    "vxlan": Case(
        ETHER,
        _udp_tunnel(4789, lambda p: pg.vxlan(pg.ether_for(p))),
        tunnel_id=TUNNEL_VXLAN,
        outer_protocol=pg.PROTO_UDP,
        outer_port=4789,
    ),
    "vxlan-inner-vlan": Case(
        ETHER,
        _udp_tunnel(4789, lambda p: pg.vxlan(pg.ether_for(p, vlans=[(V, 20)])), vlans=((V, 10),)),
        vlan_id=20,
        tunnel_id=TUNNEL_VXLAN,
        outer_protocol=pg.PROTO_UDP,
        outer_port=4789,
    ),
    "vxlan-ipv6-inner": Case(
        ETHER,
        _udp_tunnel(4789, lambda p: pg.vxlan(pg.ether_for(p))),
        tunnel_id=TUNNEL_VXLAN,
        inner_version=6,
        outer_protocol=pg.PROTO_UDP,
        outer_port=4789,
    ),
    "geneve-ethernet": Case(
        ETHER,
        _udp_tunnel(6081, lambda p: pg.geneve(pg.ether_for(p))),
        tunnel_id=TUNNEL_GENEVE,
        outer_protocol=pg.PROTO_UDP,
        outer_port=6081,
    ),
    "geneve-options": Case(
        ETHER,
        _udp_tunnel(6081, lambda p: pg.geneve(pg.ether_for(p), options=pg.geneve_option() * 2)),
        tunnel_id=TUNNEL_GENEVE,
        outer_protocol=pg.PROTO_UDP,
        outer_port=6081,
    ),
    "geneve-ip": Case(
        ETHER,
        _udp_tunnel(6081, lambda p: pg.geneve(p, pg.ETH_IPV4)),
        tunnel_id=TUNNEL_GENEVE,
        outer_protocol=pg.PROTO_UDP,
        outer_port=6081,
    ),
    "l2tp": Case(
        ETHER,
        _udp_tunnel(1701, lambda p: pg.l2tp_v2(pg.ppp_for(p)), both_to_port=False),
        tunnel_id=TUNNEL_L2TP,
        outer_protocol=pg.PROTO_UDP,
        outer_port=1701,
    ),
    "l2tp-length-sequence-ipv6": Case(
        ETHER,
        _udp_tunnel(1701, lambda p: pg.l2tp_v2(pg.ppp_for(p), with_length=True, ns_nr=(3, 4))),
        tunnel_id=TUNNEL_L2TP,
        inner_version=6,
        outer_protocol=pg.PROTO_UDP,
        outer_port=1701,
    ),
    "capwap-ethernet": Case(
        ETHER,
        _udp_tunnel(5247, lambda p: pg.capwap_data(pg.ether_for(p)), both_to_port=False),
        tunnel_id=TUNNEL_CAPWAP,
        outer_protocol=pg.PROTO_UDP,
        outer_port=5247,
    ),
    "capwap-native-80211": Case(
        ETHER,
        _udp_tunnel(5247, lambda p: pg.capwap_data(pg.ieee80211_data(p, qos=True), native=True)),
        tunnel_id=TUNNEL_CAPWAP,
        outer_protocol=pg.PROTO_UDP,
        outer_port=5247,
    ),
    "tzsp-ethernet": Case(
        ETHER,
        _udp_tunnel(37008, lambda p: pg.tzsp(pg.ether_for(p))),
        tunnel_id=TUNNEL_TZSP,
        outer_protocol=pg.PROTO_UDP,
        outer_port=37008,
    ),
    "tzsp-80211-tagged": Case(
        ETHER,
        _udp_tunnel(
            37008, lambda p: pg.tzsp(pg.ieee80211_data(p), encapsulation=18, tags=b"\x0a\x01\x2a\x00")
        ),
        tunnel_id=TUNNEL_TZSP,
        outer_protocol=pg.PROTO_UDP,
        outer_port=37008,
    ),
    "teredo": Case(
        ETHER,
        _udp_tunnel(3544, pg.teredo, both_to_port=False),
        tunnel_id=TUNNEL_TEREDO,
        inner_version=6,
        outer_protocol=pg.PROTO_UDP,
        outer_port=3544,
    ),
    "teredo-origin-indication": Case(
        ETHER,
        _udp_tunnel(3544, lambda p: pg.teredo(p, origin=(40000, "198.51.100.7")), both_to_port=False),
        tunnel_id=TUNNEL_TEREDO,
        inner_version=6,
        outer_protocol=pg.PROTO_UDP,
        outer_port=3544,
    ),
}


def _frames(case: Case) -> list[pg.Frame]:
    t0 = pg.ns("1650000000")
    return [
        pg.Frame(t0 + i * 10_000_000, case.encap(pkt, from_client))
        for i, (from_client, pkt) in enumerate(handshake(case.inner_version))
    ]


def _run(
    tmp_path: Path, case: Case, via: str, **options: object
) -> tuple[list[netsonde.Flow], dict[str, int]]:
    frames = _frames(case)
    engine = netsonde.Engine(**options)
    if via == "file":
        path = pg.write_pcap(tmp_path / "case.pcap", frames, linktype=case.linktype)
        flows = engine.process(path)
    else:
        flows = engine.process([(f.ts_ns / 1e9, f.data) for f in frames], link_type=case.linktype)
    flows += engine.flush()
    return flows, engine.stats


def _check_inner(flows: list[netsonde.Flow], case: Case, frames: list[pg.Frame]) -> None:
    assert len(flows) == 1, [repr(f) for f in flows]
    (f,) = flows
    c, s = (CLIENT4, SERVER4) if case.inner_version == 4 else (CLIENT6, SERVER6)
    got = (f.src_ip, f.src_port, f.dst_ip, f.dst_port, f.protocol, f.ip_version, f.vlan_id, f.tunnel_id)
    assert got == (c, CPORT, s, SPORT, 6, case.inner_version, case.vlan_id, case.tunnel_id)
    assert (f.src2dst_packets, f.dst2src_packets) == (2, 1)
    assert f.src2dst_bytes == len(frames[0].data) + len(frames[2].data)
    assert f.dst2src_bytes == len(frames[1].data)
    assert f.src2dst_tcp_flags == "SA" and f.dst2src_tcp_flags == "SA"


@pytest.mark.parametrize("via", ["file", "packets"])
@pytest.mark.parametrize("name", list(LINK_CASES))
def test_link_layers(tmp_path: Path, name: str, via: str) -> None:
    case = LINK_CASES[name]
    flows, stats = _run(tmp_path, case, via)
    _check_inner(flows, case, _frames(case))
    assert stats["malformed"] == 0 and stats["not_ip"] == 0


@pytest.mark.parametrize("name", list(TUNNEL_CASES))
def test_tunnels_give_the_inner_flow(tmp_path: Path, name: str) -> None:
    case = TUNNEL_CASES[name]
    flows, stats = _run(tmp_path, case, "file")
    _check_inner(flows, case, _frames(case))
    assert stats["malformed"] == 0


@pytest.mark.parametrize("name", list(TUNNEL_CASES))
def test_tunnels_not_decoded_give_the_outer_flow(tmp_path: Path, name: str) -> None:
    case = TUNNEL_CASES[name]
    flows, _ = _run(tmp_path, case, "file", decode_tunnels=False)
    outer = {OUT_C, OUT_S} if case.outer_version == 4 else {OUT_C6, OUT_S6}
    assert flows, "no flow at all"
    for f in flows:
        assert {f.src_ip, f.dst_ip} == outer
        assert f.protocol == case.outer_protocol
        assert f.ip_version == case.outer_version
        assert f.tunnel_id == 0
        if case.outer_port:
            assert case.outer_port in (f.src_port, f.dst_port)
        else:
            assert (f.src_port, f.dst_port) == (0, 0)
    assert sum(f.bidirectional_packets for f in flows) == 3
    assert sum(f.bidirectional_bytes for f in flows) == sum(len(fr.data) for fr in _frames(case))


def test_gre_outer_flow_is_one_bidirectional_flow(tmp_path: Path) -> None:
    case = TUNNEL_CASES["gre"]
    (f,) = _run(tmp_path, case, "file", decode_tunnels=False)[0]
    assert (f.src_ip, f.dst_ip, f.protocol) == (OUT_C, OUT_S, 47)
    assert (f.src2dst_packets, f.dst2src_packets) == (2, 1)


def test_tunnel_record_names_the_tunnel(tmp_path: Path) -> None:
    names = {}
    for name in ("gre", "vxlan", "gtp-u", "teredo", "ipip-4in4", "erspan-ii", "geneve-ip"):
        (f,) = _run(tmp_path, TUNNEL_CASES[name], "file")[0]
        names[f.tunnel_id] = f.tunnel
    assert names == {6: "GRE", 5: "VXLAN", 1: "GTP", 8: "Teredo", 9: "IP-in-IP", 10: "ERSPAN", 7: "Geneve"}
    (plain,) = _run(tmp_path, LINK_CASES["ethernet"], "file")[0]
    assert plain.tunnel_id == 0 and plain.tunnel == "none"


def test_same_endpoints_in_different_vlans_are_different_flows() -> None:
    pkt = pg.ipv4(CLIENT4, SERVER4, 17, pg.udp(5000, 53, b"q"))
    packets = [
        (1.0, pg.ether_for(pkt, vlans=[(V, 1)])),
        (1.1, pg.ether_for(pkt, vlans=[(V, 2)])),
        (1.2, pg.ether_for(pkt)),
    ]
    flows = list(netsonde.analyze(packets))
    assert sorted(f.vlan_id for f in flows) == [0, 1, 2]


def test_tunnelled_and_plain_copies_are_different_flows() -> None:
    case = TUNNEL_CASES["vxlan"]
    frames = [*_frames(case), pg.Frame(pg.ns("1650000001"), pg.ether_for(handshake()[0][1]))]
    flows = list(netsonde.analyze([(f.ts_ns / 1e9, f.data) for f in frames]))
    assert sorted((f.tunnel_id, f.bidirectional_packets) for f in flows) == [(0, 1), (5, 3)]


# --------------------------------------------------------------------------- L3 / L4 details


def _one_flow(packets: list[bytes], link_type: str = "raw") -> netsonde.Flow:
    flows = list(netsonde.analyze([(1.0 + i, p) for i, p in enumerate(packets)], link_type=link_type))
    assert len(flows) == 1, flows
    return flows[0]


@pytest.mark.parametrize(
    "options", [pg.ipv4_option_router_alert(), pg.ipv4_option_record_route(9), b"\x01\x01\x01\x00"]
)
def test_ipv4_options_are_skipped(options: bytes) -> None:
    f = _one_flow([pg.ipv4(CLIENT4, SERVER4, 6, pg.tcp(CPORT, SPORT, flags="S"), options=options)])
    assert (f.src_port, f.dst_port, f.protocol) == (CPORT, SPORT, 6)


@pytest.mark.parametrize(
    "ext",
    [
        [pg.hop_by_hop()],
        [pg.hop_by_hop(b"\x05\x02\x00\x00")],
        [pg.routing()],
        [pg.dest_options()],
        [pg.hop_by_hop(), pg.routing(["2001:db8::7", "2001:db8::8"]), pg.dest_options(b"\x00" * 20)],
        [pg.hop_by_hop(), pg.dest_options(), pg.routing(), pg.dest_options()],
        [pg.frag_header(0, False, 99)],  # an atomic fragment: the whole datagram
        [pg.auth_header()],
        [pg.hop_by_hop(), pg.auth_header(icv=b"\x11" * 20), pg.dest_options()],
    ],
)
def test_ipv6_extension_headers_are_walked(ext: list[pg.Ext]) -> None:
    f = _one_flow([pg.ipv6(CLIENT6, SERVER6, 6, pg.tcp(CPORT, SPORT, flags="S"), ext=ext)])
    assert (f.src_ip, f.src_port, f.dst_port, f.protocol, f.ip_version) == (CLIENT6, CPORT, SPORT, 6, 6)


def test_icmp_flow() -> None:
    f = _one_flow([pg.ipv4(CLIENT4, SERVER4, 1, pg.icmp(8)), pg.ipv4(SERVER4, CLIENT4, 1, pg.icmp(0))])
    assert (f.src_ip, f.dst_ip, f.protocol, f.src_port, f.dst_port) == (CLIENT4, SERVER4, 1, 0, 0)
    assert (f.src2dst_packets, f.dst2src_packets) == (1, 1)


def test_icmpv6_flow() -> None:
    f = _one_flow(
        [pg.ipv6(CLIENT6, SERVER6, 58, pg.icmpv6(128)), pg.ipv6(SERVER6, CLIENT6, 58, pg.icmpv6(129))]
    )
    assert (f.src_ip, f.dst_ip, f.protocol, f.ip_version) == (CLIENT6, SERVER6, 58, 6)
    assert (f.src2dst_packets, f.dst2src_packets) == (1, 1)


def test_sctp_flow() -> None:
    init = pg.sctp(36412, 38412, [pg.sctp_init()])
    data = pg.sctp(38412, 36412, [pg.sctp_data(b"hello")], vtag=0x11223344)
    f = _one_flow([pg.ipv4(CLIENT4, SERVER4, 132, init), pg.ipv4(SERVER4, CLIENT4, 132, data)])
    assert (f.src_ip, f.src_port, f.dst_ip, f.dst_port, f.protocol) == (CLIENT4, 36412, SERVER4, 38412, 132)
    assert (f.src2dst_packets, f.dst2src_packets) == (1, 1)


def test_ipv6_address_text() -> None:
    f = _one_flow([pg.ipv6("2001:db8:0:0:1:0:0:1", "fe80::1", 17, pg.udp(5000, 6000))])
    assert (f.src_ip, f.dst_ip) == ("2001:db8::1:0:0:1", "fe80::1")


# --------------------------------------------------------------------------- not IP


def test_non_ip_frames_are_counted_not_flows() -> None:
    frames = [pg.arp_request(), pg.lldp_frame(), pg.stp_bpdu(), pg.arp_request("10.0.0.2", "10.0.0.1")]
    engine = netsonde.Engine()
    flows = engine.process([(1.0 + i, f) for i, f in enumerate(frames)])
    flows += engine.flush()
    assert flows == []
    assert engine.active_flows == 0
    stats = engine.stats
    assert stats["frames"] == 4
    assert stats["not_ip"] == 4
    assert stats["not_ip.arp"] == 2 and stats["not_ip.lldp"] == 1 and stats["not_ip.stp"] == 1
    assert stats["flows_created"] == 0 and stats["malformed"] == 0


def test_non_ip_frames_among_ip_traffic(tmp_path: Path) -> None:
    case = LINK_CASES["802.1q"]
    frames = _frames(case)
    mixed = [
        frames[0],
        pg.Frame(frames[0].ts_ns + 1, pg.arp_request()),
        pg.Frame(frames[0].ts_ns + 2, pg.stp_bpdu()),
        frames[1],
        pg.Frame(frames[1].ts_ns + 1, pg.lldp_frame()),
        frames[2],
    ]
    path = pg.write_pcap(tmp_path / "mixed.pcap", mixed)
    engine = netsonde.Engine()
    flows = engine.process(path) + engine.flush()
    _check_inner(flows, case, frames)
    assert engine.stats["not_ip"] == 3
    assert engine.stats["frames"] == 6


# --------------------------------------------------------------------------- damaged input


def test_every_prefix_of_every_frame_is_survived() -> None:
    """Frames cut anywhere (as a snap length or a damaged capture would) are decoded or
    counted, never crash, and every frame is counted exactly once."""
    for cases in (LINK_CASES, TUNNEL_CASES):
        for case in cases.values():
            engine = netsonde.Engine()
            packets = []
            for frame in _frames(case):
                packets += [(1.0, frame.data[:n], len(frame.data)) for n in range(len(frame.data) + 1)]
            engine.process(packets, link_type=case.linktype)
            engine.flush()
            stats = engine.stats
            assert stats["frames"] == len(packets)
            accounted = stats["ip_packets"] + stats["not_ip"] + stats["malformed"] + stats["unsupported_link"]
            assert accounted == len(packets)


@pytest.mark.parametrize("link_type", [0, 1, 9, 101, 104, 108, 113, 276, 105, 127, 192])
def test_random_bytes_are_survived(link_type: int) -> None:

    rng = random.Random(link_type)
    packets = [
        (1.0 + i / 1000, bytes(rng.getrandbits(8) for _ in range(rng.randrange(0, 200)))) for i in range(500)
    ]
    engine = netsonde.Engine()
    flows = engine.process(packets, link_type=link_type) + engine.flush()
    stats = engine.stats
    assert stats["frames"] == 500
    assert sum(f.bidirectional_packets for f in flows) <= stats["ip_packets"]


def test_ipv4_total_length_zero_from_segmentation_offload() -> None:
    """Captured on the sending host with TSO, the IPv4 total length is 0: the capture's
    length is the packet's."""
    seg = pg.tcp(CPORT, SPORT, flags="PA", seq=1, ack=1, payload=b"z" * 3000)
    pkt = pg.ipv4(CLIENT4, SERVER4, 6, seg, total_length=0)
    f = _one_flow([pkt])
    assert (f.src_port, f.dst_port, f.bidirectional_bytes) == (CPORT, SPORT, len(pkt))


def test_fragmented_outer_tunnel_packet() -> None:
    """A GRE packet whose outer IPv4 datagram was fragmented: reassembled, then decapsulated."""
    inner = pg.ipv4(CLIENT4, SERVER4, 17, pg.udp(5000, 6000, b"u" * 2500))
    outer = pg.ipv4("192.0.2.1", "192.0.2.2", pg.PROTO_GRE, pg.gre(inner), ident=0x99)
    frames = [pg.ether_for(p) for p in pg.fragment_ipv4(outer, 1000)]
    assert len(frames) == 3
    flows = list(netsonde.analyze([(1.0 + i, fr) for i, fr in enumerate(frames)]))
    (f,) = flows
    assert (f.src_ip, f.src_port, f.dst_ip, f.dst_port, f.tunnel_id) == (CLIENT4, 5000, SERVER4, 6000, 6)
    assert (f.bidirectional_packets, f.bidirectional_bytes) == (3, sum(len(fr) for fr in frames))


def _ndpi_ipv6_text(packed: bytes) -> str:
    """IPv6 as nDPI writes it: the longest run of zero groups (the first on ties), even a
    single group, becomes '::'; IPv4-mapped addresses end in dotted quad."""
    groups = [int.from_bytes(packed[i : i + 2], "big") for i in range(0, 16, 2)]
    if groups[:6] == [0, 0, 0, 0, 0, 0xFFFF]:
        return "::ffff:" + ".".join(str(b) for b in packed[12:])
    best, best_len, run, run_len = 0, 0, 0, 0
    for i, g in enumerate(groups):
        if g == 0:
            run = i if run_len == 0 else run
            run_len += 1
            if run_len > best_len:
                best, best_len = run, run_len
        else:
            run_len = 0
    hexes = [f"{g:x}" for g in groups]
    if best_len == 0:
        return ":".join(hexes)
    return ":".join(hexes[:best]) + "::" + ":".join(hexes[best + best_len :])


def test_ipv6_addresses_are_written_as_ndpi_writes_them() -> None:
    rng = random.Random(6)
    addresses = [
        "::1",
        "::",
        "fe80::1",
        "2001:db8:0:1:1:1:1:1",
        "2001:0:0:1:0:0:0:1",
        "1:0:0:0:1:0:0:0",
        "0:0:1::",
        "::ffff:1.2.3.4",
        "3f65:ece9:fe71:6e2a:face:b00c:0:358e",
    ]
    for _ in range(200):
        groups = [rng.choice([0, 0, 1, 0xFFFF, rng.randrange(65536)]) for _ in range(8)]
        if groups[:5] == [0] * 5:  # IPv4-compatible forms are deprecated and printed variously
            groups[0] = 0x2001
        addresses.append(":".join(f"{g:x}" for g in groups))
    packets = []
    for i, a in enumerate(addresses):
        packets.append((1.0, pg.ipv6(a, "2001:db8::77", 17, pg.udp(40000, 20000 + i))))
    flows = list(netsonde.analyze(packets, link_type="raw"))
    assert all(f.src_port == 40000 for f in flows)  # the first sender, both ports being high
    got = {f.dst_port: f.src_ip for f in flows}
    for i, a in enumerate(addresses):
        assert got[20000 + i] == _ndpi_ipv6_text(ipaddress.IPv6Address(a).packed), a


@pytest.mark.parametrize(
    "name",
    [
        "ethernet",
        "raw",
        "ipv4",
        "ipv6",
        "null",
        "loop",
        "ppp",
        "ppp-hdlc",
        "cisco-hdlc",
        "linux-sll",
        "linux-sll2",
        "ieee802.11",
        "radiotap",
        "ppi",
    ],
)
def test_every_advertised_link_type_name_is_accepted(name: str) -> None:
    """The names the API's error message offers are all accepted."""
    engine = netsonde.Engine()
    assert engine.process([(1.0, b"\x00" * 64)], link_type=name) == []
    assert engine.stats["frames"] == 1
    assert engine.stats["unsupported_link"] == 0


def test_mid_stream_connection_closed_then_new_syn() -> None:
    """A connection seen without its SYN, closed by FINs, then reopened: two records."""
    pkt = [
        pg.ipv4(CLIENT4, SERVER4, 6, pg.tcp(CPORT, SPORT, flags="PA", seq=50, ack=70, payload=b"a")),
        pg.ipv4(CLIENT4, SERVER4, 6, pg.tcp(CPORT, SPORT, flags="FA", seq=51, ack=70)),
        pg.ipv4(SERVER4, CLIENT4, 6, pg.tcp(SPORT, CPORT, flags="FA", seq=70, ack=52)),
        pg.ipv4(CLIENT4, SERVER4, 6, pg.tcp(CPORT, SPORT, flags="S", seq=9000)),
    ]
    flows = list(netsonde.analyze([(1.0 + i, p) for i, p in enumerate(pkt)], link_type="raw"))
    assert [(f.expiration, f.bidirectional_packets) for f in flows] == [("end", 3), ("end_of_input", 1)]


def test_protected_80211_frames_are_not_ip() -> None:
    frame = bytearray(pg.ieee80211_data(handshake()[0][1]))
    frame[1] |= 0x40  # protected: the payload is encrypted
    engine = netsonde.Engine()
    assert engine.process([(1.0, bytes(frame))], link_type="ieee802.11") + engine.flush() == []
    assert engine.stats["not_ip"] == 1


@pytest.mark.parametrize(
    ("port", "payload"),
    [
        (4789, b"\x00" * 40),  # VXLAN without the I flag
        (2152, b"\x32\x01\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00"),  # GTP-U echo request, not user data
        (6081, b"\xc0" + b"\x00" * 30),  # Geneve version 3
        (3544, b"\x45" + b"\x00" * 39),  # Teredo port, but no IPv6 inside
        (1701, b"\xc8\x02" + b"\x00" * 20),  # L2TP control message
        (37008, b"\x09" + b"\x00" * 20),  # TZSP version 9
    ],
    ids=["vxlan", "gtp-echo", "geneve-v3", "teredo", "l2tp-control", "tzsp"],
)
def test_tunnel_ports_without_a_tunnel_keep_the_outer_flow(port: int, payload: bytes) -> None:
    """Traffic that merely uses a tunnel's port is the outer flow, never lost."""
    pkts = [
        pg.ipv4(OUT_C, OUT_S, 17, pg.udp(50000, port, payload)),
        pg.ipv4(OUT_S, OUT_C, 17, pg.udp(port, 50000, payload)),
    ]
    engine = netsonde.Engine()
    flows = engine.process([(1.0 + i, p) for i, p in enumerate(pkts)], link_type="raw") + engine.flush()
    assert len(flows) == 1, flows
    (f,) = flows
    assert (f.src_ip, f.dst_ip, f.protocol, f.tunnel_id, f.bidirectional_packets) == (OUT_C, OUT_S, 17, 0, 2)
    assert port in (f.src_port, f.dst_port)
    assert engine.stats["malformed"] == 0


def test_gre_with_source_routing_is_the_outer_flow() -> None:
    inner = handshake()[0][1]
    gre_routed = b"\x40\x00\x08\x00" + b"\x00" * 8 + inner
    (f,) = list(netsonde.analyze([(1.0, pg.ipv4(OUT_C, OUT_S, pg.PROTO_GRE, gre_routed))], link_type="raw"))
    assert (f.src_ip, f.protocol, f.tunnel_id) == (OUT_C, 47, 0)


def test_more_non_ip_frames() -> None:
    frames = [
        pg.ether(b"\x11\x09\x00\x00\x00\x00", 0x8863, pad=True),  # PPPoE discovery (PADI)
        pg.dot3_llc(b"\xf0\xf0\x03" + b"\x00" * 40),  # NetBIOS over LLC
        pg.ether(b"\x00" * 46, 0x888E),  # EAPOL
        pg.ether(b"\x00" * 46, 0x9000),  # configuration test protocol (loopback)
        # LCP in a PPPoE session: version/type, code, session id, length, then PPP protocol c021.
        pg.ether(b"\x11\x00\x12\x34\x00\x06\xc0\x21\x01\x01\x00\x04", pg.ETH_PPPOE_SESSION, pad=True),
    ]
    engine = netsonde.Engine()
    flows = engine.process([(1.0 + i, f) for i, f in enumerate(frames)]) + engine.flush()
    assert flows == []
    assert engine.stats["not_ip"] == len(frames)
    assert engine.stats["malformed"] == 0
