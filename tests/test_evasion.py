"""Evasion: real traffic (the TLS and HTTP flows of samples/loopback.pcapng, recorded from
curl, openssl and Python's http.server) re-sent mangled the ways an evader would: tiny TCP
segments, reordering, overlapping segments (same and conflicting data, under each policy),
IP fragments (tiny, reordered, overlapping), a TLS ClientHello cut across records and
segments, stacked VLANs and tunnels, and ports that lie. Each must give the application and
the metadata of the clean version of the same traffic."""

from __future__ import annotations

import ipaddress
import random
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import netsonde
import pcapgen as pg
import pytest

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "loopback.pcapng"
T0 = pg.ns("2000")
STEP = 1_000_000  # 1 ms between frames


# --------------------------------------------------------------------------- reading the sample


def _pcapng_frames(path: Path) -> Iterator[bytes]:
    """The frames of a little-endian pcapng file (Ethernet link, as Linux records loopback)."""
    data = path.read_bytes()
    off = 0
    while off + 12 <= len(data):
        btype, blen = struct.unpack_from("<II", data, off)
        if blen < 12:
            break
        if btype == 6:  # enhanced packet block
            caplen = struct.unpack_from("<I", data, off + 20)[0]
            yield data[off + 28 : off + 28 + caplen]
        off += blen


@dataclass(frozen=True)
class Seg:
    """One TCP segment of a conversation: sent by the client (0) or the server (1)."""

    side: int
    seq: int
    ack: int
    flags: int
    payload: bytes


@dataclass(frozen=True)
class Conv:
    client: tuple[str, int]
    server: tuple[str, int]
    segs: tuple[Seg, ...]


def _ip_tcp(frame: bytes) -> tuple[str, str, int, int, Seg] | None:
    ethertype = struct.unpack_from("!H", frame, 12)[0]
    ip = frame[14:]
    if ethertype == 0x0800 and ip[9] == 6:
        ihl = (ip[0] & 15) * 4
        total = struct.unpack_from("!H", ip, 2)[0]
        src, dst = str(ipaddress.IPv4Address(ip[12:16])), str(ipaddress.IPv4Address(ip[16:20]))
        l4 = ip[ihl:total]
    elif ethertype == 0x86DD and ip[6] == 6:
        plen = struct.unpack_from("!H", ip, 4)[0]
        src, dst = str(ipaddress.IPv6Address(ip[8:24])), str(ipaddress.IPv6Address(ip[24:40]))
        l4 = ip[40 : 40 + plen]
    else:
        return None
    sport, dport, seq, ack = struct.unpack_from("!HHII", l4)
    doff = (l4[12] >> 4) * 4
    return src, dst, sport, dport, Seg(0, seq, ack, l4[13], bytes(l4[doff:]))


def _conversation(server_port: int) -> Conv:
    client = server = None
    segs = []
    for frame in _pcapng_frames(SAMPLE):
        got = _ip_tcp(frame)
        if got is None:
            continue
        src, dst, sport, dport, seg = got
        if server_port not in (sport, dport):
            continue
        if client is None:
            client, server = (src, sport), (dst, dport)
        if {(src, sport), (dst, dport)} != {client, server}:
            continue  # another connection to the same server
        segs.append(replace(seg, side=0 if (src, sport) == client else 1))
    assert client and server and segs
    return Conv(client, server, tuple(segs))


CONVS = {"tls": 18443, "http4": 18080, "http6": 18081}


@pytest.fixture(scope="module")
def convs() -> dict[str, Conv]:
    return {name: _conversation(port) for name, port in CONVS.items()}


# --------------------------------------------------------------------------- re-sending it


Mangle = Callable[[list[Seg]], list[Seg]]


def _packets(
    conv: Conv,
    segs: list[Seg],
    *,
    ports: tuple[int, int] | None = None,
    frag: Callable[[bytes], list[bytes]] | None = None,
) -> list[bytes]:
    (cip, cport), (sip, sport) = conv.client, conv.server
    if ports:
        cport, sport = ports
    out = []
    for n, s in enumerate(segs):
        src, dst, sp, dp = (cip, sip, cport, sport) if s.side == 0 else (sip, cip, sport, cport)
        segment = pg.tcp(sp, dp, flags=s.flags, seq=s.seq, ack=s.ack, payload=s.payload)
        # Each datagram its own IP identification, as a sender's stack numbers them.
        ident = {} if ":" in src else {"ident": n + 1}
        pkt = pg.ip_packet(src, dst, pg.PROTO_TCP, segment, **ident)
        out.extend(frag(pkt) if frag and s.payload else [pkt])
    return out


