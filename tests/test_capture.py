"""Capture formats: pcap (both byte orders, µs and ns), pcapng (sections, interfaces,
resolutions, block kinds), snap-length cuts, several files, damaged files."""

from __future__ import annotations

from pathlib import Path

import netsonde
import pcapgen as pg
import pytest
from conftest import (
    CONVS,
    Event,
    analyze_list,
    assert_matches,
    expected_records,
    frames_of,
    match_conv,
    reference_events,
)

PCAP_VARIANTS = {
    "pcap-us-le": {"nanosecond": False, "big_endian": False},
    "pcap-us-be": {"nanosecond": False, "big_endian": True},
    "pcap-ns-le": {"nanosecond": True, "big_endian": False},
    "pcap-ns-be": {"nanosecond": True, "big_endian": True},
}

PCAPNG_VARIANTS = {
    "pcapng-le-default-resolution": (False, None),
    "pcapng-be-default-resolution": (True, None),
    "pcapng-le-us": (False, 6),
    "pcapng-be-ns": (True, 9),
    "pcapng-le-ns": (False, 9),
    "pcapng-le-ms": (False, 3),
}


def _write_variant(tmp_path: Path, variant: str, frames: list[pg.Frame]) -> Path:
    if variant in PCAP_VARIANTS:
        return pg.write_pcap(tmp_path / f"{variant}.pcap", frames, **PCAP_VARIANTS[variant])
    big_endian, tsresol = PCAPNG_VARIANTS[variant]
    section = pg.Section(
        [pg.Interface(pg.LINKTYPE_ETHERNET, tsresol=tsresol)],
        [pg.EPB(0, f) for f in frames],
        big_endian=big_endian,
    )
    return pg.write_pcapng(tmp_path / f"{variant}.pcapng", [section])


@pytest.mark.parametrize("variant", [*PCAP_VARIANTS, *PCAPNG_VARIANTS])
def test_every_format_gives_the_reference_flows(
    tmp_path: Path, reference: tuple[list[Event], list[pg.Frame]], variant: str
) -> None:
    events, frames = reference
    flows = analyze_list(_write_variant(tmp_path, variant, frames))
    assert_matches(flows, expected_records(events, frames))
    assert all(f.expiration == "end_of_input" for f in flows)


def test_every_format_gives_identical_records(
    tmp_path: Path, reference: tuple[list[Event], list[pg.Frame]]
) -> None:
    _, frames = reference
    results = {
        v: [f.to_dict() for f in analyze_list(_write_variant(tmp_path, v, frames))]
        for v in [*PCAP_VARIANTS, *PCAPNG_VARIANTS]
    }
    first = results["pcap-us-le"]
    assert len(first) == len(CONVS)
    for variant, records in results.items():
        assert records == first, variant


def test_reference_values_spelled_out(tmp_path: Path, reference: tuple[list[Event], list[pg.Frame]]) -> None:
    """The reference capture's HTTP flow, with every number written by hand."""
    _, frames = reference
    flows = analyze_list(_write_variant(tmp_path, "pcap-us-le", frames))
    http = match_conv(flows, CONVS["http"])
    # 8 packets 250 ms apart from 1700000000.123 s: 5 from the client, 3 from the server.
    assert http.bidirectional_first_seen_ms == 1_700_000_000_123
    assert http.bidirectional_last_seen_ms == 1_700_000_000_123 + 7 * 250
    assert http.bidirectional_duration_ms == 1750
    assert (http.src2dst_packets, http.dst2src_packets) == (5, 3)
    assert (http.src_ip, http.src_port, http.dst_ip, http.dst_port) == ("10.0.0.1", 40000, "10.0.0.2", 80)
    assert http.src2dst_tcp_flags == "SAFP"
    assert http.dst2src_tcp_flags == "SAFP"
    # Ethernet 14 + IPv4 20 + TCP 20 (+ options 20 on SYN and SYN-ACK) + payload.
    client = [74, 54, 54 + 18, 54, 54]
    server = [74, 54 + 19, 54]
    assert http.src2dst_bytes == sum(client)
    assert http.dst2src_bytes == sum(server)
    dns = match_conv(flows, CONVS["dns"])
    assert dns.bidirectional_first_seen_ms == 1_700_000_000_223
    assert dns.bidirectional_duration_ms == 37


