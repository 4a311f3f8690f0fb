"""Flow records as Arrow batches and tables, pandas DataFrames and Parquet files: the same
records as the JSON lines, from every kind of source, through the API and the CLI.

Parquet is read back from paths only: pyarrow's threaded reader of an in-memory file can
abort the interpreter at exit (apache/arrow#33975)."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from decimal import Decimal
from pathlib import Path
from typing import Any

import netsonde
import pcapgen as pg
import pytest
from conftest import Event

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
from netsonde import _core, arrow  # noqa: E402  (needs pyarrow)

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "loopback.pcapng"
NDPI_PCAPS = ROOT.parent / "shared" / "corpus" / "ndpi" / "pcap"


@pytest.fixture
def ref_pcap(tmp_path: Path, reference: tuple[list[Event], list[pg.Frame]]) -> Path:
    return pg.write_pcap(tmp_path / "ref.pcap", reference[1])


@pytest.fixture
def cut_pcap(tmp_path: Path, reference: tuple[list[Event], list[pg.Frame]]) -> Path:
    """The reference capture with its last record cut short."""
    _, frames = reference
    path = tmp_path / "cut.pcap"
    path.write_bytes(pg.pcap_bytes([*frames, frames[-1]])[:-7])
    return path


def cli(*args: str | Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "netsonde", *map(str, args)], capture_output=True, timeout=120
    )


def rows(table: Any) -> list[dict[str, Any]]:
    """A table's rows as flow records: the metadata's JSON text read back."""
    out: list[dict[str, Any]] = table.to_pylist()
    for r in out:
        r["metadata"] = json.loads(r["metadata"])
    return out


def records(source: Any, **options: Any) -> list[dict[str, Any]]:
    return [f.to_dict() for f in netsonde.analyze(source, **options)]


def test_the_schema_follows_the_record_fields() -> None:
    assert arrow.SCHEMA.names == list(netsonde.FIELD_NAMES)
    nullable = {f.name for f in arrow.SCHEMA if f.nullable}
    assert nullable == {
        "requested_server_name",
        "user_agent",
        "content_type",
        "client_fingerprint",
        "server_fingerprint",
    }
    assert arrow.SCHEMA.field("src_port").type == pa.uint16()
    assert arrow.SCHEMA.field("bidirectional_first_seen_ms").type == pa.int64()
    assert arrow.SCHEMA.field("risks").type == pa.list_(pa.string())


def test_a_table_holds_the_same_records_as_the_flows(ref_pcap: Path) -> None:
    for path in (ref_pcap, SAMPLE):
        table = netsonde.to_arrow(path)
        table.validate(full=True)
        assert table.schema.equals(arrow.SCHEMA)
        assert rows(table) == records(path)


@pytest.mark.skipif(not NDPI_PCAPS.is_dir(), reason=f"no corpus at {NDPI_PCAPS}")
def test_tables_of_the_ndpi_corpus_hold_the_same_records_as_the_flows() -> None:
    # Real traffic: IPv6, tunnels, VLANs, risks, every kind of metadata, absent optional fields.
    checked = flows = 0
    with warnings.catch_warnings():
        # Damaged captures warn through both paths alike (tested below).
        warnings.simplefilter("ignore", netsonde.TruncatedCaptureWarning)
        for path in sorted(NDPI_PCAPS.iterdir()):
            table = netsonde.to_arrow(path)
            table.validate(full=True)
            got, want = rows(table), records(path)
            assert got == want, path.name
            assert_attribute_columns(arrow.add_attribute_columns(table), table)
            checked += 1
            flows += len(got)
    assert checked > 300 and flows > 5000


def assert_attribute_columns(expanded: Any, table: Any) -> None:
    """``expanded`` is ``table`` with a column per attribute its flows carry, of the declared
    type, holding each flow's value (null where it has none)."""
    assert expanded.select(table.column_names).equals(table)
    extra = expanded.column_names[table.num_columns :]
    assert extra == sorted(extra)
    declared = {name: kind for name, kind, _, _ in _core.registry()[2]}
    types = {"str": pa.string(), "int": pa.int64(), "list[str]": pa.list_(pa.string())}
    for name in extra:
        assert expanded.schema.field(name).type == types[declared[name]], name
    for row in expanded.to_pylist():
        carried = {name: row[name] for name in extra if row[name] is not None}
        assert carried == json.loads(row["metadata"])


