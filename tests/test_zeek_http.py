"""HTTP transactions against Zeek's http.log of the same traces (the shared corpus): on
connections that carry several requests (keep-alive, pipelining) and through tunnels, each
request is an `http.request` event with Zeek's method, URI and host. Skipped cleanly when the
corpus is not present."""

from __future__ import annotations

import ipaddress
import json
from collections import defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import netsonde
import pytest

ZEEK = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "zeek"
# Traces whose connections carry more than one request, then tunnelled ones.
SEVERAL_REQUESTS = [
    "http__pipelined-requests.pcap",
    "http__no_crlf.pcap",
    "http__version-mismatch.pcap",
    "http__http-desync-request-response-5.pcap",
    "wikipedia.pcap",
    # HTTP over IPv6 through Teredo, between the client and a relay off port 3544.
    "tunnels__Teredo.pcap",
    "tunnels__teredo_bubble_with_payload.pcap",
    # IPv6 through AYIYA, and IPv4 through GRE over UDP (RFC 8086).
    "tunnels__ayiya3.pcap",
    "tunnels__gre-over-udp-4754.pcap",
]

pytestmark = pytest.mark.skipif(not ZEEK.is_dir(), reason=f"no Zeek corpus at {ZEEK}")

Request = tuple[str, str, str]
Conn = tuple[str, int, str, int]


def _conn(src: str, sport: int, dst: str, dport: int) -> Conn:
    """Addresses in one spelling (Zeek writes IPv6 as RFC 5952 does, netsonde as nDPI does)."""
    return (str(ipaddress.ip_address(src)), sport, str(ipaddress.ip_address(dst)), dport)


def _zeek_requests(trace: str) -> dict[Conn, list[Request]]:
    expected = json.loads((ZEEK / "expected" / f"{trace}.json").read_text())
    records: list[dict[str, Any]] = next(
        t["logs"]["http"]["records"] for t in expected["tests"] if "http" in t["logs"]
    )
    requests: dict[Conn, list[Request]] = defaultdict(list)
    for r in records:
        if r.get("method"):
            conn = _conn(r["id.orig_h"], r["id.orig_p"], r["id.resp_h"], r["id.resp_p"])
            requests[conn].append((r["method"], r["uri"], r.get("host") or ""))
    return requests


@pytest.mark.parametrize("trace", SEVERAL_REQUESTS)
def test_each_request_of_a_connection_is_an_event_as_zeek_logs_it(trace: str) -> None:
    path = ZEEK / "pcap" / trace
    if not path.is_file():
        pytest.skip(f"no {path}")
    zeek = _zeek_requests(trace)
    engine = netsonde.Engine()
    events: list[netsonde.Event] = []
    engine.on("http.request", events.append)
    flows = {f.id: f for f in engine.process(str(path)) + engine.flush()}
    ours: dict[Conn, list[Request]] = defaultdict(list)
    for e in events:
        f = flows[e.flow_id]
        a = e.attributes
        # netsonde keeps the URI as sent; Zeek logs it with %XX escapes decoded.
        request = (str(a["http.method"]), unquote(str(a["http.uri"])), str(a.get("http.host", "")))
        ours[_conn(f.src_ip, f.src_port, f.dst_ip, f.dst_port)].append(request)
    # Each connection Zeek logs requests for, as Zeek logs them. (netsonde may see more: in
    # wikipedia.pcap Zeek leaves out a connection caught after its handshake.)
    for conn, requests in zeek.items():
        assert ours.get(conn) == requests, conn