def _nanosecond_frames() -> list[pg.Frame]:
    # Sub-microsecond parts that only a nanosecond reader keeps; ms are floor(ns / 1e6).
    a = pg.ipv4("10.9.0.1", "10.9.0.2", 17, pg.udp(5000, 6000, b"a"))
    b = pg.ipv4("10.9.0.2", "10.9.0.1", 17, pg.udp(6000, 5000, b"b"))
    return [
        pg.Frame(pg.ns("1600000000.000999999"), pg.ether_for(a)),
        pg.Frame(pg.ns("1600000000.999999999"), pg.ether_for(b)),
    ]


@pytest.mark.parametrize("variant", ["pcap-ns-le", "pcap-ns-be", "pcapng-be-ns", "pcapng-le-ns"])
def test_nanosecond_timestamps(tmp_path: Path, variant: str) -> None:
    (flow,) = analyze_list(_write_variant(tmp_path, variant, _nanosecond_frames()))
    assert flow.bidirectional_first_seen_ms == 1_600_000_000_000
    assert flow.bidirectional_last_seen_ms == 1_600_000_000_999
    assert flow.bidirectional_duration_ms == 999


def test_pcapng_binary_resolution(tmp_path: Path) -> None:
    """if_tsresol with the high bit set: units of 2^-n seconds (here 1/512 s)."""
    a = pg.ipv4("10.9.0.1", "10.9.0.2", 17, pg.udp(5000, 6000, b"a"))
    step = 1_000_000_000 // 512  # 1953125 ns, exact
    frames = [pg.Frame(pg.ns(100) + k * step, pg.ether_for(a)) for k in (1, 3, 700)]
    sec = pg.Section([pg.Interface(pg.LINKTYPE_ETHERNET, tsresol=0x80 | 9)], [pg.EPB(0, f) for f in frames])
    (flow,) = analyze_list(pg.write_pcapng(tmp_path / "bin.pcapng", [sec]))
    assert flow.bidirectional_first_seen_ms == (pg.ns(100) + step) // 1_000_000
    assert flow.bidirectional_last_seen_ms == (pg.ns(100) + 700 * step) // 1_000_000
    assert flow.bidirectional_packets == 3


def test_pcapng_tsoffset(tmp_path: Path) -> None:
    """if_tsoffset seconds are added to every timestamp of the interface."""
    a = pg.ipv4("10.9.0.1", "10.9.0.2", 17, pg.udp(5000, 6000, b"a"))
    frames = [pg.Frame(pg.ns("1500000000.250"), pg.ether_for(a))]
    sec = pg.Section(
        [pg.Interface(pg.LINKTYPE_ETHERNET, tsresol=6, tsoffset=1_500_000_000)],
        [pg.EPB(0, f) for f in frames],
    )
    (flow,) = analyze_list(pg.write_pcapng(tmp_path / "off.pcapng", [sec]))
    assert flow.bidirectional_first_seen_ms == 1_500_000_000_250


def _encap_for(linktype: int, packet: bytes) -> bytes:
    return {
        pg.LINKTYPE_ETHERNET: pg.ether_for,
        pg.LINKTYPE_RAW: lambda p: p,
        pg.LINKTYPE_LINUX_SLL: pg.link_sll,
        pg.LINKTYPE_LINUX_SLL2: pg.link_sll2,
        pg.LINKTYPE_NULL: pg.link_null,
        pg.LINKTYPE_PPP: pg.ppp_for,
    }[linktype](packet)


