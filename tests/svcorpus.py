"""Where the suricata-verify corpus is, for the tests that read it: ``../shared/corpus/
suricata-verify`` beside the repository (or under /work), else ``None``, and the tests
that need it skip."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CANDIDATES = [
    ROOT.parent / "shared" / "corpus" / "suricata-verify",
    Path("/work/shared/corpus/suricata-verify"),
]
SV = next((p for p in CANDIDATES if (p / "index.jsonl").is_file()), None)
needs_corpus = pytest.mark.skipif(SV is None, reason="shared suricata-verify corpus absent")
