"""The flow table: who is the client, when a flow ends and why, and what a bounded table
does when it is full."""

from __future__ import annotations

from collections.abc import Sequence

import netsonde
import pcapgen as pg
import pytest

C, S = "10.0.0.1", "10.0.0.2"

Packet = tuple[float, bytes]


def t(
    src: str, dst: str, sport: int, dport: int, flags: str, seq: int = 0, ack: int = 0, payload: bytes = b""
) -> bytes:
    return pg.ipv4(
        src, dst, pg.PROTO_TCP, pg.tcp(sport, dport, flags=flags, seq=seq, ack=ack, payload=payload)
    )


def u(src: str, dst: str, sport: int, dport: int, payload: bytes = b"x") -> bytes:
    return pg.ipv4(src, dst, pg.PROTO_UDP, pg.udp(sport, dport, payload))


def run(packets: Sequence[Packet], **options: object) -> list[netsonde.Flow]:
    return list(netsonde.analyze(list(packets), link_type="raw", **options))


def endpoints(f: netsonde.Flow) -> tuple[str, int, str, int]:
    return (f.src_ip, f.src_port, f.dst_ip, f.dst_port)


def conversation(
    t0: float = 10.0, isn: int = 1000, close: str = "fin", cport: int = 40000, sport: int = 80
) -> list[Packet]:
    items = pg.tcp_conversation(
        C, S, cport, sport, t0_ns=round(t0 * 1e9), step_ns=10_000_000, isn=isn, close=close
    )
    return [(ts / 1e9, pkt) for ts, _, pkt in items]


# --------------------------------------------------------------------------- orientation


def test_syn_sender_is_the_client() -> None:
    (f,) = run([(1.0, t(C, S, 40000, 80, "S", 1)), (1.1, t(S, C, 80, 40000, "SA", 9, 2))])
    assert endpoints(f) == (C, 40000, S, 80)
    assert (f.src2dst_packets, f.dst2src_packets) == (1, 1)
    assert (f.src2dst_tcp_flags, f.dst2src_tcp_flags) == ("S", "SA")


def test_ecn_setup_syn_sender_is_the_client() -> None:
    # An ECN-setup SYN carries ECE and CWR; its reply SYN-ACK carries ECE.
    (f,) = run([(0.9, t(C, S, 1000, 50000, "SEC", 1)), (1.0, t(S, C, 50000, 1000, "SAE", 9, 2))])
    assert endpoints(f) == (C, 1000, S, 50000)
    assert (f.src2dst_tcp_flags, f.dst2src_tcp_flags) == ("SEC", "SAE")


def test_syn_sender_is_the_client_even_from_a_service_port() -> None:
    # Active FTP data: the server opens from port 20 to the client's high port.
    (f,) = run([(1.0, t(S, C, 20, 40000, "S", 1)), (1.1, t(C, S, 40000, 20, "SA", 9, 2))])
    assert endpoints(f) == (S, 20, C, 40000)


def test_syn_ack_first_makes_its_receiver_the_client() -> None:
    # The SYN was missed; the SYN-ACK comes from a high port to a low one, so only the TCP
    # flags (not the ports) can tell who the client is.
    (f,) = run([(1.0, t(S, C, 50000, 1000, "SA", 9, 2)), (1.1, t(C, S, 1000, 50000, "A", 2, 10))])
    assert endpoints(f) == (C, 1000, S, 50000)
    assert (f.src2dst_packets, f.dst2src_packets) == (1, 1)
    assert (f.src2dst_tcp_flags, f.dst2src_tcp_flags) == ("A", "SA")


@pytest.mark.parametrize("first_from_server", [True, False])
def test_mid_stream_well_known_server_port(first_from_server: bool) -> None:
    to_client = (1.0, t(S, C, 443, 51000, "PA", 5, 6, b"data"))
    to_server = (1.1, t(C, S, 51000, 443, "A", 6, 9))
    packets = [to_client, to_server] if first_from_server else [to_server, to_client]
    (f,) = run(packets)
    assert endpoints(f) == (C, 51000, S, 443)


