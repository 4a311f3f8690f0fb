"""Live capture on the loopback interface, with real servers and clients talking over it:
``netsonde.live()``, ``Engine.capture()`` with callbacks, and ``netsonde analyze -i``.

Needs Linux and root or CAP_NET_RAW; skipped otherwise.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterable, Iterator
from pathlib import Path

import netsonde
import pcapgen as pg
import pytest


def _can_capture() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        socket.socket(socket.AF_PACKET, socket.SOCK_RAW).close()
    except (PermissionError, OSError):
        return False
    return True


pytestmark = pytest.mark.skipif(not _can_capture(), reason="live capture needs Linux and CAP_NET_RAW")


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"live"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def http_server() -> Iterator[int]:
    """A real HTTP server on the loopback; yields its port."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def _get(port: int, path: str = "/live", *, after: float = 0.3) -> threading.Thread:
    """Fetches a page from the server, in a thread, once the capture has started."""

    def fetch() -> None:
        time.sleep(after)
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}{path}", headers={"User-Agent": "netsonde-live/1.0"}
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.read() == b"live"

    thread = threading.Thread(target=fetch)
    thread.start()
    return thread


def _ours(flows: list[netsonde.Flow], port: int) -> list[netsonde.Flow]:
    return [f for f in flows if f.dst_port == port and f.protocol == 6]


def test_live_yields_the_http_exchange_with_its_metadata_and_the_kernel_counts(http_server: int) -> None:
    client = _get(http_server)
    run = netsonde.live("lo", duration=1.5)
    flows = list(run)
    client.join()
    [flow] = _ours(flows, http_server)
    assert flow.application_name == "HTTP"
    assert flow.src_ip == flow.dst_ip == "127.0.0.1"
    assert flow.user_agent == "netsonde-live/1.0"
    assert flow.metadata["http.url"].endswith("/live")
    assert flow.metadata["http.status_code"] == 200
    assert flow.src2dst_packets >= 3 and flow.dst2src_packets >= 3
    assert abs(flow.bidirectional_first_seen_ms / 1000 - time.time()) < 60
    stats = run.stats
    assert stats["capture_received"] == stats["frames"] >= flow.bidirectional_packets
    assert stats["capture_dropped"] == 0


def test_engine_capture_delivers_events_and_flows_to_callbacks_as_they_happen(http_server: int) -> None:
    engine = netsonde.Engine(idle_timeout=0.5)
    requests: list[tuple[float, netsonde.Event]] = []
    ended: list[tuple[float, netsonde.Flow]] = []
    engine.on("http.request", lambda e: requests.append((time.monotonic(), e)))
    engine.on("flow.end", lambda f: ended.append((time.monotonic(), f)))
    start = time.monotonic()
    client = _get(http_server, "/first")
    read = engine.capture("lo", duration=3.0)
    end = time.monotonic()
    client.join()
    assert read == engine.stats["frames"] > 0
    assert [e for _, e in requests if e.attributes["http.uri"] == "/first"]
    ours = [(t, f) for t, f in ended if f.dst_port == http_server]
    assert len(ours) == 1
    when, flow = ours[0]
    # The connection closed at about 0.3 s; it ended long before the capture did, though no
    # packet came after it to move the clock.
    assert flow.application_name == "HTTP"
    assert when - start < 2.0 < end - start
    assert all(f.dst_port != http_server for f in engine.flush())


def test_packet_count_stops_the_capture() -> None:
    stop = threading.Event()
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def send() -> None:
        while not stop.is_set():
            sender.sendto(b"count me", receiver.getsockname())
            time.sleep(0.01)

    thread = threading.Thread(target=send)
    thread.start()
    try:
        engine = netsonde.Engine()
        assert engine.capture("lo", packet_count=7, duration=10) == 7
        assert engine.stats["frames"] == 7
    finally:
        stop.set()
        thread.join()
        sender.close()
        receiver.close()


