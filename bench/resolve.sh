#!/usr/bin/env bash
# Benchmark: `sockdiag resolve localhost` against `getent ahosts localhost` (both dominated by process start).
# Resolves only localhost, from /etc/hosts: no DNS traffic. Usage: bench/resolve.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
export RUNS=${1:-50}
cargo build --release --locked -q
bin=target/release/sockdiag
"$bin" resolve localhost >/dev/null
getent ahosts localhost >/dev/null
# Interleave the two so drift in machine load hits both alike.
sd=() ge=()
for round in 1 2 3; do
  sd+=("$(median_ms "$bin" resolve localhost)")
  ge+=("$(median_ms getent ahosts localhost)")
done
med() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
s=$(med "${sd[@]}") g=$(med "${ge[@]}")
echo "sockdiag resolve localhost: median ${s} ms over 3x${RUNS} runs"
echo "getent ahosts localhost:    median ${g} ms over 3x${RUNS} runs"
echo "ratio sockdiag/getent:      $(ratio "$s" "$g") (target <= 2)"
