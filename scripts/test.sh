#!/usr/bin/env bash
# Runs every test and check: Rust (fmt, clippy, unit tests), the fuzz targets' build, Python
# (ruff, mypy strict, stub check of the compiled module, pytest). Builds and installs the
# package first, so it works on a fresh clone. Tests that need ../shared skip without it.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== build and install"
python3 -m pip install --quiet -e '.[dev]'
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings
echo "== cargo test"
cargo test --workspace --quiet 2>&1 | grep -E "^(test result|running|failures|---- |thread)" || true
cargo test --workspace --quiet >/dev/null
echo "== fuzz targets build"
(cd fuzz && cargo check --quiet)
echo "== ruff"
python3 -m ruff check python tests benchmarks scripts
echo "== mypy --strict"
python3 -m mypy
echo "== stubtest"
python3 -m mypy.stubtest netsonde._core --allowlist .stubtest-allowlist
echo "== pytest"
python3 -m pytest -q tests