def test_udp_reply_first_from_service_port() -> None:
    (f,) = run([(1.0, u("8.8.8.8", C, 53, 33333)), (1.1, u(C, "8.8.8.8", 33333, 53))])
    assert endpoints(f) == (C, 33333, "8.8.8.8", 53)
    assert (f.src2dst_packets, f.dst2src_packets) == (1, 1)


@pytest.mark.parametrize("ports", [(40000, 50000), (50000, 40000), (123, 123), (5060, 5060)])
def test_without_a_hint_the_first_sender_is_the_client(ports: tuple[int, int]) -> None:
    a, b = ports
    (f,) = run([(1.0, u(S, C, a, b)), (1.1, u(C, S, b, a)), (1.2, u(C, S, b, a))])
    assert endpoints(f) == (S, a, C, b)
    assert (f.src2dst_packets, f.dst2src_packets) == (1, 2)


def test_ipv6_orientation_and_counts() -> None:
    a, b = "2001:db8::10", "2001:db8::1"  # the client sorts after the server
    syn = pg.ipv6(a, b, 6, pg.tcp(40000, 22, flags="S"))
    synack = pg.ipv6(b, a, 6, pg.tcp(22, 40000, flags="SA"))
    (f,) = run([(1.0, syn), (1.5, synack), (2.0, syn)])
    assert endpoints(f) == (a, 40000, b, 22)
    assert (f.src2dst_packets, f.dst2src_packets) == (2, 1)
    assert (f.src2dst_bytes, f.dst2src_bytes) == (2 * len(syn), len(synack))


# --------------------------------------------------------------------------- idle timeout


def test_idle_timeout_splits_a_flow() -> None:
    packets = [(100.0, u(C, S, 5000, 6000)), (101.0, u(S, C, 6000, 5000)), (200.0, u(C, S, 5000, 6000))]
    engine = netsonde.Engine(idle_timeout=10)
    ended = engine.process(packets, link_type="raw")
    assert [(f.expiration, f.bidirectional_packets) for f in ended] == [("idle", 2)]
    assert ended[0].bidirectional_last_seen_ms == 101_000
    rest = engine.flush()
    assert [(f.expiration, f.bidirectional_packets) for f in rest] == [("end_of_input", 1)]
    assert rest[0].bidirectional_first_seen_ms == 200_000
    assert ended[0].id != rest[0].id
    assert engine.stats["flows_expired_idle"] == 1


def test_idle_flow_ends_when_time_moves_on_elsewhere() -> None:
    engine = netsonde.Engine(idle_timeout=5)
    ended = engine.process([(10.0, u(C, S, 1111, 2222)), (30.0, u(C, S, 3333, 4444))], link_type="raw")
    assert [(f.src_port, f.expiration) for f in ended] == [(1111, "idle")]
    assert [(f.src_port, f.expiration) for f in engine.flush()] == [(3333, "end_of_input")]


@pytest.mark.parametrize(
    ("idle", "gap", "flows"),
    [(0.5, 0.4, 1), (0.5, 0.6, 2), (600, 500, 1), (600, 700, 2), (30, 29, 1), (30, 31, 2)],
)
def test_idle_timeout_boundaries(idle: float, gap: float, flows: int) -> None:
    out = run([(1000.0, u(C, S, 5000, 6000)), (1000.0 + gap, u(C, S, 5000, 6000))], idle_timeout=idle)
    assert len(out) == flows
    assert [f.expiration for f in out] == ["idle"] * (flows - 1) + ["end_of_input"]
    assert sum(f.bidirectional_packets for f in out) == 2


def test_idle_timeout_keeps_a_busy_flow() -> None:
    packets = [(1000.0 + 4 * i, u(C, S, 5000, 6000)) for i in range(50)]
    (f,) = run(packets, idle_timeout=5)
    assert f.bidirectional_packets == 50 and f.expiration == "end_of_input"


# --------------------------------------------------------------------------- active timeout


def test_active_timeout_cuts_long_flows() -> None:
    times = [0, 1.2, 2.4, 3.6, 4.8, 6.0, 7.2, 8.4]
    out = run([(1000.0 + x, u(C, S, 5000, 6000)) for x in times], active_timeout=3)
    assert [(f.expiration, f.bidirectional_packets) for f in out] == [
        ("active", 3),
        ("active", 3),
        ("end_of_input", 2),
    ]
    assert [f.bidirectional_first_seen_ms for f in out] == [1_000_000, 1_003_600, 1_007_200]
    assert all(f.bidirectional_duration_ms < 3000 for f in out)
    assert len({f.id for f in out}) == 3


