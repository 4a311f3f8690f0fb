"""RDP against Zeek's logs of the same traces (the shared corpus): every connection in
rdp.log is RDP here with the same cookie, and RDP over UDP (MS-RDPEUDP, conn.log service
`rdpeudp`) is RDP as well, from the client's SYN alone when the server never answers.
Skipped cleanly when the corpus is not present."""

from __future__ import annotations

import pytest
from zeekcorpus import ZEEK, flows_by_conn, zeek_conn, zeek_logs

TCP_TRACES = [
    "rdp__rdp-proprietary-encryption.pcap",
    "rdp__rdp-unknown-keyboard.pcap",
    "rdp__rdp-x509.pcap",
    "rdp__rdp-no-cookie-mstshash.pcap",
]
UDP_TRACES = ["rdp__rdpeudp-handshake-success.pcap", "rdp__rdpeudp-handshake-fail.pcap"]

pytestmark = pytest.mark.skipif(not ZEEK.is_dir(), reason=f"no Zeek corpus at {ZEEK}")


@pytest.mark.parametrize("trace", TCP_TRACES)
def test_each_rdp_connection_has_zeeks_cookie(trace: str) -> None:
    flows = flows_by_conn(trace)
    records = zeek_logs(trace)["rdp"]
    assert records
    for r in records:
        flow = flows.get(zeek_conn(r))
        assert flow is not None
        assert flow.application_name == "RDP"
        if r.get("cookie"):
            # Zeek escapes backslashes in its logs and keeps the padding netsonde trims.
            assert flow.metadata.get("rdp.cookie") == r["cookie"].replace("\\\\", "\\").strip()


@pytest.mark.parametrize("trace", UDP_TRACES)
def test_rdp_over_udp_is_rdp(trace: str) -> None:
    flows = flows_by_conn(trace)
    conns = [r for r in zeek_logs(trace)["conn"] if r.get("proto") == "udp"]
    assert conns
    for r in conns:
        flow = flows.get(zeek_conn(r))
        assert flow is not None
        assert flow.application_name == "RDP"
        assert flow.metadata.get("rdp.udp_mtu") == 1232
