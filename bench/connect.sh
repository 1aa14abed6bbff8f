#!/usr/bin/env bash
# Benchmark: `sockdiag probe --tls --http` beside `curl -I -w` on the same TLS 1.3 server over the same 50 ms path
# (two lab namespaces joined by a link that delays each packet 25 ms each way), medians of each phase and of each
# whole process run. Root only (it builds namespaces); lab traffic only. The release binary is measured
# (built here if missing); SOCKDIAG_BIN picks another.
#   BENCH_RUNS=20 bash bench/connect.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
  echo "bench/connect.sh: needs root (network namespaces)" >&2
  exit 1
fi
command -v curl >/dev/null || {
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends curl
}
bash scripts/lab-deps >/dev/null
if [ -z "${SOCKDIAG_BIN:-}" ]; then
  cargo build --release --quiet
  export SOCKDIAG_BIN="$PWD/target/release/sockdiag"
fi
export BENCH_RUNS="${BENCH_RUNS:-10}" SOCKDIAG_REQUIRE_LAB=1
exec timeout 900 cargo test --quiet --test probe_tls_timing bench_beside_curl -- --ignored --nocapture \
  2>&1 | grep -v '^running\|^test result\|^$'
