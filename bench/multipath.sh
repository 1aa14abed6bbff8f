#!/usr/bin/env bash
# Benchmark: `sockdiag trace --multipath` against scamper's MDA traceroute (`tracelb`, Debian package
# scamper) on issue 13's simulated paths (TUN lab in a network namespace; only 203.0.113.0/25 and
# 2001:db8:ff::/48 inside it are probed): a 2-way per-flow balancer at hop 2 and a 4-way at hop 3 converging
# at hop 4, and a path with no balancer; IPv4 and IPv6, UDP, ICMP and TCP (scamper: tcp-sport; sockdiag: raw
# SYNs by destination port). Per tool: median wall time, probes the path received (counted by the simulator,
# the same way for both, at probe TTLs only) and interfaces found of those the scenario has. scamper runs as
# fast as it goes (-p 10000; -W 15, 150 ms between probes, its least; -w 1) for ROUNDS, and for UDP also as
# installed (20 probes/s, 250 ms between probes) for DEFAULT_ROUNDS. paris-traceroute is not packaged in
# Debian bookworm, so it is not compared. Needs root. Bounded: about 6 s a scamper run.
# Usage: bench/multipath.sh [ROUNDS (default 10)] [DEFAULT_ROUNDS (default 2)]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  echo "bench/multipath.sh: needs root (network namespaces and a TUN device)" >&2
  exit 1
fi
command -v scamper >/dev/null 2>&1 || scripts/lab-deps
cargo build --release --locked -q --bin sockdiag --example multipath_bench
exec target/release/examples/multipath_bench target/release/sockdiag "${1:-10}" "${2:-2}"