def test_active_timeout_keeps_the_client() -> None:
    packets = [(1000.0, t(C, S, 40000, 80, "S", 1)), (1000.1, t(S, C, 80, 40000, "SA", 9, 2))]
    packets += [(1001.0 + i, t(S, C, 80, 40000, "PA", 10 + i, 2, b"d")) for i in range(6)]
    out = run(packets, active_timeout=2)
    assert len(out) >= 3
    assert [f.expiration for f in out] == ["active"] * (len(out) - 1) + ["end_of_input"]
    for f in out:
        assert endpoints(f) == (C, 40000, S, 80)
    assert sum(f.bidirectional_packets for f in out) == 8


# --------------------------------------------------------------------------- TCP end


def test_closed_connection_and_new_syn_start_a_new_flow() -> None:
    first = conversation(10.0, isn=1000)
    again = conversation(11.0, isn=777777)
    out = run(first + again)
    assert [(f.expiration, f.bidirectional_packets) for f in out] == [("end", 8), ("end_of_input", 8)]
    assert all(endpoints(f) == (C, 40000, S, 80) for f in out)
    assert out[0].bidirectional_last_seen_ms < out[1].bidirectional_first_seen_ms
    assert out[1].bidirectional_first_seen_ms == 11_000


def test_reset_connection_and_new_syn_start_a_new_flow() -> None:
    first = conversation(10.0, isn=1000, close="rst")
    again = conversation(11.0, isn=2000, close="none")
    engine = netsonde.Engine()
    ended = engine.process(first + again, link_type="raw")
    assert [(f.expiration, f.bidirectional_packets) for f in ended] == [("end", 6)]
    assert [(f.expiration, f.bidirectional_packets) for f in engine.flush()] == [("end_of_input", 5)]
    assert engine.stats["flows_ended_tcp"] == 1


def test_retransmitted_syn_after_reset_stays_in_the_flow() -> None:
    packets = [
        (1.0, t(C, S, 40000, 80, "S", 1000)),
        (1.1, t(S, C, 80, 40000, "RA", 0, 1001)),
        (2.0, t(C, S, 40000, 80, "S", 1000)),
        (2.1, t(S, C, 80, 40000, "RA", 0, 1001)),
    ]
    (f,) = run(packets)
    assert (f.src2dst_packets, f.dst2src_packets) == (2, 2)
    assert endpoints(f) == (C, 40000, S, 80)
    assert f.expiration == "end_of_input"


def test_new_connection_opened_by_the_other_side() -> None:
    first = conversation(10.0)
    syn_back = [(12.0, t(S, C, 80, 40000, "S", 424242)), (12.1, t(C, S, 40000, 80, "SA", 5, 424243))]
    out = run(first + syn_back)
    assert [f.expiration for f in out] == ["end", "end_of_input"]
    assert endpoints(out[0]) == (C, 40000, S, 80)
    assert endpoints(out[1]) == (S, 80, C, 40000)
    assert (out[1].src2dst_packets, out[1].dst2src_packets) == (1, 1)


def test_packets_after_close_without_syn_stay_in_the_flow() -> None:
    late = [(10.5, t(S, C, 80, 40000, "A", 9999, 9999))]
    (f,) = run(conversation(10.0) + late)
    assert f.bidirectional_packets == 9


def test_closed_connection_ends_before_end_of_input() -> None:
    """A closed connection does not wait for the idle timeout: it ends ("end") once the
    stragglers' grace period has passed, while an open flow started at the same time stays."""
    other = [(10.0, u(C, S, 5000, 6000)), (100.0, u(C, S, 5000, 6000))]
    packets = sorted(conversation(10.0) + other, key=lambda p: p[0])
    engine = netsonde.Engine()
    ended = engine.process(packets, link_type="raw")
    assert [(f.protocol, f.expiration) for f in ended] == [(6, "end")]
    assert [(f.protocol, f.expiration, f.bidirectional_packets) for f in engine.flush()] == [
        (17, "end_of_input", 2)
    ]


