"""TLS and QUIC fingerprints against reference implementations: every check of the
suricata-verify corpus (shared/corpus/suricata-verify) that asserts a JA3 or JA3S hash
(Suricata's implementation) or a JA4 (Suricata's, which its tests compare with FoxIO's
reference `ja4` tool) must find the same value on as many of netsonde's flows of that
capture.

nDPI's truth differs from these references in two ways this test pins down: its JA4 says
``d`` when the ClientHello has no server name, and takes the ALPN's first two characters
instead of its first and last (``ja4-tls.pcap``: ``t12i1810s1_…``); its JA3S carries a
`` (WEAK)`` or `` (INSECURE)`` remark after the hash.

Skipped when the shared corpus is absent."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import netsonde
import pytest
from svcorpus import SV, needs_corpus

pytestmark = needs_corpus

# Suricata's eve field -> netsonde's attribute.
FIELDS = {
    "tls.ja3.hash": "tls.ja3",
    "tls.ja3s.hash": "tls.ja3s",
    "tls.ja4": "tls.ja4",
    "quic.ja4": "quic.ja4",
}


def _checks() -> list[tuple[str, str, str, int, str]]:
    """(capture, test, eve field, expected count, value) for every fingerprint check."""
    if SV is None:
        return []
    out = []
    for path in sorted((SV / "expected").glob("*.json")):
        data: dict[str, Any] = json.loads(path.read_text())
        for test in data.get("tests", []):
            for check in test.get("checks", []) + test.get("derived_checks", []):
                match = check.get("match") or {}
                for field in FIELDS:
                    value = match.get(field)
                    if isinstance(value, str) and isinstance(check.get("count"), int):
                        out.append((data["pcap"], test["test"], field, check["count"], value))
    return out


CHECKS = _checks()


def _values(pcap: str, attribute: str) -> Counter[str]:
    assert SV is not None
    counts: Counter[str] = Counter()
    for flow in netsonde.analyze(SV / "pcap" / pcap):
        value = flow.metadata.get(attribute)
        if isinstance(value, str):
            counts[value] += 1
    return counts


def test_the_corpus_has_reference_fingerprints() -> None:
    fields = {field for _, _, field, _, _ in CHECKS}
    assert fields == set(FIELDS), fields
    assert len(CHECKS) >= 15


@pytest.mark.parametrize(
    ("pcap", "field", "count", "value"),
    [(p, f, n, v) for p, _, f, n, v in CHECKS],
    ids=[f"{t}:{f}:{v[:20]}" for _, t, f, _, v in CHECKS],
)
def test_fingerprint_equals_the_reference(pcap: str, field: str, count: int, value: str) -> None:
    assert _values(pcap, FIELDS[field])[value] == count
