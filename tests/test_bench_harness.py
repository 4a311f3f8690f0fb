"""The benchmark harness's arithmetic and its side-by-side pair (no capture, no peers needed)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

RUN_PY = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"


@pytest.fixture(scope="module")
def harness() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_run", RUN_PY)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_run"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_the_pair_counts_two_analyses_in_its_speeds_and_scaling(harness: ModuleType, tmp_path: Path) -> None:
    cap = harness.Capture(path=tmp_path / "c.pcap", packets=1000, wire_bytes=1_000_000)

    def row(tool: object, wall: float) -> dict[str, object]:
        run = harness.Run(["x"], 0, wall, wall, 1024, None, tmp_path / "e")
        return harness.summarize(cap, tool, [run], harness.Check(flows=10, classified=5), {})

    one = harness.Netsonde(["netsonde"])
    rows = [
        row(one, 1.0),
        row(harness.Netsonde(["netsonde"], workers=2), 0.625),
        row(harness.NetsondePair(one), 1.25),
    ]
    harness.add_ratios(rows, ())
    by_tool = {r["tool"]: r for r in rows}
    assert by_tool["netsonde-2w"]["vs_1w"] == pytest.approx(1.6)
    # Two analyses in 1.25 s against one in 1 s: 1.6 times the throughput of one process.
    assert by_tool["netsonde-1w-x2"]["vs_1w"] == pytest.approx(1.6)
    assert by_tool["netsonde-1w-x2"]["pps"] == pytest.approx(1600)
    lines = harness.acceptance(rows)
    assert any("ceiling for 2 workers): 1.60" in line for line in lines)


class _Fixed:
    """A stand-in for one netsonde process: runs a fixed command."""

    def __init__(self, argv: list[str]) -> None:
        self.argv = argv

    def command(self, capture: Path) -> list[str]:
        return self.argv


def test_the_pair_succeeds_only_when_both_processes_do(harness: ModuleType, tmp_path: Path) -> None:
    both_ok = harness.NetsondePair(_Fixed(["true"]))
    assert harness.run_child(both_ok.command(tmp_path), None, tmp_path / "err").rc == 0
    # Exactly one of the two makes the directory and fails, whichever starts first.
    lock = tmp_path / "lock"
    one_fails = harness.NetsondePair(_Fixed(["sh", "-c", f"if mkdir {lock}; then exit 3; fi"]))
    run = harness.run_child(one_fails.command(tmp_path), None, tmp_path / "err")
    assert lock.is_dir()
    assert run.rc != 0


def test_the_paired_ratio_compares_runs_of_the_same_round(harness: ModuleType, tmp_path: Path) -> None:
    cap = harness.Capture(path=tmp_path / "enterprise-3.pcap", packets=1000, wire_bytes=1_000_000)

    def row(tool: object, walls: list[float]) -> dict[str, object]:
        runs = [harness.Run(["x"], 0, w, w, 1024, None, tmp_path / "e") for w in walls]
        return harness.summarize(cap, tool, runs, harness.Check(), {})

    # The second round ran while the machine was slow for both tools.
    rows = [
        row(harness.Netsonde(["netsonde"]), [1.0, 2.0, 1.0]),
        row(harness.Netsonde(["netsonde"], workers=2), [0.5, 1.0, 0.625]),
    ]
    harness.add_ratios(rows, ())
    two = rows[1]
    assert two["vs_1w"] == pytest.approx(1.0 / 0.625)
    assert two["vs_1w_paired"] == pytest.approx(2.0)
    assert any("paired by round: 2.00" in line for line in harness.acceptance(rows))
