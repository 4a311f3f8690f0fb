"""Multi-core analysis: ``workers=N`` (API) and ``--workers N`` (CLI) give the records of one
worker (as a set: their order and flow ids differ), on generated captures and on the shared
corpus of real captures."""

from __future__ import annotations

import json
import warnings
from collections import Counter
from pathlib import Path

import netsonde
import pcapgen as pg
import pytest
from conftest import Event
from netsonde.cli import main

# The shared corpus: beside the checkout (as test_corpus.py finds it), else /work/shared.
CORPORA = [Path(__file__).resolve().parents[2] / "shared" / "corpus", Path("/work/shared/corpus")]
CORPUS = next((c for c in CORPORA if c.is_dir()), None)


def record_set(records: list[dict[str, object]]) -> Counter[str]:
    out: Counter[str] = Counter()
    for r in records:
        r = dict(r)
        r.pop("id", None)
        out[json.dumps(r, sort_keys=True)] += 1
    return out


def analyze(path: Path, workers: int) -> list[dict[str, object]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", netsonde.TruncatedCaptureWarning)
        return [f.to_dict() for f in netsonde.analyze(path, workers=workers)]


@pytest.fixture
def ref_pcap(tmp_path: Path, reference: tuple[list[Event], list[pg.Frame]]) -> Path:
    return pg.write_pcap(tmp_path / "ref.pcap", reference[1])


@pytest.mark.parametrize("workers", [2, 3, 8])
def test_workers_give_the_records_of_one(ref_pcap: Path, workers: int) -> None:
    one = analyze(ref_pcap, 1)
    assert one
    assert record_set(analyze(ref_pcap, workers)) == record_set(one)


def test_flow_ids_stay_unique_with_workers(ref_pcap: Path) -> None:
    ids = [r["id"] for r in analyze(ref_pcap, 3)]
    assert len(ids) == len(set(ids))


def test_truncated_capture_with_workers_warns_and_keeps_records(
    tmp_path: Path, reference: tuple[list[Event], list[pg.Frame]]
) -> None:
    _, frames = reference
    path = tmp_path / "cut.pcap"
    path.write_bytes(pg.pcap_bytes([*frames, frames[-1]])[:-9])
    with pytest.warns(netsonde.TruncatedCaptureWarning, match="cut.pcap"):
        many = [f.to_dict() for f in netsonde.analyze(path, workers=2)]
    assert record_set(many) == record_set(analyze(path, 1))


@pytest.mark.parametrize("value", [0, -1, 1.5, True, "2", 1000])
def test_bad_workers_values(ref_pcap: Path, value: object) -> None:
    with pytest.raises(ValueError, match="workers"):
        netsonde.analyze(ref_pcap, workers=value)


def test_cli_workers(ref_pcap: Path, tmp_path: Path) -> None:
    outs = []
    for n in ("1", "2"):
        out = tmp_path / f"w{n}.jsonl"
        assert main(["analyze", str(ref_pcap), "--workers", n, "-o", str(out), "-q"]) == 0
        outs.append(record_set([json.loads(line) for line in out.read_text().splitlines()]))
    assert outs[0] == outs[1] and outs[0]


def test_cli_workers_must_be_positive(ref_pcap: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(ref_pcap), "--workers", "0"]) != 0
    err = capsys.readouterr().err
    assert "--workers" in err and "Traceback" not in err


@pytest.mark.skipif(CORPUS is None, reason="no shared corpus")
def test_corpus_captures_give_the_same_records_with_workers() -> None:
    assert CORPUS is not None
    captures = sorted(p for p in (CORPUS / "ndpi" / "pcap").glob("*") if p.is_file())
    if not captures:
        pytest.skip("no captures")
    # Every fourth capture keeps the test quick; all 409 agree too (scripts/same_records.py).
    differ = []
    for path in captures[::4]:
        if record_set(analyze(path, 3)) != record_set(analyze(path, 1)):
            differ.append(path.name)
    assert not differ
