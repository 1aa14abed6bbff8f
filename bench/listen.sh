#!/usr/bin/env bash
# Benchmark of `sockdiag listen` (echo) against `socat TCP-LISTEN:P,reuseaddr,fork PIPE` on loopback.
# Prints medians over RUNS runs and the ratio sockdiag/socat for:
#   throughput  200 MB through one echoed connection, sent and read concurrently (MB/s), and the CPU time the
#               server spent on it (the ratio is socat's over sockdiag's: a figure load elsewhere hardly moves)
#   lockstep    64 KiB request/response, one at a time (MB/s)
#   hold        10,000 concurrent idle connections, each confirmed by an echoed byte; resident memory
#   burst       1,000 clients connecting at the same instant, each served (count, ms)
#   stall       the same burst with the server's log (sockdiag's text log, socat -d -d) going to a pipe nobody
#               reads: clients served, log lines dropped, and the time from SIGINT to the exit (ms)
#   http        requests/s of one client, GET after GET (keep-alive where the server allows it): --mode http
#               beside `python3 -m http.server` and socat replying a fixed response (forks a shell per request); once
#               as the scheduler places them and once with server and client on CPU 0 (in a VM a cross-CPU wake-up
#               can cost more than the request)
#   flood       100 clients connected idle, then each echoes FLOOD_EACH bytes (1 GiB in all) reading late, so
#               the server must hold data; resident memory idle and after, every client still connected
#   tls         TLS_BYTES echoed through one TLS connection (MB/s): `listen --cert/--key` beside
#               `socat OPENSSL-LISTEN:...,fork PIPE`, the same P-256 certificate, the same client for both
#               (socat OPENSSL:..., sending and reading concurrently); medians over RUNS runs
# Loopback only; every client run is bounded by `timeout`. Needs socat (apt-get install -y socat).
# Usage: bench/listen.sh            (RUNS=3 HOLD=10000 BURST=1000 BYTES=200000000 to change the sizes;
#                                     SOCKDIAG_BIN=... LOAD_BIN=... to run binaries built before;
#                                     ONLY=stall runs only the stall and flood figures, ONLY=http only http,
#                                     ONLY=tls only tls, ONLY=hold only the idle memory; TLS_BYTES=100000000
#                                     its size)
set -euo pipefail

cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
HOLD=${HOLD:-10000}
BURST=${BURST:-1000}
BYTES=${BYTES:-200000000}
FLOOD_CLIENTS=${FLOOD_CLIENTS:-100}
FLOOD_EACH=${FLOOD_EACH:-10737418}
ONLY=${ONLY:-all}
HTTP_FAST=${HTTP_FAST:-50000}
TLS_BYTES=${TLS_BYTES:-100000000}
HTTP_SLOW=${HTTP_SLOW:-2000}
LOCK_SIZE=65536
LOCK_ROUNDS_SOCKDIAG=${LOCK_ROUNDS_SOCKDIAG:-5000}
# socat without TCP_NODELAY stalls on Nagle + delayed ACK (about 40 ms a round): a few rounds suffice.
LOCK_ROUNDS_SOCAT=${LOCK_ROUNDS_SOCAT:-30}

command -v socat >/dev/null || { echo "bench/listen.sh: socat is needed (apt-get install -y socat)" >&2; exit 3; }
# SOCKDIAG_BIN and LOAD_BIN name binaries built earlier (to set two builds side by side); nothing is built then.
if [ -z "${SOCKDIAG_BIN:-}" ] || [ -z "${LOAD_BIN:-}" ]; then
    cargo build --release --quiet --bin sockdiag --example listen_load
fi
SOCKDIAG=${SOCKDIAG_BIN:-target/release/sockdiag}
LOAD=${LOAD_BIN:-target/release/examples/listen_load}

# Both ends of 10,000 connections need descriptors: raise the limit for this shell and its children.
want=$((HOLD * 2 + 1000))
ulimit -n "$want" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" -lt $((HOLD + 200)) ]; then
    echo "bench/listen.sh: ulimit -n is $(ulimit -n); too low for HOLD=$HOLD" >&2
    exit 3
