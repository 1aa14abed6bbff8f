#!/usr/bin/env bash
# Benchmark: 1,000 names from a file asked directly of a local dnsmasq on 127.0.0.1:<free port>:
# `sockdiag resolve -f FILE` against a sequential `dig` loop over the same file. Loopback only; dnsmasq
# serves the names from its own config (no-resolv: it forwards nothing), and every run has a deadline.
# Usage: bench/resolve-dns.sh [RUNS]   (RUNS of sockdiag, default 10; the dig loop runs DIG_RUNS times, default 3,
# about 50 s each here: dig's own start-up dominates)
# Needs: dnsmasq (Debian dnsmasq-base), dig (bind9-dnsutils).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
N=${N:-1000}
SD_RUNS=${1:-10}
DIG_RUNS=${DIG_RUNS:-3}
DEADLINE=120

dnsmasq_bin=$(command -v dnsmasq || echo /usr/sbin/dnsmasq)
[ -x "$dnsmasq_bin" ] || { echo "resolve-dns: needs dnsmasq (apt-get install dnsmasq-base)" >&2; exit 1; }
command -v dig >/dev/null || { echo "resolve-dns: needs dig (apt-get install bind9-dnsutils)" >&2; exit 1; }

cargo build --release --locked -q
bin=target/release/sockdiag

work=$(mktemp -d)
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# The zone: N names, one A record each, in 198.51.100.0/24.
conf=$work/dnsmasq.conf
{
  echo "listen-address=127.0.0.1"
  echo "bind-interfaces"
  echo "no-resolv"
  echo "no-hosts"
  echo "no-poll"
  echo "local=/bench.test/"
  echo "cache-size=0"
  for ((i = 1; i <= N; i++)); do
    echo "host-record=h$i.bench.test,198.51.100.$((i % 250 + 1)),300"
  done
} >"$conf"
for ((i = 1; i <= N; i++)); do echo "h$i.bench.test"; done >"$work/names"

# A free port: dnsmasq exits at once when its bind fails, so try a few.
for attempt in 1 2 3 4 5 6 7 8; do
  port=$((20000 + RANDOM % 40000))
  "$dnsmasq_bin" --keep-in-foreground --conf-file="$conf" --port="$port" --pid-file= 2>"$work/dnsmasq.log" &
  pid=$!
  for _ in $(seq 50); do
    if dig @127.0.0.1 -p "$port" +short +time=1 +tries=1 h1.bench.test A 2>/dev/null | grep -q .; then
      break 2
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=""
done
[ -n "$pid" ] || { echo "resolve-dns: dnsmasq did not start: $(cat "$work/dnsmasq.log")" >&2; exit 1; }

sd() { timeout "$DEADLINE" "$bin" resolve "@127.0.0.1:$port" -t A -f "$work/names"; }
dig_loop() {
  timeout "$DEADLINE" bash -c 'while read -r n; do dig @127.0.0.1 -p "$1" +noall +answer +time=2 +tries=1 "$n" A; done <"$2"' \
    _ "$port" "$work/names"
}

# sockdiag must really answer every name before it is timed.
summary=$(sd | tail -1)
case "$summary" in
  "# $N queries in "*": $N answered"*) ;;
  *) echo "resolve-dns: sockdiag said: $summary" >&2; exit 1 ;;
esac
s=$(RUNS=$SD_RUNS median_ms sd)

# Each timed dig loop must answer every name too.
samples=()
for ((r = 0; r < DIG_RUNS; r++)); do
  start=$(date +%s%N)
  answers=$(dig_loop | grep -c 'IN[[:space:]]A[[:space:]]' || true)
  end=$(date +%s%N)
  [ "$answers" -eq "$N" ] || { echo "resolve-dns: dig loop got $answers of $N answers" >&2; exit 1; }
  samples+=($(((end - start) / 1000)))
done
d=$(printf '%s\n' "${samples[@]}" | sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.2f\n", m/1000}')

echo "names: $N from a file, dnsmasq on 127.0.0.1:$port"
echo "sockdiag resolve -f (16 in flight): median ${s} ms over ${SD_RUNS} runs (target < 1000 ms)"
echo "sequential dig loop:               median ${d} ms over ${DIG_RUNS} runs"
echo "ratio dig/sockdiag:                $(ratio "$d" "$s")x"
