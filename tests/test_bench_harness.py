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


def test_dataframes_are_compared_with_the_peers_dataframes(harness: ModuleType, tmp_path: Path) -> None:
    cap = harness.Capture(path=tmp_path / "mix-3.pcap", packets=1000, wire_bytes=1_000_000)

    def row(tool: object, wall: float) -> dict[str, object]:
        run = harness.Run(["x"], 0, wall, wall, 1024, None, tmp_path / "e")
        return harness.summarize(cap, tool, [run], harness.Check(flows=10, classified=5), {})

    rows = [
        row(harness.Netsonde(["netsonde"]), 1.0),
        row(harness.NetsondeApi(pandas=True), 1.5),
        row(harness.Nfstream(), 20.0),
        row(harness.Nfstream(pandas=True), 30.0),
    ]
    harness.add_ratios(rows, ("nfstream",))
    by_tool = {r["tool"]: r for r in rows}
    assert by_tool["netsonde"]["vs_nfstream"] == pytest.approx(20.0)
    assert by_tool["netsonde-pandas"]["vs_nfstream"] == pytest.approx(20.0)  # 30 / 1.5, not 20 / 1.5
    assert by_tool["nfstream-pandas"]["vs_nfstream"] == pytest.approx(1.0)
    lines = harness.acceptance(rows)
    assert any("netsonde.to_pandas ÷ nfstream's to_pandas(): 20.00" in line for line in lines)


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


def test_scaling_without_the_fixed_cost_subtracts_each_rounds_start_up(
    harness: ModuleType, tmp_path: Path
) -> None:
    cap = harness.Capture(path=tmp_path / "enterprise-3.pcap", packets=1000, wire_bytes=1_000_000)

    def row(tool: object, walls: list[float]) -> dict[str, object]:
        runs = [harness.Run(["x"], 0, w, w, 1024, None, tmp_path / "e") for w in walls]
        return harness.summarize(cap, tool, runs, harness.Check(flows=10, classified=5), {})

    one = harness.Netsonde(["netsonde"])
    rows = [
        row(one, [1.1, 1.3]),
        row(harness.Netsonde(["netsonde"], workers=2), [0.6, 0.8]),
        row(harness.NetsondeStartUp(one), [0.1, 0.3]),
    ]
    harness.add_ratios(rows, ("ndpiReader",))
    start_up = rows[2]
    # A run that does not analyse the capture has no speed and is no one's peer.
    assert start_up.get("pps") is None and start_up["vs_1w"] is None and start_up["vs_ndpiReader"] is None
    assert rows[1]["vs_1w"] == pytest.approx(1.2 / 0.7)
    lines = harness.acceptance(rows)
    # (1.1 - 0.1) / (0.6 - 0.1) and (1.3 - 0.3) / (0.8 - 0.3): both 2.
    assert any("without the fixed cost" in line and "paired by round: 2.00" in line for line in lines)
    assert "| netsonde-start-up |" in harness.markdown_table(rows, ("ndpiReader",))


def test_the_start_up_run_reads_only_the_first_packet(harness: ModuleType, tmp_path: Path) -> None:
    import pcapgen as pg

    frames = [pg.Frame(pg.ns(1), b"\x01" * 60), pg.Frame(pg.ns(2), b"\x02" * 70)]
    for big_endian in (False, True):
        src = pg.write_pcap(tmp_path / "two.pcap", frames, big_endian=big_endian)
        dst = tmp_path / "first.pcap"
        harness.write_first_packet(src, dst)
        assert dst.read_bytes() == pg.pcap_bytes(frames[:1], big_endian=big_endian)
    iface = pg.Interface()
    sections = [pg.Section([iface], [pg.RawBlock(5, b"stats"), *(pg.EPB(0, f) for f in frames)])]
    src = pg.write_pcapng(tmp_path / "two.pcapng", sections)
    harness.write_first_packet(src, tmp_path / "first.pcapng")
    one = [pg.Section([iface], [pg.RawBlock(5, b"stats"), pg.EPB(0, frames[0])])]
    assert (tmp_path / "first.pcapng").read_bytes() == pg.pcapng_bytes(one)
    (tmp_path / "text").write_bytes(b"not a capture at all")
    with pytest.raises(ValueError, match="not a pcap"):
        harness.write_first_packet(tmp_path / "text", tmp_path / "x")


def test_the_harness_byte_compiles_the_package_it_times(harness: ModuleType) -> None:
    """Timed runs use compiled bytecode, as a wheel's installation leaves it, even where the
    environment forbids writing it at import time (PYTHONDONTWRITEBYTECODE)."""
    import importlib.util

    import netsonde.cli

    cached = Path(importlib.util.cache_from_source(netsonde.cli.__file__))
    cached.unlink(missing_ok=True)
    assert harness.byte_compile(sys.executable) is None
    assert cached.exists()


@pytest.mark.parametrize("pandas", [False, True])
def test_the_api_run_counts_the_flows_the_api_yields(
    harness: ModuleType, tmp_path: Path, pandas: bool
) -> None:
    import netsonde

    if pandas:
        pytest.importorskip("pandas")
    sample = Path(__file__).resolve().parents[1] / "samples" / "loopback.pcapng"
    flows = list(netsonde.analyze(sample))
    tool = harness.NetsondeApi(pandas=pandas)
    assert tool.name == ("netsonde-pandas" if pandas else "netsonde-api")
    assert tool.unavailable() is None
    run, chk = tool.check(sample, tmp_path)
    assert run.rc == 0
    assert (chk.flows, chk.classified) == (
        len(flows),
        sum(f.application_name != "Unknown" for f in flows),
    )
    assert chk.flows > 0