fi

SERVER_PID=""
WORK=$(mktemp -d)
cleanup() {
    stop_server
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_port() {
    for _ in $(seq 1 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        sleep 0.05
    done
    echo "bench/listen.sh: nothing listens on port $1" >&2
    exit 3
}

# start_server sockdiag|socat: sets SERVER_PID and PORT.
start_server() {
    case "$1" in
    sockdiag)
        # Remove the last run's output first: the redirection below truncates only once the child runs.
        rm -f "$WORK/stderr"
        # Every bench client comes from 127.0.0.1: the per-address share (an eighth of --max-conns by default)
        # must be the whole.
        "$SOCKDIAG" listen 0 --tcp -b 127.0.0.1 --quiet --max-conns $((HOLD + 1000)) \
            --max-conns-per-address $((HOLD + 1000)) >"$WORK/summary" 2>"$WORK/stderr" &
        SERVER_PID=$!
        for _ in $(seq 1 100); do
            PORT=$(sed -n 's/^listening tcp 127.0.0.1:\([0-9]*\).*/\1/p' "$WORK/stderr" 2>/dev/null || true)
            [ -n "$PORT" ] && break
            sleep 0.05
        done
        ;;
    socat)
        PORT=$(free_port)
        socat "TCP-LISTEN:$PORT,bind=127.0.0.1,reuseaddr,fork" PIPE &
        SERVER_PID=$!
        ;;
    esac
    wait_port "$PORT"
}

stop_server() {
    [ -n "$SERVER_PID" ] || return 0
    local children
    children=$(ps -o pid= --ppid "$SERVER_PID" 2>/dev/null || true)
    kill -INT "$SERVER_PID" 2>/dev/null || true
    # socat's forked children end with their connections; any left are ended by pid.
    for c in $children; do kill "$c" 2>/dev/null || true; done
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}

# Resident memory (KiB) of the server: the process and, for socat, every forked child.
server_rss_kib() {
    local total=0 pid kib
    for pid in "$SERVER_PID" $(ps -o pid= --ppid "$SERVER_PID" 2>/dev/null || true); do
        # A child that just exited (a zombie) has no VmRSS line.
        kib=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
        total=$((total + ${kib:-0}))
    done
    echo "$total"
}

# CPU seconds (user + system) the server has used, its reaped children (socat's forks) included: a figure the
# load from elsewhere on a busy machine changes far less than a rate does.
server_cpu_s() {
    awk '{ printf "%.2f\n", ($14 + $15 + $16 + $17) / 100 }' "/proc/$SERVER_PID/stat" 2>/dev/null || echo 0
}

median() {
    sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "-" }'
}

declare -A R
TOOLS="sockdiag socat"
for tool in $TOOLS; do : >"$WORK/$tool.t"; : >"$WORK/$tool.cpu"; : >"$WORK/$tool.l"; : >"$WORK/$tool.b"; : >"$WORK/$tool.bms"; R[$tool,stalled]=0; done

if [ "$ONLY" = all ]; then
# Runs alternate between the servers, so load from elsewhere on the machine falls on both alike.
for run in $(seq 1 "$RUNS"); do
    for tool in $TOOLS; do
        echo "== run $run: $tool" >&2
        start_server "$tool"
        if out=$(timeout 120 "$LOAD" throughput "127.0.0.1:$PORT" "$BYTES"); then
            echo "$out" >>"$WORK/$tool.t"
            # socat's child ends with the connection; a moment for the parent to reap it (and count its CPU).
            sleep 0.2
            server_cpu_s >>"$WORK/$tool.cpu"
        else
            R[$tool,stalled]=$((${R[$tool,stalled]} + 1))
        fi
        stop_server
        start_server "$tool"
        rounds=$LOCK_ROUNDS_SOCKDIAG
        [ "$tool" = socat ] && rounds=$LOCK_ROUNDS_SOCAT
        timeout 120 "$LOAD" lockstep "127.0.0.1:$PORT" "$LOCK_SIZE" "$rounds" >>"$WORK/$tool.l"
        stop_server
        start_server "$tool"
        out=$(timeout 120 "$LOAD" burst "127.0.0.1:$PORT" "$BURST")
        echo "$out" | awk '{print $2}' >>"$WORK/$tool.b"
        echo "$out" | awk '{print $4}' >>"$WORK/$tool.bms"
        stop_server
    done
