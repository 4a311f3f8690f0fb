"""The frame and capture generator is checked on its own, so that a failing engine test
points at the engine rather than at a wrong fixture."""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pcapgen as pg
import pytest


def test_internet_checksum_known_vector() -> None:
    # RFC 1071 example words 0001 f203 f4f5 f6f7 sum to ddf2; the checksum is its complement.
    assert pg.inet_checksum(bytes.fromhex("0001f203f4f5f6f7")) == 0xFFFF - 0xDDF2


def test_crc32c_known_vector() -> None:
    assert pg.crc32c(b"123456789") == 0xE3069283


def test_ipv4_header_checksum_verifies() -> None:
    pkt = pg.ipv4(
        "10.0.0.1", "10.0.0.2", pg.PROTO_UDP, pg.udp(1, 2, b"abc"), options=pg.ipv4_option_router_alert()
    )
    ihl = (pkt[0] & 0x0F) * 4
    assert ihl == 24
    assert pg.inet_checksum(pkt[:ihl]) == 0
    assert struct.unpack("!H", pkt[2:4])[0] == len(pkt)


@pytest.mark.parametrize("src,dst", [("10.0.0.1", "10.0.0.2"), ("2001:db8::1", "2001:db8::2")])
@pytest.mark.parametrize("proto", [pg.PROTO_TCP, pg.PROTO_UDP])
def test_transport_checksum_verifies(src: str, dst: str, proto: int) -> None:
    seg = pg.tcp(1234, 80, flags="PA", payload=b"hello!!") if proto == pg.PROTO_TCP else pg.udp(5, 6, b"odd")
    pkt = pg.ip_packet(src, dst, proto, seg)
    if pg.ip_version_of(src) == 4:
        body = pkt[20:]
        pseudo = pg.ip4(src) + pg.ip4(dst) + struct.pack("!BBH", 0, proto, len(body))
    else:
        body = pkt[40:]
        pseudo = pg.ip6(src) + pg.ip6(dst) + struct.pack("!IxxxB", len(body), proto)
    assert pg.inet_checksum(pseudo + body) == 0


def test_ipv6_extension_chain() -> None:
    pkt = pg.ipv6(
        "2001:db8::1",
        "2001:db8::2",
        pg.PROTO_TCP,
        pg.tcp(1, 2),
        ext=[pg.hop_by_hop(), pg.routing(), pg.dest_options()],
    )
    assert pkt[6] == pg.PROTO_HOPOPT
    pos, nxt = 40, pkt[6]
    seen = []
    while nxt in (pg.PROTO_HOPOPT, pg.PROTO_ROUTING, pg.PROTO_DSTOPTS):
        seen.append(nxt)
        nxt, length = pkt[pos], pkt[pos + 1]
        pos += (length + 1) * 8
    assert seen == [pg.PROTO_HOPOPT, pg.PROTO_ROUTING, pg.PROTO_DSTOPTS]
    assert nxt == pg.PROTO_TCP
    assert struct.unpack("!HH", pkt[pos : pos + 4]) == (1, 2)
    assert struct.unpack("!H", pkt[4:6])[0] == len(pkt) - 40


def test_fragment_ipv4_reassembles_to_original() -> None:
    whole = pg.ipv4("10.0.0.1", "10.0.0.2", pg.PROTO_UDP, pg.udp(1, 2, bytes(range(256)) * 8), ident=99)
    frags = pg.fragment_ipv4(whole, 1000)
    assert len(frags) == 3
    data = b""
    for i, f in enumerate(frags):
        assert pg.inet_checksum(f[:20]) == 0
        flags = struct.unpack("!H", f[6:8])[0]
        assert (flags & 0x1FFF) * 8 == len(data)
        assert bool(flags & 0x2000) == (i < 2)
        assert struct.unpack("!H", f[4:6])[0] == 99
        data += f[20:]
    assert data == whole[20:]


def test_fragment_ipv6_reassembles_to_original() -> None:
    whole = pg.ipv6("2001:db8::1", "2001:db8::2", pg.PROTO_UDP, pg.udp(1, 2, b"z" * 2000))
    frags = pg.fragment_ipv6(whole, 800, ident=7)
    data = b""
    for i, f in enumerate(frags):
        assert f[6] == pg.PROTO_FRAGMENT
        nh, _, fo, ident = struct.unpack("!BBHI", f[40:48])
        assert nh == pg.PROTO_UDP and ident == 7
        assert fo & ~7 == len(data)
        assert bool(fo & 1) == (i < len(frags) - 1)
        data += f[48:]
    assert data == whole[40:]


