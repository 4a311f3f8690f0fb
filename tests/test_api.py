"""The Python API: sources analyze() accepts, the Flow object, Engine, callbacks, errors."""

from __future__ import annotations

import json
import os
import typing
from pathlib import Path

import netsonde
import pcapgen as pg
import pytest
from conftest import CONVS, Event, assert_matches, expected_records, frames_of, match_conv, reference_events
from netsonde import _core


@pytest.fixture
def ref_pcap(tmp_path: Path, reference: tuple[list[Event], list[pg.Frame]]) -> Path:
    return pg.write_pcap(tmp_path / "ref.pcap", reference[1])


# --------------------------------------------------------------------------- sources


def test_analyze_str_path(ref_pcap: Path, reference: tuple[list[Event], list[pg.Frame]]) -> None:
    flows = list(netsonde.analyze(str(ref_pcap)))
    assert_matches(flows, expected_records(*reference))


def test_analyze_pathlib_path(ref_pcap: Path, reference: tuple[list[Event], list[pg.Frame]]) -> None:
    flows = list(netsonde.analyze(ref_pcap))
    assert_matches(flows, expected_records(*reference))


def test_analyze_returns_an_iterator(ref_pcap: Path) -> None:
    it = netsonde.analyze(ref_pcap)
    assert iter(it) is it
    first = next(it)
    assert isinstance(first, netsonde.Flow)
    assert len([first, *it]) == len(CONVS)


@pytest.mark.parametrize("container", [list, tuple])
def test_analyze_list_of_paths_is_one_capture(
    tmp_path: Path, reference: tuple[list[Event], list[pg.Frame]], container: type
) -> None:
    events, frames = reference
    parts = [frames[:3], frames[3:7], frames[7:]]
    paths = [pg.write_pcap(tmp_path / f"part{i}.pcap", p) for i, p in enumerate(parts)]
    flows = list(netsonde.analyze(container([str(paths[0]), paths[1], str(paths[2])])))
    assert_matches(flows, expected_records(events, frames))


def test_analyze_packets_with_link_type_names_and_numbers() -> None:
    syn = pg.ipv4("10.0.0.1", "10.0.0.2", 6, pg.tcp(40000, 80, flags="S"))
    synack = pg.ipv4("10.0.0.2", "10.0.0.1", 6, pg.tcp(80, 40000, flags="SA"))
    frames = {
        "ethernet": pg.ether_for,
        1: pg.ether_for,
        "raw": lambda p: p,
        101: lambda p: p,
        "ipv4": lambda p: p,
        "linux-sll": pg.link_sll,
        113: pg.link_sll,
        "linux-sll2": pg.link_sll2,
        276: pg.link_sll2,
        "null": pg.link_null,
        0: pg.link_null,
        "loop": pg.link_loop,
        108: pg.link_loop,
        "ppp": pg.ppp_for,
        9: pg.ppp_for,
        "cisco-hdlc": pg.link_cisco_hdlc,
        104: pg.link_cisco_hdlc,
        "LINUX-SLL": pg.link_sll,
        "Ethernet": pg.ether_for,
    }
    for link_type, encap in frames.items():
        packets = [(1.0, encap(syn)), (1.25, encap(synack))]
        (f,) = list(netsonde.analyze(packets, link_type=link_type))
        assert (f.src_ip, f.src_port, f.dst_ip, f.dst_port) == ("10.0.0.1", 40000, "10.0.0.2", 80), link_type
        assert (f.src2dst_bytes, f.dst2src_bytes) == (len(encap(syn)), len(encap(synack)))
        assert (f.bidirectional_first_seen_ms, f.bidirectional_last_seen_ms) == (1000, 1250)


def test_analyze_packets_default_link_type_is_ethernet() -> None:
    # Float seconds this small are exact to the nanosecond (near 1.7e9 s a double only
    # resolves about 0.24 µs, so a whole millisecond could floor one lower).
    events = reference_events(pg.ns("1000.123"))
    frames = frames_of(events)
    packets = ((f.ts_ns / 1e9, f.data) for f in frames)  # a generator, consumed once
    flows = list(netsonde.analyze(packets))
    assert_matches(flows, expected_records(events, frames))


def test_analyze_packets_accepts_bytearray_and_memoryview() -> None:
    pkt = pg.ether_for(pg.ipv4("10.0.0.1", "10.0.0.2", 17, pg.udp(5000, 6000)))
    (f,) = list(netsonde.analyze([(1, bytearray(pkt)), (2, memoryview(pkt)), (3.5, pkt)]))
    assert f.bidirectional_packets == 3
    assert f.bidirectional_last_seen_ms == 3500


