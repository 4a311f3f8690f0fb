"""IP fragments: reassembled into their flow whatever the order, overlaps counted, and with
defrag off only the first fragment counts."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import netsonde
import pcapgen as pg
import pytest

C4, S4 = "10.3.0.1", "10.3.0.2"
C6, S6 = "2001:db8:3::1", "2001:db8:3::2"
T0 = pg.ns("1000.5")  # small enough that float seconds are exact to the ns
STEP = 2_000_000  # 2 ms between frames


def _datagram(version: int, size: int = 3000, proto: int = pg.PROTO_UDP) -> bytes:
    c, s = (C4, S4) if version == 4 else (C6, S6)
    payload = bytes(i % 251 for i in range(size))
    if proto == pg.PROTO_UDP:
        return pg.ip_packet(
            c, s, proto, pg.udp(5000, 6000, payload), **({"ident": 0x4242} if version == 4 else {})
        )
    if proto == pg.PROTO_ICMP:
        return pg.ipv4(c, s, proto, pg.icmp(8, payload=payload), ident=0x4343)
    raise ValueError(proto)


def _fragments(version: int, size: int = 3000, frag: int = 1200, proto: int = pg.PROTO_UDP) -> list[bytes]:
    whole = _datagram(version, size, proto)
    return pg.fragment_ipv4(whole, frag) if version == 4 else pg.fragment_ipv6(whole, frag, ident=0x4242)


def _reply(version: int) -> bytes:
    c, s = (C4, S4) if version == 4 else (C6, S6)
    return pg.ip_packet(s, c, pg.PROTO_UDP, pg.udp(6000, 5000, b"ok"))


def _run(
    packets: Sequence[bytes], **options: object
) -> tuple[list[netsonde.Flow], dict[str, int], list[int]]:
    """Runs Ethernet frames of ``packets`` 2 ms apart; returns flows, stats and frame lengths."""
    frames = [pg.ether_for(p) for p in packets]
    engine = netsonde.Engine(**options)
    flows = engine.process([((T0 + i * STEP) / 1e9, f) for i, f in enumerate(frames)])
    flows += engine.flush()
    return flows, engine.stats, [len(f) for f in frames]


ORDERS = {
    "in-order": [0, 1, 2],
    "reversed": [2, 1, 0],
    "first-last": [1, 2, 0],
    "last-first": [2, 0, 1],
}


@pytest.mark.parametrize("version", [4, 6])
@pytest.mark.parametrize("order", list(ORDERS))
def test_fragments_reassemble_into_one_flow(version: int, order: str) -> None:
    frags = _fragments(version)
    assert len(frags) == 3
    sent = [frags[i] for i in ORDERS[order]]
    flows, stats, lengths = _run([*sent, _reply(version)])
    assert len(flows) == 1, flows
    (f,) = flows
    c, s = (C4, S4) if version == 4 else (C6, S6)
    assert (f.src_ip, f.src_port, f.dst_ip, f.dst_port, f.protocol) == (c, 5000, s, 6000, 17)
    assert (f.src2dst_packets, f.dst2src_packets) == (3, 1)
    assert f.src2dst_bytes == sum(lengths[:3])
    assert f.dst2src_bytes == lengths[3]
    assert f.bidirectional_first_seen_ms == T0 // 1_000_000
    assert f.bidirectional_last_seen_ms == (T0 + 3 * STEP) // 1_000_000
    assert stats["fragments"] == 3
    assert stats["datagrams_reassembled"] == 1
    assert stats["fragment_overlaps"] == 0
    assert stats["fragments_unassembled"] == 0


@pytest.mark.parametrize("version", [4, 6])
def test_fragmented_datagram_alone_timestamps(version: int) -> None:
    """The flow spans from its first fragment frame to its last, whatever their order."""
    frags = _fragments(version)
    flows, _, _ = _run([frags[2], frags[0], frags[1]])
    (f,) = flows
    assert f.bidirectional_first_seen_ms == T0 // 1_000_000
    assert f.bidirectional_last_seen_ms == (T0 + 2 * STEP) // 1_000_000
    assert f.bidirectional_packets == 3


def test_icmp_fragments() -> None:
    flows, stats, lengths = _run(_fragments(4, 4000, 1480, pg.PROTO_ICMP))
    (f,) = flows
    assert f.protocol == 1 and f.bidirectional_packets == 3 and f.bidirectional_bytes == sum(lengths)
    assert stats["datagrams_reassembled"] == 1


def _manual(version: int, pieces: list[tuple[int, int, bool]], ident: int = 0x77) -> list[bytes]:
    """Fragments of one UDP datagram cut at the given (start, end, more) byte ranges."""
    whole = _datagram(version, 3000)
    c, s = (C4, S4) if version == 4 else (C6, S6)
    payload = whole[20:] if version == 4 else whole[40:]
    make = pg.ipv4_fragment if version == 4 else pg.ipv6_fragment
    return [make(c, s, pg.PROTO_UDP, payload[a:b], offset=a, more=more, ident=ident) for a, b, more in pieces]


@pytest.mark.parametrize("version", [4, 6])
def test_overlapping_fragments(version: int) -> None:
    # 3008 bytes of UDP: [0,1200) [800,2000) overlaps the first by 400 bytes, [2000,3008) ends it.
    frags = _manual(version, [(0, 1200, True), (800, 2000, True), (2000, 3008, False)])
    flows, stats, lengths = _run([*frags, _reply(version)])
    assert len(flows) == 1, flows
    (f,) = flows
    assert (f.src_port, f.dst_port) == (5000, 6000)
    assert (f.src2dst_packets, f.dst2src_packets) == (3, 1)
    assert f.src2dst_bytes == sum(lengths[:3])
    assert stats["fragment_overlaps"] == 1
    assert stats["datagrams_reassembled"] == 1


@pytest.mark.parametrize("version", [4, 6])
def test_overlapping_fragments_out_of_order(version: int) -> None:
    # The last piece first; then the start; then two pieces each overlapping what is held,
    # the second of which completes the datagram.
    frags = _manual(version, [(1600, 3008, False), (0, 1000, True), (800, 1200, True), (1192, 1608, True)])
    flows, stats, lengths = _run(frags)
    (f,) = flows
    assert f.src2dst_packets == 4 and f.src2dst_bytes == sum(lengths)
    assert stats["fragment_overlaps"] == 2
    assert stats["datagrams_reassembled"] == 1


@pytest.mark.parametrize("version", [4, 6])
def test_duplicate_fragment_counts_as_overlap(version: int) -> None:
    frags = _manual(version, [(0, 1200, True), (1200, 2400, True), (2400, 3008, False)])
    flows, stats, _ = _run([frags[0], frags[1], frags[1], frags[2]])
    (f,) = flows
    assert f.src2dst_packets == 4
    assert stats["fragment_overlaps"] == 1


@pytest.mark.parametrize("version", [4, 6])
@pytest.mark.parametrize("order", list(ORDERS))
def test_defrag_off_counts_only_the_first_fragment(version: int, order: str) -> None:
    frags = _fragments(version)
    sent = [frags[i] for i in ORDERS[order]]
    flows, stats, lengths = _run([*sent, _reply(version)], defrag=False)
    assert len(flows) == 1, flows
    (f,) = flows
    first_at = ORDERS[order].index(0)
    assert (f.src_port, f.dst_port) == (5000, 6000)
    assert (f.src2dst_packets, f.dst2src_packets) == (1, 1)
    assert f.src2dst_bytes == lengths[first_at]
    assert stats["fragments_unassembled"] == 2
    assert stats["datagrams_reassembled"] == 0


def test_two_datagrams_interleaved() -> None:
    a = _manual(4, [(0, 1504, True), (1504, 3008, False)], ident=1)
    b = _manual(4, [(0, 1504, True), (1504, 3008, False)], ident=2)
    flows, stats, lengths = _run([a[0], b[1], b[0], a[1]])
    (f,) = flows
    assert f.src2dst_packets == 4 and f.src2dst_bytes == sum(lengths)
    assert stats["datagrams_reassembled"] == 2 and stats["fragment_overlaps"] == 0


def test_same_ident_from_other_hosts_is_another_datagram() -> None:
    a = _manual(4, [(0, 1504, True), (1504, 3008, False)], ident=5)
    other = pg.ipv4_fragment("10.3.0.9", S4, pg.PROTO_UDP, b"\x00" * 1504, offset=1504, more=False, ident=5)
    flows, stats, _ = _run([a[0], other, a[1]])
    (f,) = flows
    assert f.src_ip == C4 and f.src2dst_packets == 2
    assert stats["fragment_overlaps"] == 0


def test_incomplete_datagram_with_first_fragment_still_counts() -> None:
    """A datagram missing a middle fragment is given up at the end of input; its frames
    still go to the flow its first fragment names."""
    frags = _fragments(4)
    flows, stats, lengths = _run([frags[0], frags[2]])
    (f,) = flows
    assert (f.src_port, f.dst_port, f.src2dst_packets) == (5000, 6000, 2)
    assert f.src2dst_bytes == sum(lengths)
    assert stats["datagrams_reassembled"] == 0
    assert stats["datagrams_incomplete"] == 1


def test_datagram_without_first_fragment_is_lost_not_a_flow() -> None:
    frags = _fragments(4)
    flows, stats, _ = _run([frags[1], frags[2]])
    assert flows == []
    assert stats["fragments_lost"] == 2


def test_ipv6_fragments_after_hop_by_hop() -> None:
    whole = _datagram(6)
    payload = whole[40:]
    frags = [
        pg.ipv6_fragment(C6, S6, pg.PROTO_UDP, payload[a:b], offset=a, more=m, ident=9, ext=[pg.hop_by_hop()])
        for a, b, m in [(0, 1496, True), (1496, 3008, False)]
    ]
    flows, stats, lengths = _run(list(reversed(frags)))
    (f,) = flows
    assert (f.src_ip, f.src_port, f.dst_port, f.src2dst_packets) == (C6, 5000, 6000, 2)
    assert f.src2dst_bytes == sum(lengths)
    assert stats["datagrams_reassembled"] == 1


def test_fragments_keep_their_vlan() -> None:
    frags = _fragments(4)
    frames = [pg.ether_for(p, vlans=[(pg.TPID_VLAN, 99)]) for p in frags]
    flows = list(netsonde.analyze([(1.0 + i, fr) for i, fr in enumerate(frames)]))
    (f,) = flows
    assert f.vlan_id == 99 and f.bidirectional_packets == 3


def test_fragments_inside_a_tunnel() -> None:
    frags = _fragments(4)
    frames = [pg.ether_for(pg.ipv4("192.0.2.1", "192.0.2.2", pg.PROTO_GRE, pg.gre(p))) for p in frags]
    flows = list(netsonde.analyze([(1.0 + i, fr) for i, fr in enumerate(frames)]))
    (f,) = flows
    assert (f.src_ip, f.src_port, f.tunnel_id, f.bidirectional_packets) == (C4, 5000, 6, 3)
    assert f.bidirectional_bytes == sum(len(fr) for fr in frames)


@pytest.mark.parametrize("defrag", [True, False])
def test_defrag_option_on_a_capture_file(tmp_path: Path, defrag: bool) -> None:
    frags = _fragments(4)
    frames = [pg.Frame(T0 + i * STEP, pg.ether_for(p)) for i, p in enumerate(frags)]
    path = pg.write_pcap(tmp_path / "frag.pcap", frames)
    (f,) = list(netsonde.analyze(path, defrag=defrag))
    assert f.bidirectional_packets == (3 if defrag else 1)


def test_fragments_too_late_are_not_reassembled() -> None:
    """Reassembly waits a bounded time: fragments arriving a minute after their first
    fragment cannot complete it; the first fragment still counts for its flow."""
    frags = _fragments(4)
    frames = [pg.ether_for(p) for p in frags]
    packets = [(1000.0, frames[0]), (1060.0, frames[1]), (1060.5, frames[2])]
    engine = netsonde.Engine()
    flows = engine.process(packets) + engine.flush()
    (f,) = flows
    assert (f.src_port, f.src2dst_packets, f.src2dst_bytes) == (5000, 1, len(frames[0]))
    assert engine.stats["datagrams_reassembled"] == 0
    assert engine.stats["fragments_lost"] == 2
