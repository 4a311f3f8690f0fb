"""The command line: output formats agree with the API, options work, and bad input gives
one clear line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import netsonde
import pcapgen as pg
import pytest
from conftest import CONVS, Event, assert_matches, expected_records
from netsonde.cli import main


def cli(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "netsonde", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


def jsonl(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def api_records(*paths: Path, **options: object) -> list[dict[str, object]]:
    return [f.to_dict() for f in netsonde.analyze(list(paths), **options)]


@pytest.fixture
def ref_pcap(tmp_path: Path, reference: tuple[list[Event], list[pg.Frame]]) -> Path:
    return pg.write_pcap(tmp_path / "ref.pcap", reference[1])


def _udp_flows_pcap(path: Path, n: int) -> Path:
    frames = [
        pg.Frame(
            pg.ns(1000) + i * 1_000_000,
            pg.ether_for(pg.ipv4("10.0.0.1", "10.0.0.2", 17, pg.udp(20000 + i, 53, b"q"))),
        )
        for i in range(n)
    ]
    return pg.write_pcap(path, frames)


# --------------------------------------------------------------------------- formats


def test_jsonl_on_stdout_equals_the_api(ref_pcap: Path) -> None:
    res = cli("analyze", ref_pcap, "-f", "jsonl")
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    records = jsonl(res.stdout)
    assert len(records) == len(CONVS)
    for rec in records:
        assert list(rec) == list(netsonde.FIELD_NAMES)
    assert records == api_records(ref_pcap)
    # One object per line, nothing else on stdout.
    assert len(res.stdout.strip().splitlines()) == len(CONVS)


def test_jsonl_is_the_default_when_piped(ref_pcap: Path) -> None:
    res = cli("analyze", ref_pcap)
    assert res.returncode == 0, res.stderr
    assert jsonl(res.stdout) == api_records(ref_pcap)


def test_jsonl_to_a_file(ref_pcap: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "flows.jsonl"
    assert main(["analyze", str(ref_pcap), "-o", str(out), "-f", "jsonl"]) == 0
    assert jsonl(out.read_text()) == api_records(ref_pcap)
    captured = capsys.readouterr()
    assert captured.err == ""


def test_jsonl_dash_means_stdout(ref_pcap: Path) -> None:
    res = cli("analyze", ref_pcap, "-o", "-", "-f", "jsonl")
    assert res.returncode == 0, res.stderr
    assert jsonl(res.stdout) == api_records(ref_pcap)


def _csv_value(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(map(str, value))
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":")) if value else ""
    return str(value)


@pytest.mark.parametrize("how", ["flag", "extension"])
def test_csv(ref_pcap: Path, tmp_path: Path, how: str) -> None:
    out = tmp_path / "flows.csv"
    args = ["analyze", str(ref_pcap), "-o", str(out)] + (["-f", "csv"] if how == "flag" else [])
    assert main(args) == 0
    rows = list(csv.reader(io.StringIO(out.read_text())))
    assert rows[0] == list(netsonde.FIELD_NAMES)
    api = api_records(ref_pcap)
    assert len(rows) == 1 + len(api)
    for row, rec in zip(rows[1:], api, strict=True):
        assert row == [_csv_value(rec[k]) for k in netsonde.FIELD_NAMES]


def test_csv_on_stdout(ref_pcap: Path) -> None:
    res = cli("analyze", ref_pcap, "-f", "csv")
    assert res.returncode == 0, res.stderr
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert list(rows[0]) == list(netsonde.FIELD_NAMES)
    assert sorted(int(r["bidirectional_packets"]) for r in rows) == sorted(
        int(r["bidirectional_packets"]) for r in api_records(ref_pcap)
    )  # type: ignore[call-overload]


def _table_rows(text: str) -> dict[str, tuple[int, int]]:
    """application -> (flows, packets) from the summary table."""
    lines = text.splitlines()
    rows: dict[str, tuple[int, int]] = {}
    for line in lines[1:]:
        if not line.strip():
            break
        name, rest = line[:32].strip(), line[32:].split()
        rows[name] = (int(rest[0]), int(rest[2]))
    return rows


def test_table(
    ref_pcap: Path, capsys: pytest.CaptureFixture[str], reference: tuple[list[Event], list[pg.Frame]]
) -> None:
    assert main(["analyze", str(ref_pcap), "-f", "table"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:2] == ["application", "flows"]
    # The summary agrees with the records: flows and packets by application name.
    want: dict[str, tuple[int, int]] = {}
    for rec in api_records(ref_pcap):
        name = str(rec["application_name"])
        flows, packets = want.get(name, (0, 0))
        want[name] = (flows + 1, packets + int(rec["bidirectional_packets"]))  # type: ignore[call-overload]
    assert _table_rows(out) == want
    frames = reference[1]
    assert f"{len(frames)} frames, {len(CONVS)} flows" in out


def test_table_to_a_txt_file(ref_pcap: Path, tmp_path: Path) -> None:
    out = tmp_path / "summary.txt"
    assert main(["analyze", str(ref_pcap), "-o", str(out)]) == 0
    assert out.read_text().startswith("application")


def test_several_paths_are_one_capture(tmp_path: Path, reference: tuple[list[Event], list[pg.Frame]]) -> None:
    events, frames = reference
    one = pg.write_pcap(tmp_path / "a.pcap", frames[:6])
    two = pg.write_pcapng(
        tmp_path / "b.pcapng", [pg.Section([pg.Interface()], [pg.EPB(0, f) for f in frames[6:]])]
    )
    out = tmp_path / "o.jsonl"
    assert main(["analyze", str(one), str(two), "-o", str(out)]) == 0
    recs = jsonl(out.read_text())
    assert recs == api_records(one, two)
    assert_matches([netsonde.Flow(r) for r in recs], expected_records(events, frames))


@pytest.mark.skipif(shutil.which("netsonde") is None, reason="console script not installed")
def test_console_script(ref_pcap: Path) -> None:
    res = subprocess.run(
        ["netsonde", "analyze", str(ref_pcap), "-f", "jsonl"], capture_output=True, text=True, timeout=60
    )
    assert res.returncode == 0, res.stderr
    assert jsonl(res.stdout) == api_records(ref_pcap)


def test_version() -> None:
    res = cli("--version")
    assert res.returncode == 0
    assert res.stdout.strip() == f"netsonde {netsonde.__version__}"


# --------------------------------------------------------------------------- options


def test_max_flows(tmp_path: Path) -> None:
    path = _udp_flows_pcap(tmp_path / "many.pcap", 100)
    out = tmp_path / "o.jsonl"
    assert main(["analyze", str(path), "--max-flows", "10", "-o", str(out)]) == 0
    recs = jsonl(out.read_text())
    assert len(recs) == 100
    assert sum(r["expiration"] == "eviction" for r in recs) == 90
    assert sum(r["expiration"] == "end_of_input" for r in recs) == 10
    assert recs == api_records(path, max_flows=10)


def test_idle_and_active_timeouts(tmp_path: Path) -> None:
    pkt = pg.ether_for(pg.ipv4("10.0.0.1", "10.0.0.2", 17, pg.udp(5000, 6000)))
    times = ["1000", "1001", "1020", "1021.5", "1023"]
    path = pg.write_pcap(tmp_path / "t.pcap", [pg.Frame(pg.ns(x), pkt) for x in times])
    out = tmp_path / "o.jsonl"
    assert main(["analyze", str(path), "--idle-timeout", "10", "-o", str(out)]) == 0
    recs = jsonl(out.read_text())
    assert [(r["expiration"], r["bidirectional_packets"]) for r in recs] == [("idle", 2), ("end_of_input", 3)]
    assert main(["analyze", str(path), "--idle-timeout", "0.5", "-o", str(out)]) == 0
    assert len(jsonl(out.read_text())) == 5
    assert main(["analyze", str(path), "--active-timeout", "2", "-o", str(out)]) == 0
    recs = jsonl(out.read_text())
    assert [(r["expiration"], r["bidirectional_packets"]) for r in recs] == [
        ("active", 2),
        ("active", 2),
        ("end_of_input", 1),
    ]
    assert recs == api_records(path, active_timeout=2)


def test_no_defrag(tmp_path: Path) -> None:
    whole = pg.ipv4("10.0.0.1", "10.0.0.2", 17, pg.udp(5000, 6000, b"f" * 3000))
    frames = [pg.Frame(pg.ns(5) + i, pg.ether_for(p)) for i, p in enumerate(pg.fragment_ipv4(whole, 1400))]
    path = pg.write_pcap(tmp_path / "frag.pcap", frames)
    out = tmp_path / "o.jsonl"
    assert main(["analyze", str(path), "-o", str(out)]) == 0
    (rec,) = jsonl(out.read_text())
    assert (rec["src_port"], rec["bidirectional_packets"]) == (5000, 3)
    assert main(["analyze", str(path), "--no-defrag", "-o", str(out)]) == 0
    (rec,) = jsonl(out.read_text())
    assert (rec["src_port"], rec["bidirectional_packets"], rec["bidirectional_bytes"]) == (
        5000,
        1,
        len(frames[0].data),
    )


def test_no_tunnels(tmp_path: Path) -> None:
    inner = pg.ipv4("10.1.1.1", "10.2.2.2", 6, pg.tcp(40000, 443, flags="S"))
    frame = pg.ether_for(
        pg.ipv4("192.0.2.1", "192.0.2.2", 17, pg.udp(50000, 4789, pg.vxlan(pg.ether_for(inner))))
    )
    path = pg.write_pcap(tmp_path / "vx.pcap", [pg.Frame(pg.ns(5), frame)])
    out = tmp_path / "o.jsonl"
    assert main(["analyze", str(path), "-o", str(out)]) == 0
    (rec,) = jsonl(out.read_text())
    assert (rec["src_ip"], rec["dst_port"], rec["tunnel_id"]) == ("10.1.1.1", 443, 5)
    assert main(["analyze", str(path), "--no-tunnels", "-o", str(out)]) == 0
    (rec,) = jsonl(out.read_text())
    assert (rec["src_ip"], rec["dst_port"], rec["protocol"], rec["tunnel_id"]) == ("192.0.2.1", 4789, 17, 0)


# --------------------------------------------------------------------------- damage and errors


def test_truncated_capture_warns_and_keeps_records(
    tmp_path: Path, reference: tuple[list[Event], list[pg.Frame]]
) -> None:
    events, frames = reference
    path = tmp_path / "cut.pcap"
    path.write_bytes(pg.pcap_bytes([*frames, frames[-1]])[:-9])
    res = cli("analyze", path, "-f", "jsonl")
    assert res.returncode == 0
    assert "Traceback" not in res.stderr
    warn = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(warn) == 1
    assert warn[0].startswith("netsonde: warning:")
    assert "cut.pcap" in warn[0]
    recs = jsonl(res.stdout)
    assert_matches([netsonde.Flow(r) for r in recs], expected_records(events, frames))


def test_truncated_capture_in_process(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], reference: tuple[list[Event], list[pg.Frame]]
) -> None:
    _, frames = reference
    path = tmp_path / "cut.pcapng"
    path.write_bytes(pg.pcapng_bytes([pg.Section([pg.Interface()], [pg.EPB(0, f) for f in frames])])[:-3])
    out = tmp_path / "o.jsonl"
    assert main(["analyze", str(path), "-o", str(out)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("netsonde: warning:")
    assert len(jsonl(out.read_text())) == len(CONVS)


def _bad_inputs(tmp_path: Path, ref: Path) -> dict[str, list[str]]:
    junk = tmp_path / "junk.pcap"
    junk.write_text("hello, I am not a capture\n" * 20)
    missing = str(tmp_path / "missing.pcap")
    empty = tmp_path / "empty.pcap"
    empty.write_bytes(b"")
    return {
        "missing-file": ["analyze", missing],
        "missing-among-several": ["analyze", str(ref), missing],
        "not-a-capture": ["analyze", str(junk)],
        "directory": ["analyze", str(tmp_path)],
        "max-flows-0": ["analyze", str(ref), "--max-flows", "0"],
        "max-flows-text": ["analyze", str(ref), "--max-flows", "many"],
        "idle-timeout-negative": ["analyze", str(ref), "--idle-timeout", "-1"],
        "idle-timeout-zero": ["analyze", str(ref), "--idle-timeout", "0"],
        "active-timeout-nan": ["analyze", str(ref), "--active-timeout", "nan"],
        "format-xml": ["analyze", str(ref), "-f", "xml"],
        "no-path": ["analyze"],
        "unknown-flag": ["analyze", str(ref), "--frobnicate"],
        "unknown-command": ["frobnicate", str(ref)],
        "empty-file": ["analyze", str(empty)],
        "output-in-missing-directory": [
            "analyze",
            str(ref),
            "-o",
            str(tmp_path / "no" / "such" / "dir" / "o.jsonl"),
        ],
        "max-flows-fraction": ["analyze", str(ref), "--max-flows", "1.5"],
    }


BAD = [
    "missing-file",
    "missing-among-several",
    "not-a-capture",
    "directory",
    "max-flows-0",
    "max-flows-text",
    "idle-timeout-negative",
    "idle-timeout-zero",
    "active-timeout-nan",
    "format-xml",
    "no-path",
    "unknown-flag",
    "unknown-command",
    "empty-file",
    "output-in-missing-directory",
    "max-flows-fraction",
]


@pytest.mark.parametrize("case", BAD)
def test_bad_input_in_process(
    tmp_path: Path, ref_pcap: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    args = _bad_inputs(tmp_path, ref_pcap)[case]
    code = main(args)
    captured = capsys.readouterr()
    assert code != 0
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("netsonde: error:")
    assert "Traceback" not in captured.err
    assert captured.out == ""


@pytest.mark.parametrize(
    "case", ["missing-file", "not-a-capture", "max-flows-0", "format-xml", "no-path", "directory"]
)
def test_bad_input_subprocess(tmp_path: Path, ref_pcap: Path, case: str) -> None:
    res = cli(*_bad_inputs(tmp_path, ref_pcap)[case])
    assert res.returncode != 0
    lines = res.stderr.splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("netsonde: error:")
    assert "Traceback" not in res.stderr
    assert res.stdout == ""


def test_error_messages_name_the_problem(
    tmp_path: Path, ref_pcap: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = _bad_inputs(tmp_path, ref_pcap)
    expect = {
        "missing-file": "missing.pcap",
        "not-a-capture": "junk.pcap",
        "max-flows-0": "max-flows",
        "format-xml": "xml",
        "no-path": "PATH",
    }
    for case, word in expect.items():
        main(bad[case])
        err = capsys.readouterr().err
        assert word in err, (case, err)


def test_missing_file_writes_no_output(tmp_path: Path, ref_pcap: Path) -> None:
    out = tmp_path / "o.jsonl"
    res = cli("analyze", ref_pcap, tmp_path / "missing.pcap", "-o", out)
    assert res.returncode != 0
    assert not out.exists() or out.read_text() == ""


def test_exit_codes(tmp_path: Path, ref_pcap: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = _bad_inputs(tmp_path, ref_pcap)
    assert main(bad["missing-file"]) == 1
    assert main(bad["not-a-capture"]) == 1
    assert main(bad["max-flows-0"]) == 2
    assert main(bad["format-xml"]) == 2
    capsys.readouterr()


def test_table_is_the_default_on_a_terminal(ref_pcap: Path) -> None:
    """With no -f and no -o, a terminal gets the readable summary, not JSON lines."""
    pty = pytest.importorskip("pty")
    leader, follower = pty.openpty()
    chunks = []
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "netsonde", "analyze", str(ref_pcap), "-q"],
            stdout=follower,
            stderr=subprocess.PIPE,
            timeout=60,
        )
        os.close(follower)
        follower = -1
        while True:
            try:
                data = os.read(leader, 65536)
            except OSError:  # EIO once the terminal's other side is closed and drained
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(leader)
        if follower >= 0:
            os.close(follower)
    out = b"".join(chunks).decode().replace("\r\n", "\n")
    assert proc.returncode == 0, proc.stderr
    assert out.startswith("application"), out
    assert "{" not in out


def test_stats_report_evictions_on_stderr(tmp_path: Path) -> None:
    pcap = _udp_flows_pcap(tmp_path / "many.pcap", 50)
    res = cli("analyze", pcap, "--max-flows", "10", "--stats", "-f", "csv")
    assert res.returncode == 0, res.stderr
    assert len(res.stdout.splitlines()) == 1 + 50
    lines = res.stderr.splitlines()
    assert lines[0] == "netsonde: 50 frames, 50 flows, 40 evicted, 0 malformed"
    assert "netsonde:   flows_evicted 40" in lines
    quiet = cli("analyze", pcap, "--max-flows", "10", "-q", "-f", "csv")
    assert quiet.stderr == ""


def test_protocols_lists_the_risks_from_the_registry() -> None:
    res = cli("protocols", "--risks", "--json")
    assert res.returncode == 0, res.stderr
    rows = jsonl(res.stdout)
    names = [r["name"] for r in rows]
    assert "clear_text_credentials" in names and "tcp_overlap_conflict" in names
    assert len(names) == len(set(names))
    assert all(r["description"] for r in rows)


def test_protocols_lists_the_record_fields_in_output_order() -> None:
    res = cli("protocols", "--fields", "--json")
    assert res.returncode == 0, res.stderr
    rows = jsonl(res.stdout)
    assert [r["name"] for r in rows] == list(netsonde.FIELD_NAMES)
    assert all(r["type"] and r["description"] for r in rows)
    table = cli("protocols", "--fields")
    assert table.stdout.splitlines()[0].split() == ["name", "type", "description"]
    assert len(table.stdout.splitlines()) == 1 + len(netsonde.FIELD_NAMES)


@pytest.mark.parametrize("listing", ["--risks", "--attributes"])
def test_a_reader_that_went_away_ends_the_command_quietly(listing: str) -> None:
    """`netsonde protocols | head -0`: the reader is gone before anything is written. The
    command ends with 0 and nothing on stderr, whether the output fails while it is written
    (--attributes fills the stream's buffer) or only when the buffer is flushed at exit
    (--risks fits in it). Buffered, as a user's environment has it unless told otherwise."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "netsonde", "protocols", listing, "--json"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            env=env,
        )
    finally:
        os.close(write_end)
    assert (proc.returncode, proc.stderr) == (0, "")


def test_the_command_line_starts_without_the_heavy_standard_modules(tmp_path: Path, ref_pcap: Path) -> None:
    """Start-up is part of every run (about a fifth of it went to importing dataclasses, typing
    and json): an analysis imports none of them. The interpreter runs without site (-S) so
    that what the environment's .pth files import does not hide what netsonde imports."""
    package_root = Path(netsonde.__file__).resolve().parent.parent
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]); from netsonde.cli import main; "
        "code = main(['analyze', sys.argv[2], '-f', 'jsonl', '-o', sys.argv[3], '-q']); "
        "print(code, *sorted(m for m in ('dataclasses', 'typing', 'json') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-S", "-c", probe, str(package_root), str(ref_pcap), str(tmp_path / "out.jsonl")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["0"]
    assert len(jsonl((tmp_path / "out.jsonl").read_text())) == 4
