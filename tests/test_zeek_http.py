"""HTTP transactions against Zeek's http.log of the same traces (the shared corpus): on
connections that carry several requests (keep-alive, pipelining) and through tunnels, each
request is an `http.request` event with Zeek's method, URI and host. Skipped cleanly when the
corpus is not present."""

from __future__ import annotations

from collections import defaultdict
from urllib.parse import unquote

import netsonde
import pytest
from zeekcorpus import ZEEK, Conn, flow_conn, flows_by_conn, trace_path, zeek_conn, zeek_logs

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


def _zeek_requests(trace: str) -> dict[Conn, list[Request]]:
    requests: dict[Conn, list[Request]] = defaultdict(list)
    for r in zeek_logs(trace)["http"]:
        if r.get("method"):
            requests[zeek_conn(r)].append((r["method"], r["uri"], r.get("host") or ""))
    return requests


def _request_events(trace: str) -> dict[Conn, list[dict[str, object]]]:
    """The attributes of each `http.request` event, by connection, in order."""
    engine = netsonde.Engine()
    events: list[netsonde.Event] = []
    engine.on("http.request", events.append)
    flows = {f.id: f for f in engine.process(str(trace_path(trace))) + engine.flush()}
    by_conn: dict[Conn, list[dict[str, object]]] = defaultdict(list)
    for e in events:
        by_conn[flow_conn(flows[e.flow_id])].append(dict(e.attributes))
    return by_conn


@pytest.mark.parametrize("trace", SEVERAL_REQUESTS)
def test_each_request_of_a_connection_is_an_event_as_zeek_logs_it(trace: str) -> None:
    zeek = _zeek_requests(trace)
    ours: dict[Conn, list[Request]] = defaultdict(list)
    for conn, events in _request_events(trace).items():
        for a in events:
            # netsonde keeps the URI as sent; Zeek logs it with %XX escapes decoded.
            request = (str(a["http.method"]), unquote(str(a["http.uri"])), str(a.get("http.host", "")))
            ours[conn].append(request)
    # Each connection Zeek logs requests for, as Zeek logs them. (netsonde may see more: in
    # wikipedia.pcap Zeek leaves out a connection caught after its handshake.)
    for conn, requests in zeek.items():
        assert ours.get(conn) == requests, conn


# Requests of HTTP/0.9 (a request line alone, answered by the body alone), with extension
# methods (`CCM_POST`) and damaged request lines that the server still answers with a
# status line (`GET/ HTTP/1.1`, `OPTIONS` alone, a method in UTF-8).
UNUSUAL_REQUESTS = ["http__http_09.pcap", "http__methods.pcap", "mixed-vlan-mpls.pcap"]


@pytest.mark.parametrize("trace", UNUSUAL_REQUESTS)
def test_unusual_requests_are_http_with_zeeks_method_target_and_host(trace: str) -> None:
    flows = flows_by_conn(trace)
    first: dict[Conn, dict[str, object]] = {}
    for r in zeek_logs(trace)["http"]:
        first.setdefault(zeek_conn(r), r)
    assert first
    for conn, r in first.items():
        flow = flows.get(conn)
        assert flow is not None, conn
        # HTTP, or the HTTP_Connect of a CONNECT request (refused here, but asked for).
        assert flow.application_name.split(".")[0] in ("HTTP", "HTTP_Connect"), conn
        meta = flow.metadata
        if r.get("method"):
            assert meta.get("http.method") == r["method"], conn
            # Zeek logs no target for a request line without one (`OPTIONS HTTP/1.1`).
            if r.get("uri"):
                assert meta.get("http.uri") == r["uri"], conn
        if r.get("host"):
            assert meta.get("http.host") == r["host"], conn
        if r.get("status_code"):
            assert meta.get("http.status_code") == r["status_code"], conn


@pytest.mark.parametrize("trace", UNUSUAL_REQUESTS)
def test_each_answered_unusual_request_is_one_event_with_zeeks_method_and_target(trace: str) -> None:
    """The damaged requests too: one `http.request` event for each transaction Zeek logs
    with an answer, naming a method and a target only where Zeek reads one."""
    answered: dict[Conn, list[dict[str, object]]] = defaultdict(list)
    for r in zeek_logs(trace)["http"]:
        if r.get("status_code") is not None:
            answered[zeek_conn(r)].append(r)
    assert answered
    ours = _request_events(trace)
    for conn, zeek in answered.items():
        events = ours.get(conn, [])
        assert len(events) == len(zeek), conn
        for event, r in zip(events, zeek, strict=True):
            assert event.get("http.method") == r.get("method"), conn
            # Zeek logs an empty target for a request line without one (`OPTIONS HTTP/1.1`).
            assert event.get("http.uri") == (r.get("uri") or None), conn
