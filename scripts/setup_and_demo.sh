#!/usr/bin/env bash
# Sets everything up (Rust extension built in release mode, the package and its dev tools
# installed) and runs the main job on the bundled sample capture.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --upgrade pip >/dev/null 2>&1 || true
python3 -m pip install --quiet -e '.[dev]'
# An editable install compiles no bytecode (a wheel's installation does); without it, and
# with PYTHONDONTWRITEBYTECODE set, every command would compile its modules again (10 ms).
python3 -m compileall -q python/netsonde
echo "== netsonde analyze samples/loopback.pcapng -f table"
python3 -m netsonde analyze samples/loopback.pcapng -f table
echo
echo "== first flow record (-f jsonl)"
python3 -m netsonde analyze samples/loopback.pcapng -f jsonl | head -n 1