done
for tool in $TOOLS; do
    R[$tool,throughput]=$( [ -s "$WORK/$tool.t" ] && median <"$WORK/$tool.t" || echo 0)
    R[$tool,cpu]=$( [ -s "$WORK/$tool.cpu" ] && median <"$WORK/$tool.cpu" || echo 0)
    R[$tool,lockstep]=$(median <"$WORK/$tool.l")
    R[$tool,burst]=$(median <"$WORK/$tool.b")
    R[$tool,burst_ms]=$(median <"$WORK/$tool.bms")
    echo "$tool throughput runs (MB/s): $(tr '\n' ' ' <"$WORK/$tool.t")(${R[$tool,stalled]} stalled)" >&2
    echo "$tool lockstep runs (MB/s): $(tr '\n' ' ' <"$WORK/$tool.l")" >&2
    echo "$tool burst runs (ms): $(tr '\n' ' ' <"$WORK/$tool.bms")" >&2
done

fi

if [ "$ONLY" = all ] || [ "$ONLY" = hold ]; then
# Hold: once per server; the client holds every connection 3 s after the last one is confirmed.
for tool in $TOOLS; do
    echo "== hold $HOLD: $tool" >&2
    start_server "$tool"
    base=$(server_rss_kib)
    timeout 300 "$LOAD" hold "127.0.0.1:$PORT" "$HOLD" 3000 >"$WORK/h" &
    client=$!
    for _ in $(seq 1 3000); do
        grep -q '^held' "$WORK/h" && break
        sleep 0.1
    done
    sleep 1
    R[$tool,rss_base]=$base
    R[$tool,rss]=$(server_rss_kib)
    wait "$client" || true
    R[$tool,held]=$(awk '/^held/ {print $2}' "$WORK/h")
    R[$tool,alive]=$(awk '/^alive/ {print $2}' "$WORK/h")
    echo "hold: $(tr '\n' ' ' <"$WORK/h")rss ${R[$tool,rss]} KiB" >&2
    stop_server
done

per_conn() {
    awk -v r="$1" -v b="$2" -v n="$3" 'BEGIN { if (n > 0) printf "%.1f", (r - b) / n; else print "-" }'
}

printf '\n%-44s %14s %14s\n' "idle connections" sockdiag socat
printf '%-44s %14s %14s\n' "$HOLD idle connections held / still alive" \
    "${R[sockdiag,held]}/${R[sockdiag,alive]}" "${R[socat,held]}/${R[socat,alive]}"
printf '%-44s %14s %14s\n' "  server resident memory while held (MiB)" \
    "$(awk -v k="${R[sockdiag,rss]}" 'BEGIN{printf "%.1f", k/1024}')" \
    "$(awk -v k="${R[socat,rss]}" 'BEGIN{printf "%.1f", k/1024}')"
printf '%-44s %14s %14s\n' "  per connection (KiB)" \
    "$(per_conn "${R[sockdiag,rss]}" "${R[sockdiag,rss_base]}" "${R[sockdiag,held]}")" \
    "$(per_conn "${R[socat,rss]}" "${R[socat,rss_base]}" "${R[socat,held]}")"
fi
[ "$ONLY" = hold ] && exit 0

if [ "$ONLY" = all ]; then
printf '\n%-44s %14s %14s %8s\n' "figure (median of $RUNS runs)" sockdiag socat ratio
printf '%-44s %14s %14s %8s\n' "throughput, $((BYTES / 1000000)) MB echoed (MB/s)" \
    "${R[sockdiag,throughput]}" "${R[socat,throughput]}" "$(ratio "${R[sockdiag,throughput]}" "${R[socat,throughput]}")"
