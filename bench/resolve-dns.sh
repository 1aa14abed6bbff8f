#!/usr/bin/env bash
# Benchmark: 1,000 names from a file asked directly of a local dnsmasq on 127.0.0.1:<free port>:
# `sockdiag resolve -f FILE` against a sequential `dig` loop over the same file. Loopback only; dnsmasq
# serves the names from its own config (no-resolv: it forwards nothing), and every run has a deadline.
# Usage: bench/resolve-dns.sh [RUNS]   (RUNS of sockdiag, default 10; the dig loop runs DIG_RUNS times, default 3,
# about 50 s each here: dig's own start-up dominates)
# Needs: dnsmasq (Debian dnsmasq-base), dig (bind9-dnsutils).
# DoT (when nsd, openssl and kdig or dig are present; DOT=0 skips it): the same names over DNS over TLS from
# NSD's own DoT service with a certificate made here, `sockdiag resolve @tls://...` (one connection, queries
# pipelined) beside a sequential `kdig +tls` loop (or `dig +tls`: one connection per name either way).
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

# Fails unless sockdiag's closing line ($2) says every name was answered; $1 names what ran.
answered_all() {
  case "$2" in
    "# $N queries in "*": $N answered"*) ;;
    *) echo "resolve-dns: $1 said: $2" >&2; exit 1 ;;
  esac
}

# Median wall time in ms of $1 runs of the peer loop $2 (a function), each of which must answer every name.
median_loop_ms() {
  local samples=() start end answers r
  for ((r = 0; r < $1; r++)); do
    start=$(date +%s%N)
    answers=$("$2" | grep -c 'IN[[:space:]]A[[:space:]]' || true)
    end=$(date +%s%N)
    [ "$answers" -eq "$N" ] || { echo "resolve-dns: $3 got $answers of $N answers" >&2; exit 1; }
    samples+=($(((end - start) / 1000)))
  done
  printf '%s\n' "${samples[@]}" | sort -n |
    awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.2f\n", m/1000}'
}

work=$(mktemp -d)
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  # NSD writes its state files as it stops: wait for it before the directory goes.
  if [ -n "${nsd_pid:-}" ]; then kill "$nsd_pid" 2>/dev/null || true; wait "$nsd_pid" 2>/dev/null || true; fi
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
answered_all "sockdiag" "$(sd | tail -1)"
s=$(RUNS=$SD_RUNS median_ms sd)
d=$(median_loop_ms "$DIG_RUNS" dig_loop "dig loop")

echo "names: $N from a file, dnsmasq on 127.0.0.1:$port"
echo "sockdiag resolve -f (16 in flight): median ${s} ms over ${SD_RUNS} runs (target < 1000 ms)"
echo "sequential dig loop:               median ${d} ms over ${DIG_RUNS} runs"
echo "ratio dig/sockdiag:                $(ratio "$d" "$s")x"

# --- DNS over TLS --------------------------------------------------------------------------------------------
[ "${DOT:-1}" = 1 ] || exit 0
nsd_bin=$(command -v nsd || echo /usr/sbin/nsd)
if [ ! -x "$nsd_bin" ] || ! command -v openssl >/dev/null; then
  echo "DoT: skipped (needs nsd and openssl)"
  exit 0
fi
if command -v kdig >/dev/null; then peer=kdig; else peer=dig; fi
DOT_RUNS=${DOT_RUNS:-3}

# A CA and a certificate for dns.bench.test signed by it.
(
  cd "$work"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=bench CA" \
    -keyout ca.key -out ca.pem 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=dns.bench.test" \
    -keyout dot.key -out dot.csr 2>/dev/null
  printf 'subjectAltName=DNS:dns.bench.test\n' >san.ext
  openssl x509 -req -in dot.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile san.ext -out dot.pem 2>/dev/null
)
{
  echo "\$ORIGIN bench.test."
  echo "\$TTL 300"
  echo "@ SOA ns.bench.test. admin.bench.test. 1 3600 600 86400 300"
  echo "@ NS ns.bench.test."
  echo "ns A 198.51.100.1"
  for ((i = 1; i <= N; i++)); do echo "h$i A 198.51.100.$((i % 250 + 1))"; done
} >"$work/bench.zone"
for attempt in 1 2 3 4 5 6 7 8; do
  dport=$((20000 + RANDOM % 40000))
  tport=$((20000 + RANDOM % 40000))
  cat >"$work/nsd.conf" <<CONF
server:
  ip-address: 127.0.0.1@$dport
  ip-address: 127.0.0.1@$tport
  port: $dport
  tls-port: $tport
  tls-service-key: "$work/dot.key"
  tls-service-pem: "$work/dot.pem"
  server-count: 1
  username: ""
  chroot: ""
  zonesdir: "$work"
  pidfile: "$work/nsd.pid"
  xfrdfile: "$work/xfrd.state"
  zonelistfile: "$work/zone.list"
  cookie-secret-file: "$work/cookie"
  database: ""
  reuseport: no
  rrl-ratelimit: 0
  do-ip6: no
remote-control:
  control-enable: no
zone:
  name: "bench.test"
  zonefile: "bench.zone"
CONF
  "$nsd_bin" -d -c "$work/nsd.conf" 2>"$work/nsd.log" &
  nsd_pid=$!
  for _ in $(seq 100); do
    if dig @127.0.0.1 -p "$dport" +short +time=1 +tries=1 h1.bench.test A 2>/dev/null | grep -q .; then
      break 2
    fi
    kill -0 "$nsd_pid" 2>/dev/null || break
    sleep 0.05
  done
  kill "$nsd_pid" 2>/dev/null || true
  wait "$nsd_pid" 2>/dev/null || true
  nsd_pid=""
done
[ -n "$nsd_pid" ] || { echo "resolve-dns: nsd did not start: $(cat "$work/nsd.log")" >&2; exit 1; }

sd_dot() { timeout "$DEADLINE" "$bin" resolve --ca "$work/ca.pem" "@tls://127.0.0.1:$tport#dns.bench.test" -t A -f "$work/names"; }
peer_loop() {
  if [ "$peer" = kdig ]; then
    timeout "$DEADLINE" bash -c 'while read -r n; do kdig @127.0.0.1 -p "$1" +tls +tls-ca="$2" +tls-hostname=dns.bench.test +noall +answer +time=2 +retry=0 "$n" A; done <"$3"' \
      _ "$tport" "$work/ca.pem" "$work/names"
  else
    timeout "$DEADLINE" bash -c 'while read -r n; do dig @127.0.0.1 -p "$1" +tls +tls-ca="$2" +tls-hostname=dns.bench.test +noall +answer +time=2 +tries=1 "$n" A; done <"$3"' \
      _ "$tport" "$work/ca.pem" "$work/names"
  fi
}

answered_all "sockdiag over DoT" "$(sd_dot | tail -1)"
s_dot=$(RUNS=$SD_RUNS median_ms sd_dot)
p_dot=$(median_loop_ms "$DOT_RUNS" peer_loop "$peer +tls loop")
echo "DoT: NSD $($nsd_bin -v 2>&1 | head -1 | awk '{print $3}') on 127.0.0.1:$tport, certificate from a CA made here"
echo "sockdiag resolve @tls:// -f (one connection): median ${s_dot} ms over ${SD_RUNS} runs (target < 1000 ms)"
echo "sequential $peer +tls loop:               median ${p_dot} ms over ${DOT_RUNS} runs"
echo "ratio $peer/sockdiag:                      $(ratio "$p_dot" "$s_dot")x"