def test_errors_are_raised_at_the_call() -> None:
    with pytest.raises(OSError, match="netsonde-none0: no such network interface"):
        netsonde.live("netsonde-none0")
    with pytest.raises(ValueError, match="duration"):
        netsonde.live("lo", duration=0)
    with pytest.raises(ValueError, match="packet_count"):
        netsonde.Engine().capture("lo", packet_count=0)
    with pytest.raises(ValueError, match="buffer_size"):
        netsonde.live("lo", buffer_size=1000)
    with pytest.raises(TypeError, match="interface"):
        netsonde.live(b"lo")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="unknown option"):
        netsonde.live("lo", idle=3)


def _restore_sigint() -> None:
    # A child started from a test inherits whatever SIGINT disposition the runner has; a
    # person's Ctrl-C reaches a command whose handler is Python's default.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "netsonde", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_restore_sigint,
    )


def test_cli_writes_each_flow_as_it_ends(http_server: int) -> None:
    # --duration: should the flow never come, the capture ends and the test fails, not hangs.
    proc = _cli("analyze", "-i", "lo", "--idle-timeout", "0.5", "-f", "jsonl", "-q", "--duration", "20")
    try:
        _get(http_server, after=0.5).join()
        assert proc.stdout is not None
        # The line comes while the capture still runs: the flow ended on its idle timeout.
        line = proc.stdout.readline()
        record = json.loads(line)
        while record["dst_port"] != http_server:
            record = json.loads(proc.stdout.readline())
        assert proc.poll() is None
        assert record["application_name"] == "HTTP"
        assert record["expiration"] in ("idle", "end")
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert err == ""


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_cli_ctrl_c_or_sigterm_ends_the_capture_with_every_flow_written(http_server: int, stop: int) -> None:
    proc = _cli("analyze", "-i", "lo", "-f", "csv", "--stats")
    _get(http_server, after=0.5).join()
    time.sleep(0.3)
    proc.send_signal(stop)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    lines = out.splitlines()
    header = lines[0].split(",")
    rows = [dict(zip(header, line.split(","), strict=False)) for line in lines[1:]]
    ours = [r for r in rows if r["dst_port"] == str(http_server)]
    assert len(ours) == 1
    assert ours[0]["application_name"] == "HTTP"
    assert ours[0]["expiration"] == "end_of_input"
    assert "frames received by the kernel, 0 dropped" in err


def test_cli_table_summary_after_a_duration(http_server: int) -> None:
    proc = _cli("analyze", "-i", "lo", "--duration", "1.5", "-f", "table")
    _get(http_server).join()
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert any(line.startswith("HTTP ") for line in out.splitlines())
    assert "capturing on lo" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-i", "lo", "x.pcap"], "not both"),
        (["-i", "lo", "-f", "parquet", "-o", os.devnull], "Parquet is for capture files"),
        (["x.pcap", "--count", "3"], "--count applies to live capture"),
        ([], "-i INTERFACE to capture live"),
    ],
)
def test_cli_usage_errors(args: list[str], message: str) -> None:
    proc = _cli("analyze", *args)
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 2
    assert message in err and err.count("\n") == 1


def test_cli_missing_interface() -> None:
    proc = _cli("analyze", "-i", "netsonde-none0")
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 1
    assert err == "netsonde: error: netsonde-none0: no such network interface\n"


# --------------------------------------------------------------------------- replayed captures

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "ndpi" / "pcap"


def _ethernet_frames(path: Path) -> list[bytes] | None:
    """The frames of a classic pcap capture of Ethernet, if each was captured whole and fits
    the loopback; else None."""
    try:
        _, linktype, records = pg.read_pcap(path.read_bytes())
    except ValueError:
        return None
    if linktype != 1 or not all(r.caplen == r.orig_len and 14 <= r.caplen <= 16_000 for r in records):
        return None
    return [r.data for r in records]


