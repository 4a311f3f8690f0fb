"""FTP against Zeek's conn.log of the same traces (the shared corpus): every connection Zeek
gives the service ftp is FTP_CONTROL here, and every one it gives ftp-data is FTP_DATA, file
transfers included (tied to the PASV, EPSV, PORT or EPRT that announced them). Skipped
cleanly when the corpus is not present."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import netsonde
import pytest

ZEEK = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "zeek"
TRACES = ["ftp__ipv4.pcap", "ftp__ipv6.pcap", "ftp__bigtransfer.pcap"]

pytestmark = pytest.mark.skipif(not ZEEK.is_dir(), reason=f"no Zeek corpus at {ZEEK}")

Conn = tuple[str, int, str, int]


def _conn(src: str, sport: int, dst: str, dport: int) -> Conn:
    """Addresses in one spelling (Zeek writes IPv6 as RFC 5952 does, netsonde as nDPI does)."""
    return (str(ipaddress.ip_address(src)), sport, str(ipaddress.ip_address(dst)), dport)


@pytest.mark.parametrize("trace", TRACES)
def test_control_and_data_connections_are_named_as_zeek_names_them(trace: str) -> None:
    path = ZEEK / "pcap" / trace
    if not path.is_file():
        pytest.skip(f"no {path}")
    expected = json.loads((ZEEK / "expected" / f"{trace}.json").read_text())
    conns = next(t["logs"]["conn"]["records"] for t in expected["tests"] if "conn" in t["logs"])
    names = {
        _conn(f.src_ip, f.src_port, f.dst_ip, f.dst_port): f.application_name for f in netsonde.analyze(path)
    }
    want = {"ftp": "FTP_CONTROL", "ftp-data": "FTP_DATA"}
    checked = 0
    for r in conns:
        if r.get("service") in want:
            conn = _conn(r["id.orig_h"], r["id.orig_p"], r["id.resp_h"], r["id.resp_p"])
            assert names.get(conn) == want[r["service"]], conn
            checked += 1
    assert checked >= 3