def test_packets_of_the_common_shape_convert_as_any_other_shape() -> None:
    # (float or int, bytes) tuples take a shortcut; as lists, with a wire length or a
    # bytearray they take the general path: both give the same triples, timestamps rounded
    # to the microsecond as pcap stores them (half-way cases to even).
    from netsonde.api import _packet_triples

    pkt = b"\x00" * 42
    stamps: list[float | int] = [1.0, 1700000000.1234565, 1700000000.9999996, 0.0000005, 0.0000015, 3, 0]
    fast = [(ts, pkt) for ts in stamps]
    general = [[ts, bytearray(pkt), len(pkt)] for ts in stamps]
    (got,) = list(_packet_triples(fast))
    assert list(_packet_triples(general)) == [got]
    assert [ns for ns, _, _ in got] == [
        1_000_000_000,
        1_700_000_000_123_456_000,
        1_700_000_001_000_000_000,
        0,
        2000,
        3_000_000_000,
        0,
    ]


def test_analyze_packets_with_options() -> None:
    pkt = pg.ipv4("10.0.0.1", "10.0.0.2", 17, pg.udp(5000, 6000))
    flows = list(netsonde.analyze([(1.0, pkt), (100.0, pkt)], link_type="raw", idle_timeout=10))
    assert [f.expiration for f in flows] == ["idle", "end_of_input"]


def test_analyze_many_packets_in_batches() -> None:
    """More packets than one internal batch: nothing lost at the batch edges."""
    packets = [
        (1.0 + i / 1e4, pg.ipv4("10.0.0.1", "10.0.0.2", 17, pg.udp(20000 + i % 7, 53))) for i in range(10_000)
    ]
    flows = list(netsonde.analyze(packets, link_type="raw"))
    assert len(flows) == 7
    assert sum(f.bidirectional_packets for f in flows) == 10_000


# --------------------------------------------------------------------------- Flow


def test_flow_fields_agree_everywhere() -> None:
    assert list(netsonde.FIELD_NAMES) == list(_core.FIELD_NAMES)
    assert list(netsonde.Flow.__slots__) == list(_core.FIELD_NAMES)
    hints = typing.get_type_hints(netsonde.Flow)
    assert list(hints) == list(_core.FIELD_NAMES)
    for name in (
        "id",
        "src_ip",
        "src_port",
        "dst_ip",
        "dst_port",
        "protocol",
        "ip_version",
        "vlan_id",
        "tunnel_id",
        "bidirectional_first_seen_ms",
        "bidirectional_last_seen_ms",
        "bidirectional_duration_ms",
        "bidirectional_packets",
        "bidirectional_bytes",
        "src2dst_packets",
        "src2dst_bytes",
        "dst2src_packets",
        "dst2src_bytes",
        "application_name",
        "application_category_name",
        "application_confidence",
        "requested_server_name",
        "user_agent",
        "content_type",
        "client_fingerprint",
        "server_fingerprint",
        "metadata",
        "risks",
        "expiration",
    ):
        assert name in netsonde.FIELD_NAMES, name


def test_flow_attributes_match_to_dict(ref_pcap: Path) -> None:
    for flow in netsonde.analyze(ref_pcap):
        d = flow.to_dict()
        assert list(d) == list(netsonde.FIELD_NAMES)
        for name in netsonde.FIELD_NAMES:
            assert getattr(flow, name) == d[name], name
        assert json.loads(json.dumps(d)) == d
        assert isinstance(d["metadata"], dict) and isinstance(d["risks"], list)
        assert d["bidirectional_packets"] == d["src2dst_packets"] + d["dst2src_packets"]
        assert d["bidirectional_bytes"] == d["src2dst_bytes"] + d["dst2src_bytes"]
        assert (
            d["bidirectional_duration_ms"]
            == d["bidirectional_last_seen_ms"] - d["bidirectional_first_seen_ms"]
        )


def test_flow_value_types(ref_pcap: Path) -> None:
    http = match_conv(list(netsonde.analyze(ref_pcap)), CONVS["http"])
    ints = (
        "id",
        "src_port",
        "dst_port",
        "protocol",
        "ip_version",
        "vlan_id",
        "tunnel_id",
        "bidirectional_first_seen_ms",
        "bidirectional_packets",
        "bidirectional_bytes",
    )
    for name in ints:
        assert type(getattr(http, name)) is int, name
    for name in ("src_ip", "dst_ip", "expiration", "application_name", "tunnel"):
        assert type(getattr(http, name)) is str, name
    assert http.application_name  # never empty: a name or "Unknown"


