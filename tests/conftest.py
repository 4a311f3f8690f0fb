"""Shared helpers: reference traffic and small wrappers around netsonde."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import netsonde
import pcapgen as pg
import pytest


@dataclass(frozen=True)
class Event:
    """One IP packet of a conversation, before any link layer is put around it."""

    ts_ns: int
    conv: str
    from_client: bool
    packet: bytes


@dataclass(frozen=True)
class Conv:
    """What a conversation's flow record must say (counts come from the frames)."""

    name: str
    client: str
    server: str
    cport: int
    sport: int
    protocol: int


T0 = pg.ns("1700000000.123")

CONVS = {
    "http": Conv("http", "10.0.0.1", "10.0.0.2", 40000, 80, 6),
    "dns": Conv("dns", "10.0.0.1", "8.8.8.8", 53000, 53, 17),
    "ping6": Conv("ping6", "2001:db8::1", "2001:db8::2", 0, 0, 58),
    "sctp": Conv("sctp", "192.168.1.1", "192.168.1.2", 2905, 2905, 132),
}


def reference_events(t0_ns: int = T0) -> list[Event]:
    """A small mixed capture: an HTTP connection, a DNS exchange, an ICMPv6 echo and SCTP,
    interleaved, every timestamp a whole number of milliseconds apart."""
    c = CONVS
    events: list[Event] = []
    for ts, from_client, pkt in pg.tcp_conversation(
        c["http"].client, c["http"].server, 40000, 80, t0_ns=t0_ns, step_ns=250_000_000
    ):
        events.append(Event(ts, "http", from_client, pkt))
    dq = pg.udp(
        53000, 53, b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01"
    )
    dr = pg.udp(53, 53000, b"\x12\x34\x81\x80" + b"\x00" * 40)
    events.append(Event(t0_ns + 100_000_000, "dns", True, pg.ipv4("10.0.0.1", "8.8.8.8", 17, dq)))
    events.append(Event(t0_ns + 137_000_000, "dns", False, pg.ipv4("8.8.8.8", "10.0.0.1", 17, dr)))
    events.append(
        Event(t0_ns + 300_000_000, "ping6", True, pg.ipv6("2001:db8::1", "2001:db8::2", 58, pg.icmpv6(128)))
    )
    events.append(
        Event(t0_ns + 301_000_000, "ping6", False, pg.ipv6("2001:db8::2", "2001:db8::1", 58, pg.icmpv6(129)))
    )
    events.append(
        Event(
            t0_ns + 400_000_000,
            "sctp",
            True,
            pg.ipv4("192.168.1.1", "192.168.1.2", 132, pg.sctp(2905, 2905, [pg.sctp_init()])),
        )
    )
    events.sort(key=lambda e: e.ts_ns)
    return events


Encap = Callable[[bytes], bytes]


def encap_ethernet(packet: bytes) -> bytes:
    return pg.ether_for(packet)


def frames_of(events: Iterable[Event], encap: Encap = encap_ethernet) -> list[pg.Frame]:
    return [pg.Frame(e.ts_ns, encap(e.packet)) for e in events]


def expected_records(events: list[Event], frames: list[pg.Frame]) -> dict[str, dict[str, object]]:
    """The fields of each conversation's record that follow from its frames."""
    out: dict[str, dict[str, object]] = {}
    for e, f in zip(events, frames, strict=True):
        conv = CONVS[e.conv]
        rec = out.setdefault(
            e.conv,
            {
                "src_ip": conv.client,
                "dst_ip": conv.server,
                "src_port": conv.cport,
                "dst_port": conv.sport,
                "protocol": conv.protocol,
                "ip_version": pg.ip_version_of(conv.client),
                "vlan_id": 0,
                "tunnel_id": 0,
                "src2dst_packets": 0,
                "src2dst_bytes": 0,
                "dst2src_packets": 0,
                "dst2src_bytes": 0,
                "first_ns": f.ts_ns,
                "last_ns": f.ts_ns,
            },
        )
        d = "src2dst" if e.from_client else "dst2src"
        rec[f"{d}_packets"] += 1  # type: ignore[operator]
        rec[f"{d}_bytes"] += f.orig_len  # type: ignore[operator]
        rec["first_ns"] = min(rec["first_ns"], f.ts_ns)  # type: ignore[type-var]
        rec["last_ns"] = max(rec["last_ns"], f.ts_ns)  # type: ignore[type-var]
    for rec in out.values():
        first_ms = rec.pop("first_ns") // 1_000_000  # type: ignore[operator]
        last_ms = rec.pop("last_ns") // 1_000_000  # type: ignore[operator]
        rec["bidirectional_first_seen_ms"] = first_ms
        rec["bidirectional_last_seen_ms"] = last_ms
        rec["bidirectional_duration_ms"] = last_ms - first_ms
        rec["bidirectional_packets"] = rec["src2dst_packets"] + rec["dst2src_packets"]  # type: ignore[operator]
        rec["bidirectional_bytes"] = rec["src2dst_bytes"] + rec["dst2src_bytes"]  # type: ignore[operator]
    return out


def flow_key(d: dict[str, object]) -> tuple[object, ...]:
    return (d["protocol"], d["src_ip"], d["src_port"], d["dst_ip"], d["dst_port"])


def match_conv(flows: list[netsonde.Flow], conv: Conv) -> netsonde.Flow:
    found = [
        f
        for f in flows
        if {(f.src_ip, f.src_port), (f.dst_ip, f.dst_port)}
        == {(conv.client, conv.cport), (conv.server, conv.sport)}
        and f.protocol == conv.protocol
    ]
    assert len(found) == 1, f"expected one flow for {conv}, got {found}"
    return found[0]


def assert_matches(flows: list[netsonde.Flow], expected: dict[str, dict[str, object]]) -> None:
    """Each expected conversation is exactly one flow whose fields equal the expectation."""
    assert len(flows) == len(expected), [repr(f) for f in flows]
    for name, want in expected.items():
        flow = match_conv(flows, CONVS[name])
        got = {k: getattr(flow, k) for k in want}
        assert got == want, f"{name}: {got} != {want}"


def analyze_list(source: object, **options: object) -> list[netsonde.Flow]:
    return list(netsonde.analyze(source, **options))  # type: ignore[arg-type]


def pcap_flows(
    tmp_path: Path,
    frames: list[pg.Frame],
    *,
    linktype: int = pg.LINKTYPE_ETHERNET,
    name: str = "t.pcap",
    **options: object,
) -> list[netsonde.Flow]:
    path = pg.write_pcap(tmp_path / name, frames, linktype=linktype)
    return analyze_list(path, **options)


@pytest.fixture
def reference() -> tuple[list[Event], list[pg.Frame]]:
    events = reference_events()
    return events, frames_of(events)