def test_attribute_columns_hold_each_flows_attributes(ref_pcap: Path) -> None:
    for path in (ref_pcap, SAMPLE):
        expanded = netsonde.to_arrow(path, attribute_columns=True)
        assert_attribute_columns(expanded, netsonde.to_arrow(path))
        assert expanded.num_columns > len(netsonde.FIELD_NAMES)
    frame = netsonde.to_pandas(SAMPLE, attribute_columns=True)
    # Integers stay integers where some flows lack them (pandas' nullable Int64, not floats).
    assert str(frame["http.status_code"].dtype) == "Int64"
    assert list(frame["http.status_code"].dropna()) == [200, 404, 200]
    assert frame["http.status_code"].isna().sum() == len(frame) - 3
    empty = arrow.flows_to_batch([])
    assert arrow.add_attribute_columns(pa.Table.from_batches([empty])).num_columns == len(
        netsonde.FIELD_NAMES
    )


def test_packets_from_python_give_the_table_of_their_capture(
    ref_pcap: Path, reference: tuple[list[Event], list[pg.Frame]]
) -> None:
    _, frames = reference
    packets = [(Decimal(f.ts_ns) / 10**9, f.data) for f in frames]
    from_packets = netsonde.to_arrow(packets)
    from_packets.validate(full=True)
    assert from_packets.schema.equals(arrow.SCHEMA)
    assert rows(from_packets) == rows(netsonde.to_arrow(ref_pcap))


def test_packets_from_python_come_in_bounded_batches(
    ref_pcap: Path, reference: tuple[list[Event], list[pg.Frame]]
) -> None:
    _, frames = reference
    packets = [(Decimal(f.ts_ns) / 10**9, f.data) for f in frames]
    batches = list(netsonde.record_batches(packets, batch_size=2))
    assert len(batches) > 1
    assert all(0 < b.num_rows <= 2 for b in batches)
    assert pa.Table.from_batches(batches).equals(netsonde.to_arrow(ref_pcap))
    with pytest.raises(ValueError, match="unknown link type"):
        netsonde.to_arrow(packets, link_type="carrier-pigeon")
    with pytest.raises(TypeError, match="packet 0"):
        netsonde.to_arrow([b"not a packet"])


def without_ids(table: Any) -> list[dict[str, Any]]:
    """The rows in an order that does not depend on the workers, without their ids."""
    out = rows(table)
    for r in out:
        del r["id"]
    return sorted(out, key=lambda r: json.dumps(r, sort_keys=True))


def test_workers_give_the_same_records() -> None:
    assert without_ids(netsonde.to_arrow(SAMPLE, workers=2)) == without_ids(netsonde.to_arrow(SAMPLE))


def test_record_batches_are_bounded_and_add_up_to_the_table(ref_pcap: Path) -> None:
    batches = list(netsonde.record_batches([ref_pcap, SAMPLE], batch_size=2))
    assert len(batches) > 2
    assert all(0 < b.num_rows <= 2 for b in batches)
    whole = netsonde.to_arrow([ref_pcap, SAMPLE])
    assert pa.Table.from_batches(batches).equals(whole)
    with pytest.raises(ValueError, match="batch_size"):
        netsonde.record_batches(SAMPLE, batch_size=0)


