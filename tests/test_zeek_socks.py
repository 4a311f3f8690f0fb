"""SOCKS against Zeek's socks.log of the same traces (the shared corpus): every connection
Zeek logs is SOCKS here with the same version, destination and user, and the protocol the
granted tunnel carries is inspected: the HTTP request or the TLS ClientHello inside names
the host the client asked the proxy for. Skipped cleanly when the corpus is not present."""

from __future__ import annotations

import pytest
from zeekcorpus import ZEEK, flows_by_conn, zeek_conn, zeek_logs

TRACES = ["socks.pcap", "socks-with-ssl.pcap", "socks-auth.pcap"]

pytestmark = pytest.mark.skipif(not ZEEK.is_dir(), reason=f"no Zeek corpus at {ZEEK}")


@pytest.mark.parametrize("trace", TRACES)
def test_each_socks_connection_agrees_with_zeek_and_its_tunnel_is_read(trace: str) -> None:
    # socks.pcap's last packets come after the connection closed: a flow of their own.
    flows = flows_by_conn(trace)
    records = zeek_logs(trace)["socks"]
    assert records
    for r in records:
        flow = flows.get(zeek_conn(r))
        assert flow is not None
        assert flow.application_name.split(".")[0] == "SOCKS"
        meta = flow.metadata
        assert meta.get("socks.version") == r["version"]
        host = r.get("request.name") or r.get("request.host")
        assert meta.get("socks.destination") == f"{host}:{r['request_p']}"
        if r.get("user"):
            assert meta.get("socks.user") == r["user"]
        # The tunnel's own protocol names the same host (socks-auth's SSH names none).
        inner = meta.get("http.host") or meta.get("tls.sni")
        if r.get("request.name"):
            assert inner == r["request.name"]
