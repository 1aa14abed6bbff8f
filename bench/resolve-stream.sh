#!/usr/bin/env bash
# Benchmark: endless input. `yes NAME | sockdiag resolve -f - -t A @SERVER` against a local dnsmasq on
# 127.0.0.1:<free port> for SECONDS (default 10): samples sockdiag's RSS every half second and counts the
# answer lines that came out meanwhile. Memory must stay flat (issue 19: under 100 MB) while answers stream.
# Loopback only; dnsmasq answers from its own config (no-resolv: it forwards nothing).
# Usage: bench/resolve-stream.sh [SECONDS]   Needs: dnsmasq (Debian dnsmasq-base).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_RUN=${1:-10}

dnsmasq_bin=$(command -v dnsmasq || echo /usr/sbin/dnsmasq)
[ -x "$dnsmasq_bin" ] || { echo "resolve-stream: needs dnsmasq (apt-get install dnsmasq-base)" >&2; exit 1; }

cargo build --release --locked -q
bin=$PWD/target/release/sockdiag

work=$(mktemp -d)
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

conf=$work/dnsmasq.conf
printf '%s\n' listen-address=127.0.0.1 bind-interfaces no-resolv no-hosts no-poll local=/bench.test/ \
  cache-size=0 host-record=h1.bench.test,198.51.100.1,300 >"$conf"
for attempt in 1 2 3 4 5 6 7 8; do
  port=$((20000 + RANDOM % 40000))
  "$dnsmasq_bin" --keep-in-foreground --conf-file="$conf" --port="$port" --pid-file= 2>"$work/dnsmasq.log" &
  pid=$!
  sleep 0.3
  kill -0 "$pid" 2>/dev/null && break
  pid=""
done
[ -n "$pid" ] || { echo "resolve-stream: dnsmasq did not start: $(cat "$work/dnsmasq.log")" >&2; exit 1; }

# The pipeline runs in its own process group so the whole of it stops at the end.
setsid bash -c 'yes h1.bench.test | exec "$1" resolve -f - -t A "@127.0.0.1:$2" >"$3"' _ "$bin" "$port" "$work/out" &
group=$!
max_kb=0
samples=0
for ((i = 0; i < SECONDS_RUN * 2; i++)); do
  sleep 0.5
  sd=$(pgrep -g "$group" -x sockdiag | head -1 || true)
  [ -n "$sd" ] || { echo "resolve-stream: sockdiag is not running" >&2; exit 1; }
  kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$sd/status")
  samples=$((samples + 1))
  ((kb > max_kb)) && max_kb=$kb
  [ "$i" -eq 1 ] && first_lines=$(grep -c 198.51.100.1 "$work/out" || true)
done
kill -TERM -- "-$group" 2>/dev/null || true
wait "$group" 2>/dev/null || true
answers=$(grep -c 198.51.100.1 "$work/out" || true)
echo "input: yes h1.bench.test | sockdiag resolve -f - -t A @127.0.0.1:$port, for ${SECONDS_RUN} s"
echo "peak RSS over $samples samples: $((max_kb / 1024)) MB ($max_kb kB; limit 100 MB)"
echo "answers printed after 1 s: $first_lines; after ${SECONDS_RUN} s: $answers"
((max_kb < 100 * 1024)) || { echo "resolve-stream: RSS over 100 MB" >&2; exit 1; }
((first_lines > 0)) || { echo "resolve-stream: no answer in the first second" >&2; exit 1; }