def test_flows_of_one_batch_share_their_repeated_text_values() -> None:
    # The bundled sample's six flows (three of them HTTP) come in one batch. The names a
    # record repeats are one string per value, not one per flow (memory for kept flows).
    flows = list(netsonde.analyze(Path(__file__).resolve().parents[1] / "samples" / "loopback.pcapng"))
    http = [f for f in flows if f.application_name == "HTTP"]
    assert len(http) >= 2
    shared = (
        "application_name",
        "application_category_name",
        "application_confidence",
        "expiration",
        "tunnel",
        "src2dst_tcp_flags",
        "dst2src_tcp_flags",
    )
    pairs = [(a, b) for i, a in enumerate(flows) for b in flows[i + 1 :]]
    for name in shared:
        for a, b in pairs:
            if getattr(a, name) == getattr(b, name):
                assert getattr(a, name) is getattr(b, name), name
    assert http[0].application_name is http[1].application_name


def test_to_dict_is_a_copy(ref_pcap: Path) -> None:
    flow = next(netsonde.analyze(ref_pcap))
    d = flow.to_dict()
    d["metadata"]["x"] = 1
    d["risks"].append("y")
    assert flow.to_dict() != d
    assert "x" not in flow.metadata and "y" not in flow.risks


def test_flow_slots_reject_new_attributes(ref_pcap: Path) -> None:
    flow = next(netsonde.analyze(ref_pcap))
    with pytest.raises(AttributeError):
        flow.no_such_field = 1  # type: ignore[attr-defined]


def test_flow_equality_and_repr(ref_pcap: Path) -> None:
    a = list(netsonde.analyze(ref_pcap))
    b = list(netsonde.analyze(ref_pcap))
    assert a == b
    assert a[0] != a[1]
    text = repr(a[0])
    assert text.startswith("Flow(") and a[0].src_ip in text


# --------------------------------------------------------------------------- Engine


def test_engines_are_independent(reference: tuple[list[Event], list[pg.Frame]]) -> None:
    _, frames = reference
    one, two = netsonde.Engine(), netsonde.Engine(idle_timeout=1)
    one.process([(f.ts_ns / 1e9, f.data) for f in frames[:5]])
    assert one.active_flows > 0
    assert two.active_flows == 0
    assert two.stats["frames"] == 0
    out_two = two.process([(f.ts_ns / 1e9, f.data) for f in frames])
    assert one.stats["frames"] == 5
    assert two.stats["frames"] == len(frames)
    out_one = one.flush()
    assert one.active_flows == 0
    assert two.active_flows > 0
    out_two += two.flush()
    # Each engine numbers its own flows from 0.
    assert sorted(f.id for f in out_one) == list(range(len(out_one)))
    assert sorted(f.id for f in out_two) == list(range(len(out_two)))
    assert len(out_two) == len(CONVS)
    assert one.options.idle_timeout == 600 and two.options.idle_timeout == 1


def test_engine_keeps_flows_across_calls() -> None:
    pkt = pg.ether_for(pg.ipv4("10.0.0.1", "10.0.0.2", 17, pg.udp(5000, 6000)))
    engine = netsonde.Engine()
    assert engine.process([(1.0, pkt)]) == []
    assert engine.process([(2.0, pkt)]) == []
    assert engine.active_flows == 1
    (f,) = engine.flush()
    assert f.bidirectional_packets == 2
    assert engine.flush() == []


def test_engine_process_files_and_packets_together(
    ref_pcap: Path, reference: tuple[list[Event], list[pg.Frame]]
) -> None:
    _, frames = reference
    engine = netsonde.Engine()
    engine.process(ref_pcap)
    extra = pg.ether_for(pg.ipv4("10.0.0.1", "8.8.8.8", 17, pg.udp(53000, 53, b"again")))
    engine.process([((frames[-1].ts_ns + 1_000_000) / 1e9, extra)])
    flows = engine.flush()
    dns = match_conv(flows, CONVS["dns"])
    assert dns.src2dst_packets == 2


