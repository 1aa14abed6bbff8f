#!/usr/bin/env bash
# Benchmark: `sockdiag trace -n` against `traceroute -I -n` on the issue's simulated paths (TUN lab in a
# network namespace; only 203.0.113.0/25 inside it is probed). Needs root. Bounded: about 2 minutes,
# most of it traceroute on the silent-target path (about 25 s a run).
# Usage: bench/trace.sh [ROUNDS (default 15)] [ROUNDS_FOR_THE_SILENT_TARGET (default 3)]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  echo "bench/trace.sh: needs root (network namespaces and a TUN device)" >&2
  exit 1
fi
command -v traceroute >/dev/null 2>&1 || scripts/lab-deps
cargo build --release --locked -q --bin sockdiag --example trace_bench
exec target/release/examples/trace_bench target/release/sockdiag "${1:-15}" "${2:-3}"
