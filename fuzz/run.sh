#!/usr/bin/env bash
# Runs every fuzz target for a bounded time: fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]
# Needs cargo-fuzz (`cargo install cargo-fuzz`); RUSTC_BOOTSTRAP lets the stable toolchain
# accept the sanitizer flags cargo-fuzz passes. Crashes land in fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(capture_reader decode defrag stream engine tls_parser x509 quic protocol_parsers dissectors dissector_alone parser_entry_points misc_parsers workers)
# Targets fed whole captures start from the small real ones of ../shared/corpus, if there.
seeds=../../shared/corpus
for t in "${targets[@]}"; do
  echo "== $t ($secs s)"
  case $t in
    capture_reader|engine|workers)
      if [ -d "$seeds" ] && [ -z "$(ls -A "corpus/$t" 2>/dev/null)" ]; then
        mkdir -p "corpus/$t"
        find "$seeds" \( -name '*.pcap' -o -name '*.pcapng' \) -size -24k -exec cp {} "corpus/$t/" \;
      fi ;;
  esac
  RUSTC_BOOTSTRAP=1 cargo fuzz run "$t" -- -max_total_time="$secs" -rss_limit_mb=2048 2>&1 | tail -n 3
done