printf '%-44s %14s %14s\n' "  runs that stalled" "${R[sockdiag,stalled]}" "${R[socat,stalled]}"
printf '%-44s %14s %14s %8s\n' "  server CPU for it (s, user + system)" \
    "${R[sockdiag,cpu]}" "${R[socat,cpu]}" "$(ratio "${R[socat,cpu]}" "${R[sockdiag,cpu]}")"
printf '%-44s %14s %14s %8s\n' "lock-step 64 KiB request/response (MB/s)" \
    "${R[sockdiag,lockstep]}" "${R[socat,lockstep]}" "$(ratio "${R[sockdiag,lockstep]}" "${R[socat,lockstep]}")"
printf '%-44s %14s %14s\n' "$BURST clients at once: served" "${R[sockdiag,burst]}" "${R[socat,burst]}"
printf '%-44s %14s %14s\n' "  until the last was served (ms)" "${R[sockdiag,burst_ms]}" "${R[socat,burst_ms]}"
fi

# stall_run sockdiag|socat: the server's log goes into a FIFO this script holds open and never reads.
stall_run() {
    local tool=$1 fifo="$WORK/unread" out t0 t1
    rm -f "$fifo"
    mkfifo "$fifo"
    exec 3<>"$fifo"
    PORT=$(free_port)
    case "$tool" in
    sockdiag) "$SOCKDIAG" listen "$PORT" --tcp -b 127.0.0.1 >"$WORK/summary" 2>"$fifo" & ;;
    socat) socat -d -d "TCP-LISTEN:$PORT,bind=127.0.0.1,reuseaddr,fork" PIPE 2>"$fifo" & ;;
    esac
    SERVER_PID=$!
    wait_port "$PORT"
    out=$(timeout 60 "$LOAD" burst "127.0.0.1:$PORT" "$BURST" || echo "served 0 in - ms")
    R[$tool,stall_served]=$(echo "$out" | awk '{print $2}')
    # socat's forked children, stuck on the full log, outlive their parent: name them while they are its own.
    local children
    children=$(ps -o pid= --ppid "$SERVER_PID" 2>/dev/null || true)
    t0=$(date +%s%N)
    kill -INT "$SERVER_PID"
    # A server stuck on its log never exits: give it 10 s, then end it by pid.
    for _ in $(seq 1 1000); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.01; done
    t1=$(date +%s%N)
    if kill -0 "$SERVER_PID" 2>/dev/null; then
        R[$tool,stall_exit_ms]="stuck"
        kill -KILL "$SERVER_PID" 2>/dev/null || true
    else
        R[$tool,stall_exit_ms]=$(((t1 - t0) / 1000000))
    fi
    for c in $children $(ps -o pid= --ppid "$SERVER_PID" 2>/dev/null || true); do kill -KILL "$c" 2>/dev/null || true; done
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
    exec 3>&-
    R[$tool,stall_dropped]=-
    if [ "$tool" = sockdiag ]; then
        R[$tool,stall_dropped]=$(sed -n 's/.*; \([0-9]*\) log lines\? dropped.*/\1/p' "$WORK/summary" | tail -1)
        R[$tool,stall_dropped]=${R[$tool,stall_dropped]:-0}
    fi
}

# flood_run sockdiag|socat: resident memory with FLOOD_CLIENTS idle, then after each echoed FLOOD_EACH bytes.
flood_run() {
    local tool=$1
    start_server "$tool"
    timeout 600 "$LOAD" flood "127.0.0.1:$PORT" "$FLOOD_CLIENTS" "$FLOOD_EACH" 2000 >"$WORK/f" &
    local client=$!
    for _ in $(seq 1 600); do grep -q '^connected' "$WORK/f" && break; sleep 0.1; done
    sleep 1
    R[$tool,flood_idle]=$(server_rss_kib)
    for _ in $(seq 1 6000); do grep -q '^flooded' "$WORK/f" && break; sleep 0.1; done
    sleep 1
    R[$tool,flood_after]=$(server_rss_kib)
    wait "$client" || true
    R[$tool,flood_exact]=$(awk '/^flooded/ {print $5}' "$WORK/f")
    echo "flood: $(tr '\n' ' ' <"$WORK/f")" >&2
    stop_server
}

