#!/usr/bin/env bash
# Benchmark of `sockdiag sockets --format plain` against `ss -tan` on a namespace holding CONNS TCP connections
# (both ends, so 2 x CONNS sockets plus the listener): median wall time over RUNS runs and peak resident memory
# (GNU time's %M), and the ratios sockdiag/ss. Everything runs inside a namespace this script makes and removes;
# the connections are on its loopback. Needs iproute2 (ss, ip), python3 and GNU time (apt-get install -y time).
# Usage: bench/sockets.sh            (CONNS=10000 RUNS=10 to change the sizes, SOCKDIAG=path a binary to measure)
set -euo pipefail

cd "$(dirname "$0")/.."
. bench/common.sh
CONNS=${CONNS:-10000}
export RUNS=${RUNS:-10}
NS=sdg-bench-sockets-$$

[ -x /usr/bin/time ] || { echo "bench/sockets.sh: GNU time is needed (apt-get install -y time)" >&2; exit 3; }
# SOCKDIAG=/path/to/sockdiag measures that binary instead of building this tree's (to compare two builds).
if [ -z "${SOCKDIAG:-}" ]; then
  cargo build --release --quiet --bin sockdiag
  SOCKDIAG=$PWD/target/release/sockdiag
fi

HOLDER=""
CLIENTS=""
cleanup() {
  [ -z "$HOLDER" ] || kill "$HOLDER" 2>/dev/null || true
  [ -z "$CLIENTS" ] || kill "$CLIENTS" 2>/dev/null || true
  ip netns del "$NS" 2>/dev/null || true
}
trap cleanup EXIT
ip netns add "$NS"
ip -n "$NS" link set lo up

# Two processes hold the CONNS connected pairs on the namespace's loopback until killed: one the accepted ends, one
# the connecting ends (each needs CONNS descriptors, under the usual hard limit of 20,000).
ip netns exec "$NS" python3 - "$CONNS" <<'PY' &
import socket, sys, time
n = int(sys.argv[1])
srv = socket.socket(); srv.bind(("127.0.0.1", 7000)); srv.listen(4096)
held = [srv.accept()[0] for _ in range(n)]
time.sleep(600)
PY
HOLDER=$!
sleep 0.5
ip netns exec "$NS" python3 - "$CONNS" <<'PY' &
import socket, sys, time
n = int(sys.argv[1])
held = [socket.create_connection(("127.0.0.1", 7000)) for _ in range(n)]
time.sleep(600)
PY
CLIENTS=$!
for _ in $(seq 1 600); do
  count=$(ip netns exec "$NS" ss -tanH state established | wc -l)
  [ "$count" -ge $((CONNS * 2)) ] && break
  sleep 0.2
done
echo "namespace $NS: $count established TCP sockets"
[ "$count" -ge $((CONNS * 2)) ] || { echo "bench/sockets.sh: the connections did not come up" >&2; exit 3; }

in_ns() { ip netns exec "$NS" "$@"; }
ours_ms=$(median_ms in_ns "$SOCKDIAG" sockets --format plain)
ss_ms=$(median_ms in_ns ss -tan)
ours_rows=$(in_ns "$SOCKDIAG" sockets tcp --format plain | grep -vc '^#\|^PROTO')
ss_rows=$(in_ns ss -tanH | wc -l)
peak() { in_ns /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n 1; }
ours_kb=$(peak "$SOCKDIAG" sockets --format plain)
ss_kb=$(peak ss -tan)
# ss with what sockdiag shows by default (owners from /proc, tcp_info): the same work, for context.
ssfull_ms=$(median_ms in_ns ss -tanpi)
ssfull_kb=$(peak ss -tanpi)
echo "rows:   sockdiag tcp ${ours_rows}, ss -tan ${ss_rows}"
# sockdiag splits its work over two threads, ss runs on one: a busy machine (load near its cores) costs sockdiag
# more, so the ratio only holds beside this line.
echo "load:   $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
echo "time:   sockdiag ${ours_ms} ms, ss -tan ${ss_ms} ms, ratio $(ratio "$ours_ms" "$ss_ms")"
echo "memory: sockdiag ${ours_kb} KiB, ss -tan ${ss_kb} KiB, ratio $(ratio "$ours_kb" "$ss_kb")"
echo "same work as sockdiag (ss -tanpi): ${ssfull_ms} ms, ${ssfull_kb} KiB; sockdiag/ss -tanpi time $(ratio "$ours_ms" "$ssfull_ms")"