def _run(frames: list[bytes], **options: object) -> list[netsonde.Flow]:
    engine = netsonde.Engine(**options)
    flows = engine.process([((T0 + i * STEP) / 1e9, f) for i, f in enumerate(frames)])
    return flows + engine.flush()


def _seen(flows: list[netsonde.Flow]) -> dict[str, object]:
    """What DPI found in the (single) TCP flow: application, names, fingerprints, metadata."""
    tcp = [f for f in flows if f.protocol == 6]
    assert len(tcp) == 1, [(f.src_port, f.dst_port) for f in tcp]
    f = tcp[0]
    return {
        "application_name": f.application_name,
        "requested_server_name": f.requested_server_name,
        "client_fingerprint": f.client_fingerprint,
        "server_fingerprint": f.server_fingerprint,
        "user_agent": f.user_agent,
        "metadata": f.metadata,
    }


def _risks(flows: list[netsonde.Flow]) -> list[str]:
    return [r for f in flows if f.protocol == 6 for r in f.risks]


def _clean(conv: Conv) -> dict[str, object]:
    return _seen(_run([pg.ether_for(p) for p in _packets(conv, list(conv.segs))]))


def _flights(segs: list[Seg]) -> Iterator[tuple[int, int]]:
    """Index ranges of consecutive payload segments from one side (what one side sends before
    the other answers)."""
    i = 0
    while i < len(segs):
        if not segs[i].payload:
            i += 1
            continue
        j = i
        while j < len(segs) and segs[j].side == segs[i].side and (segs[j].payload or j == i):
            j += 1
        yield i, j
        i = j


def _rechunk(segs: list[Seg], cut: Callable[[int, bytes, Seg], list[Seg]]) -> list[Seg]:
    """Replaces each flight by ``cut(seq, data, template)``: the flight's bytes re-sent as
    chosen (the control segments stay where they were)."""
    out: list[Seg] = []
    last = 0
    for a, b in _flights(segs):
        out.extend(segs[last:a])
        flight = segs[a:b]
        data = b"".join(s.payload for s in flight)
        out.extend(cut(flight[0].seq, data, flight[-1]))
        last = b
    out.extend(segs[last:])
    return out


def _piece(t: Seg, seq: int, data: bytes) -> Seg:
    return replace(t, seq=seq & 0xFFFFFFFF, payload=data, flags=t.flags & ~0x01)


def tiny(segs: list[Seg]) -> list[Seg]:
    return _rechunk(segs, lambda s, d, t: [_piece(t, s + i, d[i : i + 1]) for i in range(len(d))])


def shuffled(size: int) -> Mangle:
    def mangle(segs: list[Seg]) -> list[Seg]:
        def cut(s: int, d: bytes, t: Seg) -> list[Seg]:
            pieces = [_piece(t, s + i, d[i : i + size]) for i in range(0, len(d), size)]
            random.Random(len(d)).shuffle(pieces)
            return pieces

        return _rechunk(segs, cut)

    return mangle


def overlapping_same(segs: list[Seg]) -> list[Seg]:
    """Every 10-byte piece re-sent as part of a 25-byte one (same bytes), out of order."""

    def cut(s: int, d: bytes, t: Seg) -> list[Seg]:
        out = []
        for i in range(0, len(d), 10):
            out.append(_piece(t, s + i, d[i : i + 10]))
            j = max(0, i - 15)
            out.append(_piece(t, s + j, d[j : i + 10]))
        return out[::-1]

    return _rechunk(segs, cut)


JUNK = 0x5A