@pytest.mark.parametrize("nanosecond", [False, True])
@pytest.mark.parametrize("big_endian", [False, True])
def test_pcap_writer_layout(nanosecond: bool, big_endian: bool) -> None:
    frames = [pg.Frame(pg.ns("12.345678912"), b"\x00" * 100), pg.Frame(pg.ns("13"), b"\x01" * 10)]
    raw = pg.pcap_bytes(frames, nanosecond=nanosecond, big_endian=big_endian, snaplen=64, linktype=101)
    e, linktype, records = pg.read_pcap(raw)
    recs = [(r.sec, r.frac, r.caplen, r.orig_len) for r in records]
    assert e == (">" if big_endian else "<")
    assert linktype == 101
    assert recs[0] == (12, 345678912 if nanosecond else 345678, 64, 100)
    assert recs[1] == (13, 0, 10, 10)


def test_pcapng_writer_layout() -> None:
    sections = [
        pg.Section(
            [pg.Interface(1), pg.Interface(101, tsresol=9)],
            [pg.EPB(1, pg.Frame(pg.ns("1.000000001"), b"abc")), pg.RawBlock(5, b"\x00" * 12)],
        ),
        pg.Section([pg.Interface(113, snaplen=4)], [pg.SPB(pg.Frame(0, b"abcdefgh"))], big_endian=True),
    ]
    raw = pg.pcapng_bytes(sections)
    pos, blocks = 0, []
    e = "<"
    while pos < len(raw):
        if raw[pos : pos + 4] == b"\x0a\x0d\x0d\x0a":
            e = "<" if raw[pos + 8 : pos + 12] == b"\x4d\x3c\x2b\x1a" else ">"
        btype, blen = struct.unpack(e + "II", raw[pos : pos + 8])
        assert blen % 4 == 0
        assert struct.unpack(e + "I", raw[pos + blen - 4 : pos + blen])[0] == blen
        blocks.append((e, btype, raw[pos + 8 : pos + blen - 4]))
        pos += blen
    assert [(b[0], b[1]) for b in blocks] == [
        ("<", 0x0A0D0D0A),
        ("<", 1),
        ("<", 1),
        ("<", 6),
        ("<", 5),
        (">", 0x0A0D0D0A),
        (">", 1),
        (">", 3),
    ]
    iface, hi, lo, cap, orig = struct.unpack("<IIIII", blocks[3][2][:20])
    assert (iface, (hi << 32) | lo, cap, orig) == (1, 1_000_000_001, 3, 3)
    assert struct.unpack(">I", blocks[7][2][:4])[0] == 8
    assert blocks[7][2][4:8] == b"abcd"


