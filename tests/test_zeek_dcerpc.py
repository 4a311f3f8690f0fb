"""DCE/RPC over TCP against Zeek's dce_rpc.log of the same traces (the shared corpus): every
connection Zeek logs RPC calls for, on the endpoint mapper's port or the dynamic port it
handed out, is DCERPC here, with the endpoint Zeek names (epmapper, nspi, exchange_mapi,
netlogon). Calls carried in SMB named pipes are left out: netsonde names those flows SMB.
Skipped cleanly when the corpus is not present."""

from __future__ import annotations

from typing import Any

import pytest
from zeekcorpus import ZEEK, Conn, flows_by_conn, zeek_conn, zeek_logs

TRACES = ["dce-rpc__mapi.pcap", "dce-rpc__dce_rpc_netlogon.pcapng"]

pytestmark = pytest.mark.skipif(not ZEEK.is_dir(), reason=f"no Zeek corpus at {ZEEK}")


@pytest.mark.parametrize("trace", TRACES)
def test_each_rpc_connection_is_dcerpc_with_zeeks_endpoint(trace: str) -> None:
    flows = flows_by_conn(trace)
    first: dict[Conn, dict[str, Any]] = {}
    for r in zeek_logs(trace)["dce_rpc"]:
        # Over TCP Zeek names the "pipe" by the server's port.
        if str(r.get("named_pipe", "")).isdigit():
            first.setdefault(zeek_conn(r), r)
    assert first
    for conn, r in first.items():
        flow = flows.get(conn)
        assert flow is not None, conn
        assert flow.application_name == "DCERPC", conn
        assert flow.metadata.get("dcerpc.endpoint") == r["endpoint"], conn
