#!/usr/bin/env bash
# Benchmark: `sockdiag trace -n` against `traceroute -I -n` on the issue's simulated paths (TUN lab in a
# network namespace; only 203.0.113.0/25 inside it is probed), and on the paths whose target answers,
# `--udp` / `--tcp -p 443` against `traceroute -U` / `-T` and `mtr -r -c 1 --udp/--tcp`; `--mtu` beside a plain
# trace and `tracepath -n` on kernel routers whose link after hop 5 takes 1400 bytes. Needs root.
# Bounded: a few minutes, most of it traceroute on the silent-target path (about 25 s a run) and mtr.
# Usage: bench/trace.sh [ROUNDS (default 15)] [ROUNDS_FOR_THE_SILENT_TARGET (default 3)]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  echo "bench/trace.sh: needs root (network namespaces and a TUN device)" >&2
  exit 1
fi
{ command -v traceroute && command -v mtr; } >/dev/null 2>&1 || scripts/lab-deps
# The --mtu figure runs beside tracepath.
command -v tracepath >/dev/null 2>&1 || apt-get install -y -q iputils-tracepath >/dev/null
cargo build --release --locked -q --bin sockdiag --example trace_bench
exec target/release/examples/trace_bench target/release/sockdiag "${1:-15}" "${2:-3}"