# http_run sockdiag|python|socat [CPU]: requests/s of one client making N requests; with CPU, the server and the
# client both run on that one CPU (taskset).
http_run() {
    local tool=$1 n=$HTTP_SLOW
    local -a pin=()
    [ -n "${2:-}" ] && pin=(taskset -c "$2")
    PORT=$(free_port)
    case "$tool" in
    sockdiag)
        n=$HTTP_FAST
        "${pin[@]}" "$SOCKDIAG" listen "$PORT" --tcp -b 127.0.0.1 --mode http --reply ok --quiet >/dev/null 2>&1 &
        ;;
    python) (cd "$WORK" && exec "${pin[@]}" python3 -m http.server "$PORT" --bind 127.0.0.1) >/dev/null 2>&1 & ;;
    socat)
        # The reply script reads the request head first: a server that closes with the request unread resets
        # the connection, and the client loses the answer.
        cat >"$WORK/reply.sh" <<'SH'
while IFS= read -r line; do
    case "$line" in "" | "$(printf '\r')") break ;; esac
done
printf 'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok'
SH
        "${pin[@]}" socat "TCP-LISTEN:$PORT,bind=127.0.0.1,reuseaddr,fork" SYSTEM:"sh $WORK/reply.sh" >/dev/null 2>&1 &
        ;;
    esac
    SERVER_PID=$!
    wait_port "$PORT"
    local out
    out=$(timeout 300 "${pin[@]}" "$LOAD" http "127.0.0.1:$PORT" "$n" || echo "requests/s 0 ok 0")
    echo "http $tool${2:+ on CPU $2}: $out ($n requests)" >&2
    R[$tool,http${2:+_pinned}]=$(echo "$out" | awk '{print $2}')
    R[$tool,http${2:+_pinned}_ok]=$(echo "$out" | awk '{print $4}')/$n
    # A background job of a script ignores SIGINT, and python has no handler of its own: end it with SIGTERM.
    [ "$tool" = python ] && kill "$SERVER_PID" 2>/dev/null
    stop_server
}

# tls_run sockdiag|socat: MB/s of TLS_BYTES echoed through one TLS connection (0 when the echo was short).
tls_run() {
    local tool=$1 t0 t1 got
    PORT=$(free_port)
    case "$tool" in
    sockdiag)
        "$SOCKDIAG" listen "$PORT" --tcp -b 127.0.0.1 --quiet --cert "$WORK/cert.pem" --key "$WORK/key.pem" \
            >/dev/null 2>&1 &
        ;;
    socat)
        # -b 4096: socat is the only reader of its own PIPE, and a blocking write into it larger than the room
        # select promised (one 4 KiB page) waits for itself - a TLS record read 8 KiB at a time (the default)
        # stalled the echo now and then. 4 KiB writes always fit.
        socat -b 4096 \
            "OPENSSL-LISTEN:$PORT,bind=127.0.0.1,reuseaddr,fork,cert=$WORK/cert.pem,key=$WORK/key.pem,verify=0" \
            PIPE >/dev/null 2>&1 &
        ;;
    esac
    SERVER_PID=$!
    wait_port "$PORT"
    t0=$(date +%s%N)
    # -t 30: after its input ends, the client waits for the rest of the echo (socat's default is 0.5 s).
    got=$(head -c "$TLS_BYTES" /dev/zero | timeout 120 socat -t 30 -b 65536 - "OPENSSL:127.0.0.1:$PORT,verify=0" |
        wc -c || true)
    t1=$(date +%s%N)
    stop_server
    if [ "${got:-0}" -eq "$TLS_BYTES" ]; then
        awk -v b="$TLS_BYTES" -v ns="$((t1 - t0))" 'BEGIN { printf "%.0f\n", b / 1e6 / (ns / 1e9) }'
    else
        echo "tls $tool: echoed ${got:-0} of $TLS_BYTES bytes" >&2
        echo 0
    fi
}

