"""MySQL against Zeek's logs of the same traces (the shared corpus): every connection Zeek
logs MySQL for is MySQL here, and each command with its answer (the `mysql.command` events)
agrees with Zeek's mysql.log records, every one of them. Skipped cleanly when the corpus is
not present."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import netsonde
import pytest
from zeekcorpus import ZEEK, Conn, flow_conn, zeek_conn, zeek_logs

TRACES = sorted((ZEEK / "pcap").glob("mysql__*")) if ZEEK.is_dir() else []

pytestmark = pytest.mark.skipif(not TRACES, reason=f"no Zeek MySQL traces under {ZEEK}")


@pytest.mark.parametrize("trace", TRACES, ids=lambda p: p.name)
def test_commands_and_answers_agree_with_zeeks_mysql_log(trace: Path) -> None:
    logs = zeek_logs(trace.name)
    engine = netsonde.Engine()
    events: list[netsonde.Event] = []
    engine.on("mysql.command", events.append)
    flows = engine.process(str(trace)) + engine.flush()
    by_conn = {flow_conn(f): f for f in flows}
    by_id = {f.id: f for f in flows}

    mysql_conns = {zeek_conn(r) for r in logs.get("mysql", [])}
    mysql_conns |= {zeek_conn(r) for r in logs.get("conn", []) if "mysql" in (r.get("service") or "")}
    assert mysql_conns, "Zeek logs MySQL in every trace of this set"
    for conn in mysql_conns:
        assert by_conn[conn].application_name == "MySQL", conn

    ours: dict[Conn, list[tuple[str, str, bool | None]]] = defaultdict(list)
    for e in events:
        f = by_id[e.flow_id]
        success = e.attributes.get("mysql.success")
        asked = (str(e.attributes["mysql.command"]), str(e.attributes["mysql.argument"]))
        ours[flow_conn(f)].append((*asked, None if success is None else bool(success)))
    theirs: dict[Conn, list[tuple[str, str, bool | None]]] = defaultdict(list)
    for r in logs.get("mysql", []):
        theirs[zeek_conn(r)].append((r["cmd"], r["arg"] or "", r["success"]))

    for conn, zeek in theirs.items():
        mine = ours.get(conn, [])
        # A subscriber gets every command, past the 32-packet inspection budget.
        assert len(mine) == len(zeek), (conn, mine, zeek)
        for (command, argument, success), (z_command, z_argument, z_success) in zip(mine, zeek, strict=False):
            assert (command, argument) == (z_command, z_argument), conn
            # Zeek leaves the outcome empty where no OK or error answers (quit, statistics).
            if z_success is not None:
                assert success == z_success, (conn, command, argument)


def test_tls_requested_by_the_client_goes_on_as_tls() -> None:
    trace = ZEEK / "pcap" / "mysql__encrypted.pcap"
    if not trace.is_file():
        pytest.skip(f"no {trace}")
    (zeek_ssl,) = zeek_logs(trace.name)["ssl"]
    (flow,) = netsonde.analyze(trace)
    assert flow.application_name == "MySQL"
    assert flow.metadata["mysql.tls"] == 1
    assert flow.metadata["mysql.server_version"].startswith("5.5.5-10.0.36-MariaDB")
    # Zeek writes TLSv11 for TLS 1.1.
    assert flow.metadata["tls.version"].replace(".", "") == zeek_ssl["version"]