def test_pcapng_sections_and_interfaces(tmp_path: Path) -> None:
    """Three sections (little, big, little endian), each with interfaces of different link
    types and resolutions; interface numbers restart in every section. Packets of one
    conversation are spread over all of them and must still make one flow each."""
    events = reference_events()
    layout = [
        pg.Section([pg.Interface(pg.LINKTYPE_ETHERNET), pg.Interface(pg.LINKTYPE_RAW, tsresol=9)]),
        pg.Section(
            [
                pg.Interface(pg.LINKTYPE_LINUX_SLL, tsresol=9),
                pg.Interface(pg.LINKTYPE_NULL),
                pg.Interface(pg.LINKTYPE_LINUX_SLL2, tsresol=3),
            ],
            big_endian=True,
        ),
        pg.Section([pg.Interface(pg.LINKTYPE_PPP, tsresol=6), pg.Interface(pg.LINKTYPE_ETHERNET, tsresol=9)]),
    ]
    frames: list[pg.Frame] = []
    section_of = [i * len(layout) // len(events) for i in range(len(events))]
    for i, (ev, s) in enumerate(zip(events, section_of, strict=True)):
        sec = layout[s]
        iface = i % len(sec.interfaces)
        frame = pg.Frame(ev.ts_ns, _encap_for(sec.interfaces[iface].linktype, ev.packet))
        sec.blocks.append(pg.EPB(iface, frame))
        frames.append(frame)
    # Blocks a reader must skip: interface statistics, name resolution, a custom block.
    layout[0].blocks.insert(1, pg.RawBlock(5, b"\x00" * 12))
    layout[1].blocks.append(pg.RawBlock(4, b"\x00" * 4))
    layout[2].blocks.insert(0, pg.RawBlock(0x00000BAD, b"\x00\x00\x7e\x6e" + b"custom.."))
    path = pg.write_pcapng(tmp_path / "multi.pcapng", layout)
    flows = analyze_list(path)
    assert_matches(flows, expected_records(events, frames))


def test_pcapng_simple_packet_blocks(tmp_path: Path) -> None:
    """SPBs belong to interface 0 and carry no timestamp; their wire length counts."""
    pkt = pg.ipv4("10.0.0.1", "10.0.0.2", 17, pg.udp(5000, 6000, b"x" * 100))
    reply = pg.ipv4("10.0.0.2", "10.0.0.1", 17, pg.udp(6000, 5000, b"y" * 3))
    sec = pg.Section(
        [pg.Interface(pg.LINKTYPE_ETHERNET)],
        [pg.SPB(pg.Frame(0, pg.ether_for(pkt))), pg.SPB(pg.Frame(0, pg.ether_for(reply)))],
    )
    (flow,) = analyze_list(pg.write_pcapng(tmp_path / "spb.pcapng", [sec]))
    assert (flow.src_ip, flow.src_port, flow.dst_port) == ("10.0.0.1", 5000, 6000)
    assert flow.src2dst_bytes == 14 + 20 + 8 + 100
    assert flow.dst2src_bytes == 14 + 20 + 8 + 3
    assert flow.bidirectional_first_seen_ms == 0


def test_pcapng_spb_snaplen_cut(tmp_path: Path) -> None:
    pkt = pg.ipv4("10.0.0.1", "10.0.0.2", 17, pg.udp(5000, 6000, b"x" * 500))
    sec = pg.Section(
        [pg.Interface(pg.LINKTYPE_ETHERNET, snaplen=64)], [pg.SPB(pg.Frame(0, pg.ether_for(pkt)))]
    )
    path = pg.write_pcapng(tmp_path / "spbcut.pcapng", [sec])
    engine = netsonde.Engine()
    flows = engine.process(path) + engine.flush()
    assert len(flows) == 1
    assert flows[0].bidirectional_bytes == 14 + 20 + 8 + 500
    assert engine.stats["truncated_frames"] == 1


@pytest.mark.parametrize("fmt", ["pcap", "pcapng"])
def test_snaplen_cut_counts_wire_length(tmp_path: Path, fmt: str) -> None:
    """Frames cut by the snap length still count their original (wire) length, and a cut
    inside the payload still decodes the headers."""
    events = reference_events()
    big = pg.ipv4(
        "10.0.0.1", "10.0.0.2", 6, pg.tcp(40000, 80, flags="PA", seq=1019, ack=5001, payload=b"B" * 1400)
    )
    events.append(Event(events[-1].ts_ns + 1_000_000, "http", True, big))
    frames = frames_of(events)
    snaplen = 68
    if fmt == "pcap":
        path = pg.write_pcap(tmp_path / "cut.pcap", frames, snaplen=snaplen)
    else:
        sec = pg.Section(
            [pg.Interface(pg.LINKTYPE_ETHERNET, snaplen=snaplen)], [pg.EPB(0, f) for f in frames]
        )
        path = pg.write_pcapng(tmp_path / "cut.pcapng", [sec])
    engine = netsonde.Engine()
    flows = engine.process(path) + engine.flush()
    assert_matches(flows, expected_records(events, frames))
    assert engine.stats["truncated_frames"] == sum(1 for f in frames if len(f.data) > snaplen)
    assert engine.stats["malformed"] == 0
    assert engine.stats["bytes"] == sum(f.orig_len for f in frames)


def test_several_files_read_as_one_capture(
    tmp_path: Path, reference: tuple[list[Event], list[pg.Frame]]
) -> None:
    events, frames = reference
    half = len(frames) // 2
    one = pg.write_pcap(tmp_path / "one.pcap", frames[:half])
    sec = pg.Section(
        [pg.Interface(pg.LINKTYPE_ETHERNET, tsresol=9)],
        [pg.EPB(0, f) for f in frames[half:]],
        big_endian=True,
    )
    two = pg.write_pcapng(tmp_path / "two.pcapng", [sec])
    flows = analyze_list([one, two])
    assert_matches(flows, expected_records(events, frames))
    assert sorted(f.id for f in flows) == list(range(len(flows)))


def test_header_only_capture_has_no_flows(tmp_path: Path) -> None:
    assert analyze_list(pg.write_pcap(tmp_path / "empty.pcap", [])) == []
    assert analyze_list(pg.write_pcapng(tmp_path / "empty.pcapng", [pg.Section([pg.Interface()])])) == []


def _truncated(tmp_path: Path, fmt: str, frames: list[pg.Frame], cut: int) -> Path:
    if fmt == "pcap":
        raw = pg.pcap_bytes(frames)
    else:
        raw = pg.pcapng_bytes([pg.Section([pg.Interface()], [pg.EPB(0, f) for f in frames])])
    path = tmp_path / f"cut.{fmt}"
    path.write_bytes(raw[:-cut])
    return path


@pytest.mark.parametrize("fmt", ["pcap", "pcapng"])
@pytest.mark.parametrize("cut", [1, 10, 30])
def test_truncated_capture_keeps_flows_before_the_damage(
    tmp_path: Path, fmt: str, cut: int, reference: tuple[list[Event], list[pg.Frame]]
) -> None:
    events, frames = reference
    # The last frame is a lone packet of its own flow, so losing it loses exactly that flow.
    lone = pg.ipv4("172.16.0.1", "172.16.0.2", 17, pg.udp(1111, 2222, b"z" * 40))
    last = pg.Frame(events[-1].ts_ns + 1_000_000, pg.ether_for(lone))
    path = _truncated(tmp_path, fmt, [*frames, last], cut)
    with pytest.warns(netsonde.TruncatedCaptureWarning, match="truncat"):
        flows = analyze_list(path)
    assert_matches(flows, expected_records(events, frames))


def test_truncated_capture_through_engine_process(
    tmp_path: Path, reference: tuple[list[Event], list[pg.Frame]]
) -> None:
    events, frames = reference
    path = _truncated(tmp_path, "pcap", [*frames, frames[-1]], 5)
    engine = netsonde.Engine()
    with pytest.warns(netsonde.TruncatedCaptureWarning):
        flows = engine.process(path)
    flows += engine.flush()
    assert_matches(flows, expected_records(events, frames))


def test_truncated_file_header(tmp_path: Path) -> None:
    """A pcap whose 24-byte file header is itself cut: a capture, damaged before any packet."""
    path = tmp_path / "hdr.pcap"
    path.write_bytes(pg.pcap_bytes([])[:10])
    with pytest.raises(netsonde.CaptureFormatError):
        netsonde.analyze(path)


def test_not_a_capture(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("this is not a capture\n" * 10)
    with pytest.raises(netsonde.CaptureFormatError):
        netsonde.analyze(path)


def test_pcap_modified_magic(tmp_path: Path, reference: tuple[list[Event], list[pg.Frame]]) -> None:
    """Kuznetzov's patched libpcap: magic a1b2cd34 and 24-byte record headers."""
    events, frames = reference
    path = pg.write_pcap(tmp_path / "mod.pcap", frames, modified=True)
    assert_matches(analyze_list(path), expected_records(events, frames))


@pytest.mark.parametrize(
    ("field", "fcs"),
    [
        (0x24000001, 4),  # FCS length present (bit 26) = 2 x 16 bits, Ethernet
        (0x14000001, 2),  # FCS length present = 1 x 16 bits
        (0x00010001, 0),  # a reserved bit set: readers must ignore it
    ],
    ids=["fcs-32", "fcs-16", "reserved-bit"],
)
def test_pcap_linktype_field_upper_bits(tmp_path: Path, field: int, fcs: int) -> None:
    """The pcap LinkType field carries the link type in its lower 16 bits only; the upper
    bits say how long the frames' FCS is (draft-ietf-opsawg-pcap, libpcap LT_LINKTYPE)."""
    events = reference_events()
    frames = [pg.Frame(f.ts_ns, f.data + b"\xa5" * fcs) for f in frames_of(events)]
    path = pg.write_pcap(tmp_path / "fcs.pcap", frames, linktype=field)
    engine = netsonde.Engine()
    flows = engine.process(path) + engine.flush()
    assert engine.stats["unsupported_link"] == 0
    assert_matches(flows, expected_records(events, frames))


def test_pcapng_obsolete_packet_block_and_epb_options(tmp_path: Path) -> None:
    events = reference_events()
    frames = frames_of(events)
    blocks: list[pg.EPB | pg.PB | pg.SPB | pg.RawBlock] = []
    for i, f in enumerate(frames):
        blocks.append(pg.PB(0, f) if i % 2 else pg.EPB(0, f, flags=0x00000001 | (i << 5)))
    path = pg.write_pcapng(tmp_path / "pb.pcapng", [pg.Section([pg.Interface(tsresol=9)], blocks)])
    assert_matches(analyze_list(path), expected_records(events, frames))


def test_pcapng_packet_of_an_undescribed_interface_is_counted(tmp_path: Path) -> None:
    pkt = pg.ether_for(pg.ipv4("10.0.0.1", "10.0.0.2", 17, pg.udp(5000, 6000)))
    # The EPB names interface 3 while the section describes only interface 0.
    raw = pg.pcapng_bytes([pg.Section([pg.Interface()], [pg.EPB(0, pg.Frame(pg.ns(1), pkt))])])
    epb_at = raw.rindex(b"\x06\x00\x00\x00")
    raw = raw[: epb_at + 8] + b"\x03\x00\x00\x00" + raw[epb_at + 12 :]
    path = tmp_path / "undescribed.pcapng"
    path.write_bytes(raw)
    engine = netsonde.Engine()
    assert engine.process(path) + engine.flush() == []
    assert engine.stats["frames"] == 1
    assert engine.stats["unsupported_link"] == 1


def test_corrupt_record_length_warns_and_keeps_earlier_flows(
    tmp_path: Path, reference: tuple[list[Event], list[pg.Frame]]
) -> None:
    events, frames = reference
    raw = bytearray(pg.pcap_bytes([*frames, frames[-1], frames[-1]]))
    at = 24 + sum(16 + len(f.data) for f in frames)  # the first record after the reference
    raw[at + 8 : at + 12] = (0xFFFFFFF0).to_bytes(4, "little")
    path = tmp_path / "corrupt.pcap"
    path.write_bytes(bytes(raw))
    with pytest.warns(netsonde.TruncatedCaptureWarning, match="damaged"):
        flows = analyze_list(path)
    assert_matches(flows, expected_records(events, frames))


def test_pcapng_bad_block_length_warns(tmp_path: Path, reference: tuple[list[Event], list[pg.Frame]]) -> None:
    events, frames = reference
    good = pg.pcapng_bytes([pg.Section([pg.Interface()], [pg.EPB(0, f) for f in frames])])
    bad_block = (6).to_bytes(4, "little") + (13).to_bytes(4, "little") + b"\x00" * 32
    path = tmp_path / "badblock.pcapng"
    path.write_bytes(good + bad_block)
    with pytest.warns(netsonde.TruncatedCaptureWarning):
        flows = analyze_list(path)
    assert_matches(flows, expected_records(events, frames))


def test_pcapng_cut_inside_second_section(
    tmp_path: Path, reference: tuple[list[Event], list[pg.Frame]]
) -> None:
    events, frames = reference
    raw = pg.pcapng_bytes(
        [
            pg.Section([pg.Interface()], [pg.EPB(0, f) for f in frames]),
            pg.Section(
                [pg.Interface(pg.LINKTYPE_RAW)],
                [pg.EPB(0, pg.Frame(frames[-1].ts_ns, b"\x45" * 40))],
                big_endian=True,
            ),
        ]
    )
    first_len = len(pg.pcapng_bytes([pg.Section([pg.Interface()], [pg.EPB(0, f) for f in frames])]))
    path = tmp_path / "cut2.pcapng"
    path.write_bytes(raw[: first_len + 20])  # inside the second section's header block
    with pytest.warns(netsonde.TruncatedCaptureWarning):
        flows = analyze_list(path)
    assert_matches(flows, expected_records(events, frames))


def test_empty_file_is_not_a_capture(tmp_path: Path) -> None:
    path = tmp_path / "empty.pcap"
    path.write_bytes(b"")
    with pytest.raises(netsonde.CaptureFormatError):
        netsonde.analyze(path)


def test_truncated_second_file_of_a_list(
    tmp_path: Path, reference: tuple[list[Event], list[pg.Frame]]
) -> None:
    events, frames = reference
    one = pg.write_pcap(tmp_path / "one.pcap", frames[:5])
    two = tmp_path / "two.pcap"
    two.write_bytes(pg.pcap_bytes([*frames[5:], frames[-1]])[:-4])
    with pytest.warns(netsonde.TruncatedCaptureWarning, match="two.pcap"):
        flows = analyze_list([one, two])
    assert_matches(flows, expected_records(events, frames))