def _replayable() -> list[tuple[Path, list[bytes]]]:
    chosen = []
    for path in sorted(CORPUS.glob("*.pcap")) if CORPUS.is_dir() else []:
        frames = _ethernet_frames(path)
        if frames and len(frames) <= 2000:
            chosen.append((path, frames))
    return chosen[::3]


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no corpus at {CORPUS}")
@pytest.mark.parametrize(("link", "workers"), [("lo", 1), ("lo", 2), ("veth", 2)])
def test_captures_replayed_live_give_the_records_of_their_files(
    link: str, workers: int, request: pytest.FixtureRequest
) -> None:
    """Frames of real captures sent through a packet socket onto the loopback, or into a
    veth pair, and captured live, on one thread or on two the kernel spreads them over by
    flow, give the flows, counts and applications that reading the files gives. Time is not
    replayed, so neither run may split flows on a timeout. (On the loopback each frame shows
    twice, sent and received, and a fanout that ignored flows could still give each worker
    whole flows: the veth pair, where frames arrive once, shows that it does not.)"""
    send_on, capture_on = ("lo", "lo") if link == "lo" else request.getfixturevalue("veth")
    timeouts = {"idle_timeout": 10**7, "active_timeout": 10**7}
    chosen = _replayable()
    assert len(chosen) >= 10
    sender = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    sender.bind((send_on, 0))
    mismatches: dict[str, object] = {}
    compared = raced = 0
    for path, frames in chosen:
        if any(_local(f.src_ip) or _local(f.dst_ip) for f in netsonde.analyze(path)):
            continue  # this host would answer frames sent to its own addresses
        expected = {_key(f): f for f in netsonde.analyze(path, **timeouts)}
        run = netsonde.live(
            capture_on,
            packet_count=len(frames),
            duration=10,
            buffer_size=8 << 20,
            workers=workers,
            **timeouts,
        )
        for frame in frames:
            sender.send(frame)
        flows = list(run)
        got = {_key(f): f for f in flows}
        assert len({f.id for f in flows}) == len(flows)
        assert run.stats["capture_dropped"] == 0
        compared += len(expected)
        differ = {}
        for k in expected.keys() | got.keys():
            want, have = _verdict(expected.get(k)), _verdict(got.get(k))
            if want == have:
                continue
            if workers > 1 and _raced(expected.get(k), got.get(k)):
                raced += 1
                continue
            differ[k] = (want, have)
        if differ:
            mismatches[path.name] = differ
    sender.close()
    assert not mismatches, mismatches
    assert compared >= 400
    assert raced <= compared // 100


def _verdict(flow: netsonde.Flow | None) -> tuple[str, int] | None:
    return None if flow is None else (flow.application_name, flow.bidirectional_packets)


def _raced(want: netsonde.Flow | None, have: netsonde.Flow | None) -> bool:
    """A verdict another flow gave through the shared caches (a DNS answer, a call's
    signalling) that the live capture's workers missed: the other flow's frames were at the
    other worker, a moment too late. Frames sent back to back race like this; a capture
    from a network, where a DNS answer comes milliseconds before the connection, rarely."""
    return (
        want is not None
        and have is not None
        and want.application_confidence == "DPI (cache)"
        and want.bidirectional_packets == have.bidirectional_packets
        and have.application_name == want.application_name.split(".")[0]
    )


def _local(address: str) -> bool:
    return address.startswith("127.") or address == "::1"


def _key(f: netsonde.Flow) -> tuple[object, ...]:
    return (f.src_ip, f.src_port, f.dst_ip, f.dst_port, f.protocol, f.vlan_id, f.tunnel_id)


# --------------------------------------------------------------------------- a veth pair


