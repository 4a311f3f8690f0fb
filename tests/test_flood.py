"""A SYN flood of two million one-packet flows under a small flow bound.

Memory must stay bounded by ``--max-flows`` whatever the number of flows, and every evicted
flow must still give its record. The capture is generated here (140 MB in a temporary
directory) and the CLI runs in a child process so that its peak RSS can be read alone.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

FLOWS = 2_000_000
MAX_FLOWS = 100_000
RSS_LIMIT_MIB = 400

ETHER_IPV4 = bytes.fromhex("020000000001020000000002") + b"\x08\x00"


def write_syn_flood(path: Path, flows: int) -> None:
    """One TCP SYN per flow from distinct (address, port) pairs to one server, 5 µs apart."""
    record = struct.Struct("<IIII")
    ip = struct.Struct("!BBHHHBBHII")
    tcp = struct.Struct("!HHIIBBHHH")
    with path.open("wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        buf = bytearray()
        for i in range(flows):
            src = 0x0A000000 | (i >> 6)
            sport = 1024 + (i & 63) * 937
            frame = (
                ETHER_IPV4
                + ip.pack(0x45, 0, 40, i & 0xFFFF, 0x4000, 64, 6, 0, src, 0xC0A80101)
                + tcp.pack(sport, 80, i, 0, 0x50, 0x02, 64240, 0, 0)
            )
            us = i * 5
            buf += record.pack(1_700_000_000 + us // 1_000_000, us % 1_000_000, len(frame), len(frame))
            buf += frame
            if len(buf) >= 1 << 22:
                fh.write(buf)
                buf.clear()
        fh.write(buf)


@pytest.mark.skipif(sys.platform != "linux", reason="peak RSS of a child is read the Linux way")
def test_two_million_flows_stay_under_the_memory_bound(tmp_path: Path) -> None:
    capture = tmp_path / "syn-flood.pcap"
    write_syn_flood(capture, FLOWS)
    command = ["analyze", str(capture), "-q", "-f", "csv", "--max-flows", str(MAX_FLOWS)]
    errors = tmp_path / "stderr.txt"
    with (
        errors.open("wb") as err,
        subprocess.Popen(
            [sys.executable, "-m", "netsonde", *command], stdout=subprocess.PIPE, stderr=err
        ) as child,
    ):
        assert child.stdout is not None
        rows = sum(1 for _ in child.stdout) - 1  # the header line
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
    assert child.returncode == 0, errors.read_text()
    assert rows == FLOWS
    peak_mib = usage.ru_maxrss / 1024  # kB on Linux
    assert peak_mib < RSS_LIMIT_MIB, f"peak RSS {peak_mib:.0f} MiB"


def test_evictions_are_counted_and_every_flow_is_recorded(tmp_path: Path) -> None:
    import netsonde

    capture = tmp_path / "small-flood.pcap"
    write_syn_flood(capture, 5_000)
    analysis = netsonde.analyze(capture, max_flows=1_000)
    flows = list(analysis)
    assert len(flows) == 5_000
    assert len({(f.src_ip, f.src_port) for f in flows}) == 5_000
    assert analysis.stats["flows_evicted"] == 4_000
