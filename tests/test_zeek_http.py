"""HTTP transactions against Zeek's http.log of the same traces (the shared corpus): on
connections that carry several requests (keep-alive, pipelining) and through tunnels, each
request is an `http.request` event with Zeek's method, URI and host. Skipped cleanly when the
corpus is not present."""

from __future__ import annotations

from collections import defaultdict
from urllib.parse import unquote

import netsonde
import pytest
from zeekcorpus import ZEEK, Conn, flow_conn, zeek_conn, zeek_logs

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
        ours[flow_conn(f)].append(request)
    # Each connection Zeek logs requests for, as Zeek logs them. (netsonde may see more: in
    # wikipedia.pcap Zeek leaves out a connection caught after its handshake.)
    for conn, requests in zeek.items():
        assert ours.get(conn) == requests, conn