def test_tunnel_builders_layout() -> None:
    inner = pg.ipv4("10.1.1.1", "10.2.2.2", pg.PROTO_UDP, pg.udp(1, 2))
    g = pg.gre(inner, key=5, seq=6, checksum=True)
    assert struct.unpack("!HH", g[:4]) == (0xB000, 0x0800)
    assert pg.inet_checksum(g) == 0
    assert g[16:] == inner
    p = pg.gre_pptp(pg.ppp(inner), call_id=9, seq=3, ack=2)
    assert struct.unpack("!HHHHII", p[:16]) == (0x3081, 0x880B, len(inner) + 4, 9, 3, 2)
    gtp = pg.gtp_u(inner, extension=True)
    assert gtp[0] == 0x34 and gtp[1] == 0xFF and struct.unpack("!H", gtp[2:4])[0] == len(gtp) - 8
    assert gtp[11] == 0x85 and gtp[12] == 1 and gtp[15] == 0 and gtp[16:] == inner
    assert pg.vxlan(b"x" * 14, vni=0x123456)[:8] == bytes.fromhex("0800000012345600")
    t = pg.teredo(b"\x60", origin=(1234, "1.2.3.4"))
    assert t[:2] == b"\x00\x00" and struct.unpack("!H", t[2:4])[0] == 1234 ^ 0xFFFF


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")
def test_frames_dissect_cleanly_in_tshark(tmp_path: Path) -> None:
    """An independent dissector agrees every generated checksum is right and finds the
    innermost TCP header in every encapsulation."""
    inner = pg.ipv4(
        "10.1.1.1", "10.2.2.2", pg.PROTO_TCP, pg.tcp(1234, 80, flags="S", seq=5, options=pg.tcp_options())
    )
    inner6 = pg.ipv6(
        "2001:db8::1",
        "2001:db8::2",
        pg.PROTO_TCP,
        pg.tcp(1234, 80, flags="S", seq=5),
        ext=[pg.hop_by_hop(), pg.routing(), pg.dest_options()],
    )

    def outer(p: bytes, proto: int) -> bytes:
        return pg.ether_for(pg.ipv4("192.0.2.1", "192.0.2.2", proto, p))

    tcp_frames = [
        pg.ether_for(inner),
        pg.ether_for(inner6),
        pg.ether_for(inner, vlans=[(pg.TPID_QINQ, 100), (pg.TPID_VLAN, 200)]),
        pg.dot3_llc_snap(inner),
        pg.ether(pg.mpls(inner, [100, 200]), pg.ETH_MPLS),
        pg.ether(pg.pppoe_session(inner), pg.ETH_PPPOE_SESSION),
        outer(pg.gre(inner), 47),
        outer(pg.gre(inner, key=5, seq=6, checksum=True), 47),
        outer(pg.gre_pptp(pg.ppp(inner)), 47),
        outer(pg.erspan_ii(pg.ether_for(inner)), 47),
        outer(pg.erspan_iii(pg.ether_for(inner)), 47),
        outer(inner, 4),
        outer(inner6, 41),
        pg.ether_for(pg.ipv6("2001:db8::a", "2001:db8::b", 4, inner)),
        outer(pg.udp(2152, 2152, pg.gtp_u(inner)), 17),
        outer(pg.udp(2152, 2152, pg.gtp_u(inner, extension=True, sequence=7)), 17),
        outer(pg.udp(50000, 4789, pg.vxlan(pg.ether_for(inner, vlans=[(pg.TPID_VLAN, 33)]))), 17),
        outer(pg.udp(50000, 6081, pg.geneve(pg.ether_for(inner), options=pg.geneve_option())), 17),
        outer(pg.udp(50000, 3544, pg.teredo(inner6, origin=(1234, "1.2.3.4"))), 17),
    ]
    other = [
        pg.ether_for(pg.ipv4("10.1.1.1", "10.2.2.2", 1, pg.icmp())),
        pg.ether_for(pg.ipv6("2001:db8::1", "2001:db8::2", 58, pg.icmpv6())),
        pg.ether_for(pg.ipv4("10.1.1.1", "10.2.2.2", 132, pg.sctp(1, 2, [pg.sctp_init()]))),
    ]
    path = pg.write_pcap(
        tmp_path / "all.pcap", [pg.Frame(i * 1000, f) for i, f in enumerate(tcp_frames + other)]
    )
    fields = [
        "frame.number",
        "tcp.srcport",
        "tcp.dstport",
        "ip.checksum.status",
        "tcp.checksum.status",
        "udp.checksum.status",
        "icmp.checksum.status",
        "icmpv6.checksum.status",
        "sctp.checksum.status",
        "_ws.malformed",
    ]
    cmd = ["tshark", "-n", "-r", str(path), "-T", "fields", "-E", "separator=|", "-E", "occurrence=a"]
    for f in fields:
        cmd += ["-e", f]
    for pref in (
        "tcp.check_checksum:TRUE",
        "udp.check_checksum:TRUE",
        "ip.check_checksum:TRUE",
        "sctp.checksum:CRC 32c",
    ):
        cmd += ["-o", pref]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=True).stdout
    rows = [line.split("|") for line in out.splitlines()]
    assert len(rows) == len(tcp_frames) + len(other)
    for row in rows:
        num, sport, dport, *statuses, malformed = row
        assert not malformed, f"frame {num} malformed in tshark"
        for s in statuses:
            # 0 = bad checksum, 1 = good, 2 = unverified; every one verified must be good.
            assert "0" not in s.split(","), f"frame {num}: bad checksum {row}"
        if int(num) <= len(tcp_frames):
            assert sport.split(",")[-1] == "1234" and dport.split(",")[-1] == "80", row
