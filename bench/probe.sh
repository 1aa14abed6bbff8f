#!/usr/bin/env bash
# Benchmark: sockdiag probe against nmap -sT -Pn -n on the same lab targets (network namespaces, the
# simulated TUN path), medians and ratios. Root only (it builds namespaces); lab/loopback traffic only.
#   BENCH_RUNS=5 bash bench/probe.sh
#   BENCH_ONLY=ratelimit bash bench/probe.sh   # ICMP rate limits: verdicts right and time, beside nmap -sT
#   BENCH_ONLY=scale bash bench/probe.sh       # a /24 on one port, 1,000 ports on 16 hosts
#   BENCH_ONLY=scale-ports bash bench/probe.sh # only the 1,000 ports on 16 hosts (scale-hosts: only the /24)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
  echo "bench/probe.sh: needs root (network namespaces)" >&2
  exit 1
fi
if ! command -v nmap >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nmap >/dev/null \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nmap; }
fi
bash scripts/lab-deps >/dev/null
export BENCH_RUNS="${BENCH_RUNS:-5}"
# Wall times on a shared machine follow its load: the figures are comparable only with it beside them.
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
status=0
timeout 1200 cargo bench --bench probe_lab || status=$?
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
exit "$status"
