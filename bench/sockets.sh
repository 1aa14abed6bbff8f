#!/usr/bin/env bash
# Benchmark of `sockdiag sockets --format plain` against `ss -tan` on a namespace holding CONNS TCP connections
# (both ends, so 2 x CONNS sockets plus the listener): median wall time over RUNS runs, CPU time (user and kernel,
# with the floor the kernel work sets), peak resident memory (GNU time's %M), and the ratios sockdiag/ss. Everything
# runs inside a namespace this script makes and removes; the connections are on its loopback. Needs iproute2 (ss,
# ip), python3 and GNU time (apt-get install -y time).
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
# Peak resident memory, the median of 7 runs: one run's figure moves by some 300 KiB with the pages of the binary
# that happen to be mapped (the kernel maps a file's pages 64 KiB at a time around each one used).
peak() {
  local i
  for i in 1 2 3 4 5 6 7; do
    in_ns /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n 1
  done | sort -n | sed -n 4p
}
ours_kb=$(peak "$SOCKDIAG" sockets --format plain)
ss_kb=$(peak ss -tan)
# What the binary costs before any work: most of it the pages of its code and of libc, mapped from the files.
bare_kb=$(peak "$SOCKDIAG" --version)
# ss with what sockdiag shows by default (owners from /proc, tcp_info): the same work, for context.
ssfull_ms=$(median_ms in_ns ss -tanpi)
ssfull_kb=$(peak ss -tanpi)
# CPU time (medians of the kernel's accounting over RUNS runs, ms), the three commands taken in turn so that a
# change of load touches each alike: sockdiag's, its /proc walk's alone (`sockets unix`: the namespace holds no
# Unix socket, so the walk is all it does), ss -tan's. sockdiag's kernel time is work it cannot skip (the dump
# with tcp_info and a readlink per fd of every process): spread over every core with no user time at all, it is
# the floor of its wall time on this machine.
cpu_ms() {
  in_ns python3 - "$RUNS" "$@" <<'PY'
import resource, statistics, subprocess, sys, time
runs, words = int(sys.argv[1]), sys.argv[2:]
cmds, cmd = [], []
for word in words + ["--"]:
    if word == "--":
        cmds.append(cmd)
        cmd = []
    else:
        cmd.append(word)
taken = [([], [], []) for _ in cmds]
for _ in range(runs):
    for cmd, (wall, user, kernel) in zip(cmds, taken):
        before, start = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall.append((time.perf_counter() - start) * 1000)
        user.append((after.ru_utime - before.ru_utime) * 1000)
        kernel.append((after.ru_stime - before.ru_stime) * 1000)
for figures in taken:
    print(" ".join(f"{statistics.median(v):.1f}" for v in figures))
PY
}
{
  read -r ours_wall ours_user ours_kernel
  read -r walk_wall walk_user walk_kernel
  read -r ss_wall ss_user ss_kernel
} < <(cpu_ms "$SOCKDIAG" sockets --format plain -- "$SOCKDIAG" sockets unix --format plain -- ss -tan)
echo "rows:   sockdiag tcp ${ours_rows}, ss -tan ${ss_rows}"
# sockdiag splits its work over two threads, ss runs on one: a busy machine (load near its cores) costs sockdiag
# more, so the ratio only holds beside this line.
echo "load:   $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
echo "time:   sockdiag ${ours_ms} ms, ss -tan ${ss_ms} ms, ratio $(ratio "$ours_ms" "$ss_ms")"
echo "memory: sockdiag ${ours_kb} KiB, ss -tan ${ss_kb} KiB, ratio $(ratio "$ours_kb" "$ss_kb");" \
  "sockdiag --version alone ${bare_kb} KiB"
echo "cpu:    (taken in turn) sockdiag ${ours_wall} ms wall, ${ours_user} user, ${ours_kernel} kernel;" \
  "its owner walk alone ${walk_wall} wall, ${walk_user} user, ${walk_kernel} kernel;" \
  "ss -tan ${ss_wall} wall, ${ss_user} user, ${ss_kernel} kernel; wall ratio $(ratio "$ours_wall" "$ss_wall")"
echo "floor:  sockdiag's kernel work over $(nproc) cores: $(awk -v k="$ours_kernel" -v n="$(nproc)" \
  'BEGIN {printf "%.1f", k / n}') ms, against ss -tan's whole run ${ss_wall} ms"
echo "same work as sockdiag (ss -tanpi): ${ssfull_ms} ms, ${ssfull_kb} KiB; sockdiag/ss -tanpi time $(ratio "$ours_ms" "$ssfull_ms")"