@pytest.fixture
def veth() -> Iterator[tuple[str, str]]:
    """A veth pair (frames sent into one end arrive at the other, as from a wire); skipped
    where interfaces cannot be made (no CAP_NET_ADMIN)."""
    if shutil.which("ip") is None:
        pytest.skip("no ip command to make a veth pair with")
    names = (f"nsv{os.getpid() % 10000}a", f"nsv{os.getpid() % 10000}b")
    made = subprocess.run(
        ["ip", "link", "add", names[0], "type", "veth", "peer", "name", names[1]], capture_output=True
    )
    if made.returncode != 0:
        pytest.skip(f"cannot make a veth pair: {made.stderr.decode().strip()}")
    try:
        for name in names:
            # No IPv6 chatter of the interfaces' own (router solicitations) among the test's
            # frames, and room for the largest frames of the captures replayed.
            with contextlib.suppress(OSError):  # no IPv6 in this kernel: no chatter either
                Path(f"/proc/sys/net/ipv6/conf/{name}/disable_ipv6").write_text("1\n")
            subprocess.run(["ip", "link", "set", name, "mtu", "16000", "up"], check=True)
        yield names
    finally:
        subprocess.run(["ip", "link", "del", names[0]], capture_output=True)


def _dns_query_frame(vlan: int | None) -> bytes:
    query = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03www\x07example\x03com\x00\x00\x01\x00\x01"
    packet = pg.ipv4("10.1.1.1", "10.1.1.2", 17, pg.udp(40000, 53, query))
    tag = b"" if vlan is None else struct.pack("!HH", 0x8100, vlan)
    return pg.mac("02:00:00:00:00:02") + pg.mac("02:00:00:00:00:01") + tag + b"\x08\x00" + packet


def _send(interface: str, frames: list[bytes]) -> None:
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as sender:
        sender.bind((interface, 0))
        for frame in frames:
            sender.send(frame)


def _ours_on_veth(flows: Iterable[netsonde.Flow]) -> list[netsonde.Flow]:
    """The test's flows, not the interfaces' own chatter (IPv6 router solicitations, ...)."""
    return [f for f in flows if f.src_ip == "10.1.1.1"]


def test_a_vlan_tag_the_kernel_takes_off_is_put_back(veth: tuple[str, str]) -> None:
    """Linux takes the 802.1Q tag off every frame it receives before a packet socket sees
    it; the capture puts it back from the ring's metadata, so the flow keeps its VLAN."""
    run = netsonde.live(veth[1], duration=1.0)
    tagged, untagged = _dns_query_frame(42), _dns_query_frame(None)
    _send(veth[0], [tagged, tagged, untagged])
    flows = sorted(_ours_on_veth(run), key=lambda f: f.vlan_id)
    assert [(f.vlan_id, f.application_name, f.bidirectional_packets) for f in flows] == [
        (0, "DNS", 1),
        (42, "DNS", 2),
    ]
    assert flows[1].bidirectional_bytes == 2 * len(tagged)
    assert flows[1].requested_server_name == "www.example.com"


def test_an_interface_going_away_gives_the_flows_read_then_the_error(veth: tuple[str, str]) -> None:
    run = netsonde.live(veth[1], duration=10)
    _send(veth[0], [_dns_query_frame(None)])
    threading.Timer(0.5, subprocess.run, [["ip", "link", "del", veth[0]]]).start()
    flows = []
    start = time.monotonic()
    with pytest.raises(OSError, match=f"{veth[1]}: capture stopped: "):
        for flow in run:
            flows.append(flow)
    assert time.monotonic() - start < 5
    assert [(f.application_name, f.bidirectional_packets) for f in _ours_on_veth(flows)] == [("DNS", 1)]


def test_cli_writes_the_flows_read_before_the_interface_went_away(veth: tuple[str, str]) -> None:
    proc = _cli("analyze", "-i", veth[1], "-f", "jsonl", "-q")
    time.sleep(0.5)
    _send(veth[0], [_dns_query_frame(7)])
    time.sleep(0.3)
    subprocess.run(["ip", "link", "del", veth[0]], check=True)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 1
    assert err.startswith(f"netsonde: error: {veth[1]}: capture stopped: ") and err.count("\n") == 1
    [record] = [r for r in map(json.loads, out.splitlines()) if r["src_ip"] == "10.1.1.1"]
    assert (record["vlan_id"], record["application_name"]) == (7, "DNS")
