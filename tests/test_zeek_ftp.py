"""FTP against Zeek's conn.log of the same traces (the shared corpus): every connection Zeek
gives the service ftp is FTP_CONTROL here, and every one it gives ftp-data is FTP_DATA, file
transfers included (tied to the PASV, EPSV, PORT or EPRT that announced them). Skipped
cleanly when the corpus is not present."""

from __future__ import annotations

import netsonde
import pytest
from zeekcorpus import ZEEK, flow_conn, trace_path, zeek_conn, zeek_logs

TRACES = ["ftp__ipv4.pcap", "ftp__ipv6.pcap", "ftp__bigtransfer.pcap"]

pytestmark = pytest.mark.skipif(not ZEEK.is_dir(), reason=f"no Zeek corpus at {ZEEK}")


@pytest.mark.parametrize("trace", TRACES)
def test_control_and_data_connections_are_named_as_zeek_names_them(trace: str) -> None:
    path = trace_path(trace)
    conns = zeek_logs(trace)["conn"]
    names = {flow_conn(f): f.application_name for f in netsonde.analyze(path)}
    want = {"ftp": "FTP_CONTROL", "ftp-data": "FTP_DATA"}
    checked = 0
    for r in conns:
        if r.get("service") in want:
            conn = zeek_conn(r)
            assert names.get(conn) == want[r["service"]], conn
            checked += 1
    assert checked >= 3
