"""What the tests against Zeek's logs share: where Zeek's corpus is, the logs its baselines
expect for a trace, and connections named in one spelling on both sides."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Any

import netsonde
import pytest

ZEEK = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "zeek"

Conn = tuple[str, int, str, int]


def trace_path(trace: str) -> Path:
    """A trace of the corpus; the test is skipped when it is not there."""
    path = ZEEK / "pcap" / trace
    if not path.is_file():
        pytest.skip(f"no {path}")
    return path


def flows_by_conn(trace: str) -> dict[Conn, netsonde.Flow]:
    """netsonde's flows of a trace by connection; the first one where a connection's late
    packets (retransmissions after it closed) make a second flow."""
    flows: dict[Conn, netsonde.Flow] = {}
    for f in netsonde.analyze(trace_path(trace)):
        flows.setdefault(flow_conn(f), f)
    return flows


def zeek_logs(trace: str) -> dict[str, list[dict[str, Any]]]:
    """Each log's records, from the first of the trace's tests that writes that log."""
    expected = json.loads((ZEEK / "expected" / f"{trace}.json").read_text())
    logs: dict[str, list[dict[str, Any]]] = {}
    for test in expected["tests"]:
        for name, log in test["logs"].items():
            logs.setdefault(name, log["records"])
    return logs


def _conn(src: str, sport: int, dst: str, dport: int) -> Conn:
    # Zeek writes IPv6 as RFC 5952 does, netsonde as nDPI does: compare them parsed.
    return (str(ipaddress.ip_address(src)), sport, str(ipaddress.ip_address(dst)), dport)


def zeek_conn(record: dict[str, Any]) -> Conn:
    """The connection of a Zeek log record, originator first."""
    return _conn(record["id.orig_h"], record["id.orig_p"], record["id.resp_h"], record["id.resp_p"])


def flow_conn(flow: netsonde.Flow) -> Conn:
    """The connection of a flow record, client first."""
    return _conn(flow.src_ip, flow.src_port, flow.dst_ip, flow.dst_port)
