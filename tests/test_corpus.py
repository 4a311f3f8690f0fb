"""The shared evaluation corpus (real captures from nDPI, suricata-verify and Zeek): every
capture is read without an exception, and flows and counts agree with nDPI's ground truth.
Skipped cleanly when the corpus is not present."""

from __future__ import annotations

import importlib.util
import time
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import netsonde
import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
CORPUS = SHARED / "corpus"
SCORER = SHARED / "tools" / "score.py"
FOLDERS = ("ndpi", "suricata-verify", "zeek")

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no corpus at {CORPUS}")


def _captures(folder: str) -> list[Path]:
    return sorted(p for p in (CORPUS / folder / "pcap").glob("*") if p.is_file())


@pytest.mark.parametrize("folder", FOLDERS)
def test_every_capture_is_read(folder: str) -> None:
    captures = _captures(folder)
    if not captures:
        pytest.skip(f"no captures in {folder}")
    failures: dict[str, str] = {}
    flows = 0
    start = time.monotonic()
    for path in captures:
        try:
            with warnings.catch_warnings():
                # A damaged capture warns and still yields what it holds; that is allowed here.
                warnings.simplefilter("ignore", netsonde.TruncatedCaptureWarning)
                records = list(netsonde.analyze(path))
        except Exception as e:  # every capture is checked; all failures are reported at once
            failures[path.name] = f"{type(e).__name__}: {e}"
            continue
        flows += len(records)
        for f in records:
            assert f.bidirectional_packets == f.src2dst_packets + f.dst2src_packets >= 1, (path.name, f)
            assert f.bidirectional_bytes == f.src2dst_bytes + f.dst2src_bytes, (path.name, f)
    assert not failures, failures
    assert flows > 0
    assert time.monotonic() - start < 60, "reading the corpus folder took over a minute"


def _load_scorer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("netsonde_corpus_score", SCORER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not SCORER.is_file(), reason="no scorer")
def test_ndpi_flows_and_counts_agree() -> None:
    corpus = CORPUS / "ndpi"
    if not (corpus / "truth").is_dir():
        pytest.skip("no nDPI truth")
    score = _load_scorer()

    def engine(pcap: str) -> list[dict[str, Any]]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", netsonde.TruncatedCaptureWarning)
            return [f.to_dict() for f in netsonde.analyze(pcap)]

    result = score.score(str(corpus), engine, None, True)
    figures = result["figures"]
    assert not result["errors"], result["errors"]
    assert figures["flows_found"] >= 0.995, figures
    assert figures["counts_equal"] >= 0.99, figures