def test_a_closed_connection_waits_no_longer_than_the_idle_timeout() -> None:
    """The grace period after a close (30 s) is cut to a shorter idle timeout: a closed
    connection never outlives what an open flow would."""
    later = [(15.0, u(C, S, 5000, 6000))]
    engine = netsonde.Engine(idle_timeout=2)
    ended = engine.process(conversation(10.0) + later, link_type="raw")
    assert [(f.protocol, f.expiration) for f in ended] == [(6, "end")]
    assert engine.stats["flows_ended_tcp"] == 1


# --------------------------------------------------------------------------- bounded table


def test_max_flows_evicts_and_still_reports() -> None:
    packets = [(1.0 + i / 1000, u(C, S, 10000 + i, 53)) for i in range(1000)]
    engine = netsonde.Engine(max_flows=10)
    ended = engine.process(packets, link_type="raw")
    assert engine.active_flows == 10
    rest = engine.flush()
    records = ended + rest
    assert len(records) == 1000
    assert sorted(f.src_port for f in records) == list(range(10000, 11000))
    assert [f.expiration for f in ended] == ["eviction"] * 990
    assert [f.expiration for f in rest] == ["end_of_input"] * 10
    # The oldest go first.
    assert [f.src_port for f in ended] == list(range(10000, 10990))
    stats = engine.stats
    assert stats["flows_evicted"] == 990
    assert stats["max_flows_seen"] == 10
    assert stats["flows_created"] == 1000


def test_max_flows_through_analyze() -> None:
    packets = [(1.0 + i / 1000, u(C, S, 10000 + i, 53)) for i in range(1000)]
    out = run(packets, max_flows=10)
    assert len(out) == 1000
    assert sum(f.expiration == "eviction" for f in out) == 990


def test_eviction_takes_the_least_recently_seen() -> None:
    a, b, c = u(C, S, 11000, 12000), u(C, S, 13000, 14000), u(C, S, 15000, 16000)
    engine = netsonde.Engine(max_flows=2)
    ended = engine.process([(1.0, a), (2.0, b), (3.0, a), (4.0, c)], link_type="raw")
    assert [(f.src_port, f.expiration, f.bidirectional_packets) for f in ended] == [(13000, "eviction", 1)]
    rest = engine.flush()
    assert sorted((f.src_port, f.expiration, f.bidirectional_packets) for f in rest) == [
        (11000, "end_of_input", 2),
        (15000, "end_of_input", 1),
    ]


def test_evicted_flow_that_comes_back_is_a_new_flow() -> None:
    a, b = u(C, S, 11000, 12000), u(C, S, 13000, 14000)
    out = run([(1.0, a), (2.0, b), (3.0, a)], max_flows=1)
    assert [(f.src_port, f.expiration) for f in out] == [
        (11000, "eviction"),
        (13000, "eviction"),
        (11000, "end_of_input"),
    ]
    assert len({f.id for f in out}) == 3


# --------------------------------------------------------------------------- counters and ids


def test_bytes_are_wire_lengths() -> None:
    pkt = u(C, S, 5000, 6000, b"x" * 20)
    out = list(netsonde.analyze([(1.0, pkt, 1500), (2.0, pkt, len(pkt)), (3.0, pkt)], link_type="raw"))
    (f,) = out
    assert f.bidirectional_bytes == 1500 + 2 * len(pkt)


def test_ids_are_unique_and_in_creation_order() -> None:
    packets = [(1.0 + i, u(C, S, 7000 + (i % 5), 53)) for i in range(20)]
    out = run(packets)
    assert [f.id for f in out] == list(range(5))
    assert [f.src_port for f in out] == [7000, 7001, 7002, 7003, 7004]
    assert all(f.bidirectional_packets == 4 for f in out)


def test_time_going_backwards_does_not_lose_packets() -> None:
    packets = [(100.0, u(C, S, 5000, 6000)), (99.0, u(S, C, 6000, 5000)), (101.0, u(C, S, 5000, 6000))]
    (f,) = run(packets)
    assert f.bidirectional_packets == 3
    assert f.bidirectional_first_seen_ms == 99_000
    assert f.bidirectional_last_seen_ms == 101_000
    assert f.bidirectional_duration_ms == 2000