def conflicting(policy: str) -> Mangle:
    """Each 20-byte piece is sent twice, a forged copy and the real one, arranged so that the
    target's ``policy`` keeps the real bytes (as an attacker aiming at another target would).
    Pieces go last to first, so that a forged copy meant to be replaced is never in order when
    it arrives (a dissector may have parsed in-order bytes before a later copy replaces them;
    the piece that starts the flight uses a copy starting one byte later for that reason)."""

    def cut(s: int, d: bytes, t: Seg) -> list[Seg]:
        out: list[Seg] = []
        for i in range(0, len(d), 20):
            real = d[i : i + 20]
            junk = bytes([JUNK]) * len(real)
            n = len(real)
            if policy in ("first", "vista"):
                pair = [(i, real), (i, junk)]  # the old copy stays
            elif policy in ("last", "old-linux") and i > 0:
                pair = [(i, junk), (i, real)]  # an exact copy replaces
            elif policy == "linux" and i > 0 and n > 1:
                pair = [(i, junk[:-1]), (i, real)]  # same start, reaching further
            elif n > 1:
                # bsd family, windows, solaris, hpux: the copy starting before wins
                pair = [(i + 1, junk[1:]), (i, real)]
            else:
                pair = [(i, real)]
            out[:0] = [_piece(t, s + off, data) for off, data in pair]
        return out

    def mangle(segs: list[Seg]) -> list[Seg]:
        return _rechunk(segs, cut)

    return mangle


def _ipv4_fragments(size: int, order: str = "in", overlap: bool = False) -> Callable[[bytes], list[bytes]]:
    idents = iter(range(1, 1 << 30))

    def frag(pkt: bytes) -> list[bytes]:
        if pkt[0] >> 4 == 6:
            frags = pg.fragment_ipv6(pkt, size, ident=next(idents))
        else:
            frags = pg.fragment_ipv4(pkt, size)
        if overlap:
            # Each fragment also sent again, whole (same bytes).
            frags = [f for pair in zip(frags, frags, strict=True) for f in pair]
        if order == "reversed":
            frags = frags[::-1]
        return frags

    return frag


# --------------------------------------------------------------------------- the tests


@pytest.mark.parametrize("name", list(CONVS))
@pytest.mark.parametrize(
    "mangle",
    [tiny, shuffled(16), shuffled(3), overlapping_same],
    ids=["tiny-segments", "reordered-16", "reordered-3", "overlapping-same-data"],
)
def test_segmentation_evasion_gives_the_clean_result(
    convs: dict[str, Conv], name: str, mangle: Mangle
) -> None:
    conv = convs[name]
    clean = _clean(conv)
    assert clean["application_name"] in ("TLS", "HTTP")
    flows = _run([pg.ether_for(p) for p in _packets(conv, mangle(list(conv.segs)))])
    assert _seen(flows) == clean
    assert "tcp_overlap_conflict" not in _risks(flows)


@pytest.mark.parametrize("policy", list(netsonde._core.TCP_POLICIES))
@pytest.mark.parametrize("name", ["tls", "http4"])
def test_conflicting_overlaps_resolve_as_the_target_policy(
    convs: dict[str, Conv], name: str, policy: str
) -> None:
    conv = convs[name]
    clean = _clean(conv)
    frames = [pg.ether_for(p) for p in _packets(conv, conflicting(policy)(list(conv.segs)))]
    flows = _run(frames, tcp_policy=policy)
    assert _seen(flows) == clean
    assert "tcp_overlap_conflict" in _risks(flows)


def test_the_wrong_policy_sees_the_forged_bytes(convs: dict[str, Conv]) -> None:
    conv = convs["http4"]
    frames = [pg.ether_for(p) for p in _packets(conv, conflicting("last")(list(conv.segs)))]
    seen = _seen(_run(frames, tcp_policy="first"))
    assert seen != _clean(conv)


def test_default_policy_is_bsd() -> None:
    assert netsonde.Options().tcp_policy == "bsd" and netsonde.Options().defrag_policy == "bsd"


@pytest.mark.parametrize("name", list(CONVS))
@pytest.mark.parametrize(
    "frag",
    [_ipv4_fragments(8), _ipv4_fragments(48, "reversed"), _ipv4_fragments(64, overlap=True)],
    ids=["tiny-fragments", "reordered-fragments", "duplicated-fragments"],
)
def test_ip_fragment_evasion_gives_the_clean_result(
    convs: dict[str, Conv], name: str, frag: Callable[[bytes], list[bytes]]
) -> None:
    conv = convs[name]
    frames = [pg.ether_for(p) for p in _packets(conv, list(conv.segs), frag=frag)]
    flows = _run(frames)
    assert _seen(flows) == _clean(conv)


def test_tiny_fragments_raise_a_risk(convs: dict[str, Conv]) -> None:
    conv = convs["http4"]
    frames = [pg.ether_for(p) for p in _packets(conv, list(conv.segs), frag=_ipv4_fragments(8))]
    engine = netsonde.Engine()
    flows = engine.process([((T0 + i * STEP) / 1e9, f) for i, f in enumerate(frames)]) + engine.flush()
    assert "ip_tiny_fragment" in _risks(flows)
    assert engine.stats["fragments_tiny"] > 0