def test_flow_end_callback_once_per_flow() -> None:
    packets = [
        (1.0 + i / 100, pg.ether_for(pg.ipv4("10.0.0.1", "10.0.0.2", 17, pg.udp(20000 + i, 53))))
        for i in range(50)
    ]
    engine = netsonde.Engine(max_flows=20)
    seen: list[netsonde.Flow] = []
    also: list[int] = []
    engine.on("flow.end", seen.append)
    engine.on("flow.end", lambda f: also.append(f.id))
    returned = engine.process(packets) + engine.flush()
    assert len(returned) == 50
    assert seen == returned
    assert sorted(also) == sorted(f.id for f in returned) == list(range(50))
    assert len(set(also)) == 50


def test_flow_end_callback_for_files(ref_pcap: Path) -> None:
    engine = netsonde.Engine()
    seen: list[netsonde.Flow] = []
    engine.on("flow.end", seen.append)
    engine.process(ref_pcap)
    assert seen == []
    flows = engine.flush()
    assert seen == flows and len(flows) == len(CONVS)


def test_callbacks_for_a_file_arrive_while_it_is_read(tmp_path: Path) -> None:
    from test_classification import http_packets

    packets = []
    for i in range(1200):  # an HTTP connection a second: each ends while later ones are read
        client = f"10.2.{i // 200}.{i % 200 + 1}"
        packets += http_packets(client, 40000 + i, 80, f"h{i}.example", (1_000 + i) * 10**9)
    path = pg.write_pcap(tmp_path / "many.pcap", [(round(ts * 1e9), data) for ts, data in packets])
    engine = netsonde.Engine()
    frames_at: dict[str, list[int]] = {"flow.end": [], "http.request": []}
    # A callback may use the engine: between steps it is not busy.
    engine.on("flow.end", lambda flow: frames_at["flow.end"].append(engine.stats["frames"]))
    engine.on("http.request", lambda event: frames_at["http.request"].append(engine.stats["frames"]))
    flows = engine.process(path) + engine.flush()
    assert len(frames_at["http.request"]) == 1200
    assert len(frames_at["flow.end"]) == len(flows) == 1200
    # Delivered in steps while the file was read, not all once it was.
    for seen in frames_at.values():
        assert min(seen) < len(packets) / 2
        assert len(set(seen)) > 2
    assert [f.to_dict() for f in flows] == [f.to_dict() for f in netsonde.analyze(path)]


def test_events_list() -> None:
    assert "flow.end" in netsonde.EVENTS
    assert len(set(netsonde.EVENTS)) == len(netsonde.EVENTS)
    engine = netsonde.Engine()
    for name in netsonde.EVENTS:  # every advertised event can be subscribed to
        engine.on(name, lambda _item: None)


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "make",
    [
        lambda: netsonde.analyze([], idle_timout=5),
        lambda: netsonde.Engine(idle_timout=5),
    ],
)
def test_unknown_option_is_a_type_error_naming_it(make: typing.Callable[[], object]) -> None:
    with pytest.raises(TypeError, match="idle_timout"):
        make()


def test_unknown_option_on_a_path(ref_pcap: Path) -> None:
    with pytest.raises(TypeError, match="bogus_option"):
        netsonde.analyze(ref_pcap, bogus_option=True)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("max_flows", 0),
        ("max_flows", -5),
        ("max_flows", 1.5),
        ("max_flows", True),
        ("idle_timeout", 0),
        ("idle_timeout", -1),
        ("idle_timeout", float("nan")),
        ("idle_timeout", float("inf")),
        ("idle_timeout", "10"),
        ("active_timeout", 0),
        ("defrag", "yes"),
        ("decode_tunnels", 1),
    ],
)
def test_bad_option_values(name: str, value: object, ref_pcap: Path) -> None:
    with pytest.raises(ValueError, match=name):
        netsonde.Engine(**{name: value})
    with pytest.raises(ValueError, match=name):
        netsonde.analyze(ref_pcap, **{name: value})


def test_unknown_event() -> None:
    engine = netsonde.Engine()
    with pytest.raises(ValueError, match=r"flow\.ended"):
        engine.on("flow.ended", print)
    with pytest.raises(TypeError):
        engine.on("flow.end", "not callable")  # type: ignore[arg-type]


@pytest.mark.parametrize("link_type", ["ethernet2", "bogus-link", "", True, -1, 2**32])
def test_unknown_link_type(link_type: object) -> None:
    pkt = pg.ether_for(pg.ipv4("10.0.0.1", "10.0.0.2", 17, pg.udp(5000, 6000)))
    with pytest.raises(ValueError) as info:
        list(netsonde.analyze([(1.0, pkt)], link_type=link_type))  # type: ignore[arg-type]
    if isinstance(link_type, str) and link_type:
        assert link_type in str(info.value)
    with pytest.raises(ValueError):
        netsonde.Engine().process([(1.0, pkt)], link_type=link_type)  # type: ignore[arg-type]