if [ "$ONLY" = all ] || [ "$ONLY" = tls ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=localhost \
        -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
    : >"$WORK/sockdiag.tls"; : >"$WORK/socat.tls"
    for run in $(seq 1 "$RUNS"); do
        for tool in $TOOLS; do
            echo "== tls run $run: $tool" >&2
            tls_run "$tool" >>"$WORK/$tool.tls"
        done
    done
    for tool in $TOOLS; do
        R[$tool,tls]=$(median <"$WORK/$tool.tls")
        echo "$tool tls runs (MB/s): $(tr '\n' ' ' <"$WORK/$tool.tls")" >&2
    done
    printf '\n%-44s %14s %14s %8s\n' "TLS echo (median of $RUNS runs)" "sockdiag" "socat OPENSSL" ratio
    printf '%-44s %14s %14s %8s\n' "  $((TLS_BYTES / 1000000)) MB through one connection (MB/s)" \
        "${R[sockdiag,tls]}" "${R[socat,tls]}" "$(ratio "${R[sockdiag,tls]}" "${R[socat,tls]}")"
fi
[ "$ONLY" = tls ] && exit 0

if [ "$ONLY" = all ] || [ "$ONLY" = http ]; then
    # One client waits for each answer, so a request costs two wake-ups between the client and the server. When
    # they run on different CPUs of a virtual machine each wake-up can cost more than the server's work (a
    # cross-CPU interrupt through the hypervisor); on one CPU the figure is the work itself. Both are shown.
    for tool in sockdiag python socat; do
        http_run "$tool"
        http_run "$tool" 0
    done
    for placement in http http_pinned; do
        title="http, one client (requests/s)"
        [ "$placement" = http_pinned ] && title="http, server and client on CPU 0"
        printf '\n%-44s %14s %14s %14s\n' "$title" sockdiag "python3 -m" socat
        printf '%-44s %14s %14s %14s\n' "  requests/s" "${R[sockdiag,$placement]}" "${R[python,$placement]}" \
            "${R[socat,$placement]}"
        printf '%-44s %14s %14s %14s\n' "  answered 200" "${R[sockdiag,${placement}_ok]}" \
            "${R[python,${placement}_ok]}" "${R[socat,${placement}_ok]}"
        printf '%-44s %14s\n' "  sockdiag / python" "$(ratio "${R[sockdiag,$placement]}" "${R[python,$placement]}")"
    done
fi
[ "$ONLY" = http ] && exit 0

for tool in $TOOLS; do
    echo "== stall: $tool" >&2
    stall_run "$tool"
    echo "== flood: $tool" >&2
    flood_run "$tool"
done
mib() { awk -v k="$1" 'BEGIN{printf "%.1f", k/1024}'; }
printf '\n%-44s %14s %14s\n' "log to a pipe nobody reads" sockdiag "socat -d -d"
printf '%-44s %14s %14s\n' "  $BURST clients at once: served" "${R[sockdiag,stall_served]}" "${R[socat,stall_served]}"
printf '%-44s %14s %14s\n' "  log lines dropped (counted in the summary)" "${R[sockdiag,stall_dropped]}" "${R[socat,stall_dropped]}"
printf '%-44s %14s %14s\n' "  SIGINT to exit (ms)" "${R[sockdiag,stall_exit_ms]}" "${R[socat,stall_exit_ms]}"
printf '%-44s %14s %14s\n' "flood: $FLOOD_CLIENTS clients x $((FLOOD_EACH >> 20)) MiB echoed, exact" \
    "${R[sockdiag,flood_exact]}" "${R[socat,flood_exact]}"
printf '%-44s %14s %14s\n' "  resident memory idle / after (MiB)" \
    "$(mib "${R[sockdiag,flood_idle]}") / $(mib "${R[sockdiag,flood_after]}")" \
    "$(mib "${R[socat,flood_idle]}") / $(mib "${R[socat,flood_after]}")"