@pytest.mark.parametrize("policy", list(netsonde._core.DEFRAG_POLICIES))
def test_conflicting_fragments_resolve_as_the_target_policy(convs: dict[str, Conv], policy: str) -> None:
    """The HTTP request's datagram cut in 3 fragments; a forged copy of the middle one, placed
    so that ``policy`` keeps the real bytes."""
    conv = convs["http4"]
    (cip, _), (sip, _) = conv.client, conv.server

    def frag(pkt: bytes) -> list[bytes]:
        if pkt[12:16] != pg.ip4(cip):
            return [pkt]
        ihl = (pkt[0] & 15) * 4
        payload, ident = pkt[ihl:], struct.unpack_from("!H", pkt, 4)[0]
        cut = (len(payload) // 3) // 8 * 8
        assert cut >= 32
        a, b, c = 0, cut, 2 * cut
        first, mid, last = payload[:b], payload[b:c], payload[c:]

        def f(off: int, data: bytes, more: bool = True) -> bytes:
            return pg.ipv4_fragment(cip, sip, pg.PROTO_TCP, data, offset=off, more=more, ident=ident)

        junk = bytes([JUNK]) * len(mid)
        if policy == "first":
            forged = [f(b, mid), f(b, junk)]
        elif policy in ("last", "linux"):
            forged = [f(b, junk), f(b, mid)]
        elif policy == "bsd-right":
            forged = [f(b, junk[:-8]), f(b, mid)]  # the real copy reaches further right
        else:
            # bsd, windows, solaris: the real copy starts before the forged one and covers it
            forged = [f(b + 8, junk[8:-8]), f(b, mid)]
        return [f(a, first), *forged, f(c, last, more=False)]

    frames = [pg.ether_for(p) for p in _packets(conv, list(conv.segs), frag=frag)]
    flows = _run(frames, defrag_policy=policy)
    assert _seen(flows) == _clean(conv)
    assert "ip_fragment_overlap" in _risks(flows)


def _client_hello_in_records(data: bytes, size: int) -> bytes:
    """The client's first flight with its handshake messages re-cut into records of ``size``
    bytes (TLS lets a handshake message span records)."""
    assert data[0] == 0x16
    length = struct.unpack_from("!H", data, 3)[0]
    version, body, rest = data[1:3], data[5 : 5 + length], data[5 + length :]
    records = b"".join(
        b"\x16" + version + struct.pack("!H", len(body[i : i + size])) + body[i : i + size]
        for i in range(0, len(body), size)
    )
    return records + rest


@pytest.mark.parametrize("size", [1, 7, 100])
def test_client_hello_split_across_records_and_segments(convs: dict[str, Conv], size: int) -> None:
    conv = convs["tls"]
    segs = list(conv.segs)
    i = next(k for k, s in enumerate(segs) if s.payload and s.side == 0)
    hello = segs[i].payload
    recut = _client_hello_in_records(hello, size)
    grow = len(recut) - len(hello)
    # Later client segments move by the bytes added; server acknowledgements too.
    moved = []
    for k, s in enumerate(segs):
        if k == i:
            s = replace(s, payload=recut)
        elif k > i and s.side == 0:
            s = replace(s, seq=(s.seq + grow) & 0xFFFFFFFF)
        elif k > i and s.side == 1:
            s = replace(s, ack=(s.ack + grow) & 0xFFFFFFFF)
        moved.append(s)
    # ... and the records also cut across 5-byte segments, sent out of order.
    frames = [pg.ether_for(p) for p in _packets(conv, shuffled(5)(moved))]
    seen = _seen(_run(frames))
    clean = _clean(conv)
    assert seen == clean


VLANS = [(0x88A8, 100), (0x8100, 200)]


@pytest.mark.parametrize("name", list(CONVS))
@pytest.mark.parametrize("wrap", ["qinq", "gre", "vxlan-in-vlan"])
def test_stacked_vlans_and_tunnels(convs: dict[str, Conv], name: str, wrap: str) -> None:
    conv = convs[name]
    frames = []
    for p in _packets(conv, list(conv.segs)):
        if wrap == "qinq":
            frames.append(pg.ether_for(p, vlans=VLANS))
        elif wrap == "gre":
            outer = pg.ipv4(
                "192.0.2.1", "192.0.2.2", 47, pg.gre(p, pg.ETH_IPV6 if p[0] >> 4 == 6 else pg.ETH_IPV4)
            )
            frames.append(pg.ether_for(outer))
        else:
            inner = pg.ether_for(p, vlans=[(0x8100, 7)])
            outer = pg.ipv4("192.0.2.1", "192.0.2.2", pg.PROTO_UDP, pg.udp(40000, 4789, pg.vxlan(inner)))
            frames.append(pg.ether_for(outer, vlans=VLANS))
    assert _seen(_run(frames)) == _clean(conv)


@pytest.mark.parametrize("name", list(CONVS))
@pytest.mark.parametrize("ports", [(443, 80), (53, 22), (40000, 5060), (80, 443)])
def test_ports_that_lie(convs: dict[str, Conv], name: str, ports: tuple[int, int]) -> None:
    conv = convs[name]
    frames = [pg.ether_for(p) for p in _packets(conv, list(conv.segs), ports=ports)]
    assert _seen(_run(frames)) == _clean(conv)


def test_reassembly_counters_are_reported(convs: dict[str, Conv]) -> None:
    conv = convs["tls"]
    frames = [pg.ether_for(p) for p in _packets(conv, conflicting("bsd")(list(conv.segs)))]
    engine = netsonde.Engine()
    engine.process([((T0 + i * STEP) / 1e9, f) for i, f in enumerate(frames)])
    engine.flush()
    stats = engine.stats
    assert stats["tcp_overlaps"] > 0 and stats["tcp_overlap_conflicts"] > 0
    for key in ("tcp_gaps", "tcp_flow_bound_hits", "tcp_total_bound_hits", "tcp_bytes_dropped"):
        assert key in stats


@pytest.mark.parametrize("policy", ["last", "old-linux"])
@pytest.mark.parametrize("name", ["tls", "http4"])
def test_forged_bytes_replaced_after_being_seen(convs: dict[str, Conv], name: str, policy: str) -> None:
    """The client's first flight in order, each piece first forged then replaced by an exact
    copy (which these targets keep): the dissectors judged the forged bytes first, and judge
    the stream again once they are replaced."""
    conv = convs[name]
    segs = list(conv.segs)
    a, b = next(_flights(segs))
    flight = segs[a:b]
    data, t = b"".join(s.payload for s in flight), flight[-1]
    pieces: list[Seg] = []
    for i in range(0, len(data), 20):
        real = data[i : i + 20]
        pieces += [
            _piece(t, flight[0].seq + i, bytes([JUNK]) * len(real)),
            _piece(t, flight[0].seq + i, real),
        ]
    frames = [pg.ether_for(p) for p in _packets(conv, segs[:a] + pieces + segs[b:])]
    flows = _run(frames, tcp_policy=policy)
    assert _seen(flows) == _clean(conv)
    assert "tcp_overlap_conflict" in _risks(flows)


def test_a_lost_segment_does_not_wedge_dissection(convs: dict[str, Conv]) -> None:
    """The capture lost the client's first request; its second request follows at the next
    sequence number, then the server answers. The hole is skipped once the server answers
    and the dissector resynchronises on the second request."""
    conv = convs["http4"]
    segs = list(conv.segs)
    i = next(k for k, s in enumerate(segs) if s.payload and s.side == 0)
    first = segs[i]
    second = first.payload.replace(b"GET / ", b"GET /two ", 1)
    assert second != first.payload
    lost_then_second = replace(first, seq=first.seq + len(first.payload), payload=second)
    moved = []
    for k, s in enumerate(segs):
        if k == i:
            s = lost_then_second
        elif k > i and s.side == 0:
            s = replace(s, seq=(s.seq + len(second)) & 0xFFFFFFFF)
        elif k > i and s.side == 1:
            s = replace(s, ack=(s.ack + len(first.payload) + len(second)) & 0xFFFFFFFF)
        moved.append(s)
    engine = netsonde.Engine()
    frames = [pg.ether_for(p) for p in _packets(conv, moved)]
    flows = engine.process([((T0 + k * STEP) / 1e9, f) for k, f in enumerate(frames)]) + engine.flush()
    seen = _seen(flows)
    assert seen["application_name"] == "HTTP"
    assert seen["metadata"]["http.uri"] == "/two"  # type: ignore[index]
    assert engine.stats["tcp_gaps"] >= 1