def test_opening_errors_raise_at_the_call(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        netsonde.record_batches(tmp_path / "missing.pcap")
    not_a_capture = tmp_path / "notes.txt"
    not_a_capture.write_text("hello\n")
    with pytest.raises(netsonde.CaptureFormatError):
        netsonde.to_arrow(not_a_capture)
    with pytest.raises(TypeError, match="unknown option"):
        netsonde.to_arrow(SAMPLE, idle=3)


def test_a_truncated_capture_warns_and_keeps_the_flows_before_the_cut(cut_pcap: Path) -> None:
    with pytest.warns(netsonde.TruncatedCaptureWarning, match="cut.pcap"):
        table = netsonde.to_arrow(cut_pcap)
    with pytest.warns(netsonde.TruncatedCaptureWarning):
        want = records(cut_pcap)
    assert len(want) > 0
    assert rows(table) == want


def test_pandas_frame_has_a_row_per_flow_with_numeric_columns(ref_pcap: Path) -> None:
    pytest.importorskip("pandas")
    frame = netsonde.to_pandas(ref_pcap)
    want = records(ref_pcap)
    assert list(frame.columns) == list(netsonde.FIELD_NAMES)
    assert len(frame) == len(want)
    assert str(frame["bidirectional_bytes"].dtype) == "uint64"
    assert str(frame["src_port"].dtype) == "uint16"
    assert frame["bidirectional_bytes"].sum() == sum(r["bidirectional_bytes"] for r in want)
    assert list(frame["application_name"]) == [r["application_name"] for r in want]


def test_flows_to_batch_matches_the_columns_of_the_core(ref_pcap: Path) -> None:
    batch = arrow.flows_to_batch(netsonde.analyze(SAMPLE))
    assert pa.Table.from_batches([batch]).equals(netsonde.to_arrow(SAMPLE))
    assert arrow.flows_to_batch([]).num_rows == 0


def test_write_parquet_round_trips(tmp_path: Path, ref_pcap: Path) -> None:
    out = tmp_path / "flows.parquet"
    n = netsonde.write_parquet([ref_pcap, SAMPLE], out)
    table = pq.read_table(out)
    assert table.num_rows == n > 0
    assert table.equals(netsonde.to_arrow([ref_pcap, SAMPLE]))


def run_of(metadata: dict[bytes, bytes]) -> tuple[str, dict[str, int]]:
    return metadata[b"netsonde.version"].decode(), json.loads(metadata[b"netsonde.stats"])


def test_tables_and_parquet_files_say_which_run_made_them(tmp_path: Path, ref_pcap: Path) -> None:
    analysis = netsonde.analyze([ref_pcap, SAMPLE])
    flows = list(analysis)
    table = netsonde.to_arrow([ref_pcap, SAMPLE], attribute_columns=True)
    assert run_of(table.schema.metadata) == (netsonde.__version__, analysis.stats)
    assert analysis.stats["frames"] > 0 and table.num_rows == len(flows)
    out = tmp_path / "flows.parquet"
    netsonde.write_parquet([ref_pcap, SAMPLE], out)
    assert run_of(pq.read_metadata(out).metadata) == (netsonde.__version__, analysis.stats)
    by_cli = tmp_path / "cli.parquet"
    assert cli("analyze", ref_pcap, SAMPLE, "-o", by_cli).returncode == 0
    assert run_of(pq.read_metadata(by_cli).metadata) == (netsonde.__version__, analysis.stats)
    batches = netsonde.record_batches([ref_pcap, SAMPLE], batch_size=2)
    assert sum(b.num_rows for b in batches) == len(flows)
    assert batches.stats == analysis.stats


# --------------------------------------------------------------------------- command line


def test_cli_writes_parquet_chosen_by_flag_or_extension(tmp_path: Path, ref_pcap: Path) -> None:
    want = netsonde.to_arrow(ref_pcap)
    by_flag, by_ext = tmp_path / "a.out", tmp_path / "b.parquet"
    for args in (("-f", "parquet", "-o", by_flag), ("-o", by_ext)):
        res = cli("analyze", ref_pcap, *args)
        assert res.returncode == 0, res.stderr
        assert res.stderr == b""
    for path in (by_flag, by_ext):
        assert pq.read_table(path).equals(want)


def test_cli_writes_parquet_to_a_pipe(tmp_path: Path) -> None:
    res = cli("analyze", SAMPLE, "-f", "parquet", "--workers", "2")
    assert res.returncode == 0, res.stderr
    assert res.stdout[:4] == b"PAR1"
    path = tmp_path / "piped.parquet"
    path.write_bytes(res.stdout)
    assert without_ids(pq.read_table(path)) == without_ids(netsonde.to_arrow(SAMPLE))


def test_cli_parquet_stats_and_truncated_input(tmp_path: Path, cut_pcap: Path) -> None:
    out = tmp_path / "cut.parquet"
    res = cli("analyze", cut_pcap, "-o", out, "--stats")
    assert res.returncode == 0
    err = res.stderr.decode()
    assert "Traceback" not in err
    assert any(line.startswith("netsonde: warning:") and "cut.pcap" in line for line in err.splitlines())
    with pytest.warns(netsonde.TruncatedCaptureWarning):
        want = records(cut_pcap)
    assert f"{len(want)} flows" in err
    assert rows(pq.read_table(out)) == want


def test_cli_parquet_without_pyarrow_says_what_to_install(tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['pyarrow'] = None\n"
        "from netsonde.cli import main\n"
        f"sys.exit(main(['analyze', {str(SAMPLE)!r}, '-o', {str(tmp_path / 'x.parquet')!r}]))\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert res.returncode == 2
    lines = res.stderr.splitlines()
    assert len(lines) == 1 and "pip install 'netsonde[arrow]'" in lines[0], res.stderr
    assert not (tmp_path / "x.parquet").exists()


def test_cli_parquet_to_an_unwritable_place_is_one_line(tmp_path: Path) -> None:
    res = cli("analyze", SAMPLE, "-o", tmp_path / "no" / "such" / "dir.parquet")
    assert res.returncode == 1
    lines = res.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("netsonde: error:"), res.stderr