def test_unsupported_link_number_is_counted() -> None:
    engine = netsonde.Engine()
    assert engine.process([(1.0, b"\x00" * 40)], link_type=147) == []
    assert engine.stats["unsupported_link"] == 1


def test_missing_file_raises_at_call_time(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pcap"
    with pytest.raises(FileNotFoundError, match=r"nope\.pcap"):
        netsonde.analyze(missing)
    with pytest.raises(FileNotFoundError):
        netsonde.analyze(str(missing))
    with pytest.raises(FileNotFoundError):
        netsonde.Engine().process(missing)


def test_missing_file_in_a_list_raises_before_any_work(tmp_path: Path, ref_pcap: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"later\.pcap"):
        netsonde.analyze([ref_pcap, tmp_path / "later.pcap"])


def test_not_a_capture_raises_at_call_time(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pcap"
    junk.write_bytes(os.urandom(16) + b"not a capture at all" * 20)
    with pytest.raises(netsonde.CaptureFormatError, match=r"junk\.pcap"):
        netsonde.analyze(junk)
    with pytest.raises(netsonde.CaptureFormatError):
        netsonde.analyze([junk])
    with pytest.raises(netsonde.CaptureFormatError):
        netsonde.Engine().process(junk)
    assert issubclass(netsonde.CaptureFormatError, netsonde.NetsondeError)


def test_directory_is_not_a_capture(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        netsonde.analyze(tmp_path)


def test_bytes_source_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        netsonde.analyze(b"\xd4\xc3\xb2\xa1")  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [[b"no timestamp"], [(1.0, "text, not bytes")], [("1.0", b"\x00")], [42]])
def test_bad_packets_are_type_errors(bad: list[object]) -> None:
    with pytest.raises(TypeError):
        list(netsonde.analyze(bad))  # type: ignore[arg-type]


def test_truncated_capture_warns_and_yields_flows_before_the_cut(
    tmp_path: Path, reference: tuple[list[Event], list[pg.Frame]]
) -> None:
    events, frames = reference
    raw = pg.pcap_bytes([*frames, frames[-1]])
    path = tmp_path / "cut.pcap"
    path.write_bytes(raw[:-7])
    it = netsonde.analyze(path)  # opening does not warn: the damage is found while reading
    with pytest.warns(netsonde.TruncatedCaptureWarning) as record:
        flows = list(it)
    assert len(record) == 1
    assert "cut.pcap" in str(record[0].message)
    assert_matches(flows, expected_records(events, frames))


def test_truncated_capture_warning_is_a_user_warning() -> None:
    assert issubclass(netsonde.TruncatedCaptureWarning, UserWarning)


def test_version() -> None:
    assert isinstance(netsonde.__version__, str) and netsonde.__version__.count(".") >= 1


def test_engine_is_reusable_after_flush() -> None:
    a = pg.ether_for(pg.ipv4("10.0.0.1", "10.0.0.2", 17, pg.udp(5000, 6000)))
    b = pg.ether_for(pg.ipv4("10.0.0.3", "10.0.0.4", 17, pg.udp(5000, 6000)))
    engine = netsonde.Engine()
    engine.process([(1.0, a), (2.0, a)])
    (first,) = engine.flush()
    engine.process([(3.0, b), (4.0, a)])
    second = engine.flush()
    assert first.bidirectional_packets == 2
    assert sorted((f.src_ip, f.bidirectional_packets) for f in second) == [("10.0.0.1", 1), ("10.0.0.3", 1)]
    assert len({first.id, *(f.id for f in second)}) == 3
    assert engine.stats["frames"] == 4
    assert engine.stats["flows_created"] == 3


def test_engine_process_list_of_paths(tmp_path: Path, reference: tuple[list[Event], list[pg.Frame]]) -> None:
    events, frames = reference
    one = pg.write_pcap(tmp_path / "1.pcap", frames[:4])
    two = pg.write_pcap(tmp_path / "2.pcap", frames[4:], nanosecond=True)
    engine = netsonde.Engine()
    flows = engine.process([one, two]) + engine.flush()
    assert_matches(flows, expected_records(events, frames))
