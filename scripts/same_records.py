#!/usr/bin/env python3
"""Compare two JSONL record files as sets: same records, whatever their order and ids.

Usage: same_records.py A.jsonl B.jsonl   (exit 1 and a few differences when they differ)
"""

import json
import sys
from collections import Counter


def load(path: str) -> Counter[str]:
    out: Counter[str] = Counter()
    with open(path) as fh:
        for line in fh:
            r = json.loads(line)
            r.pop("id", None)
            out[json.dumps(r, sort_keys=True)] += 1
    return out


def main() -> int:
    a, b = load(sys.argv[1]), load(sys.argv[2])
    only_a, only_b = a - b, b - a
    if not only_a and not only_b:
        print(f"same {sum(a.values())} records")
        return 0
    print(
        f"{sum(only_a.values())} records only in {sys.argv[1]}, {sum(only_b.values())} only in {sys.argv[2]}"
    )
    for r in list(only_a)[:3]:
        print("<", r[:400])
    for r in list(only_b)[:3]:
        print(">", r[:400])
    return 1


if __name__ == "__main__":
    sys.exit(main())
