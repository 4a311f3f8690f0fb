"""SSH against Zeek's ssh.log of the same traces (the shared corpus): every connection Zeek
logs is SSH here, with the client's and the server's identification strings as Zeek read
them, a server that sends lines of text before its own (RFC 4253 section 4.2) included.
Skipped cleanly when the corpus is not present."""

from __future__ import annotations

import pytest
from zeekcorpus import ZEEK, flows_by_conn, zeek_conn, zeek_logs

TRACES = [
    "ssh__server-pre-banner-data.pcap",
    "ssh__ssh.client-side-half-duplex.pcap",
    "ssh__ssh_kex_curve25519.pcap",
    "ssh__ssh_kex_mlkem.pcap",
    # Over GRE.
    "tunnels__gre-sample.pcap",
]

pytestmark = pytest.mark.skipif(not ZEEK.is_dir(), reason=f"no Zeek corpus at {ZEEK}")


@pytest.mark.parametrize("trace", TRACES)
def test_each_connection_is_ssh_with_zeeks_banners(trace: str) -> None:
    flows = flows_by_conn(trace)
    records = zeek_logs(trace)["ssh"]
    assert records
    for r in records:
        conn = zeek_conn(r)
        flow = flows.get(conn)
        assert flow is not None, conn
        assert flow.application_name == "SSH", conn
        for field, attr in (("client", "ssh.client_banner"), ("server", "ssh.server_banner")):
            if r.get(field):
                assert flow.metadata.get(attr) == r[field], (conn, field)
