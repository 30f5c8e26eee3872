#!/usr/bin/env bash
# Throughput of `portico lb` against HAProxy, same machine, same run, same backends, on loopback.
#
#   bash bench/run.sh                 # builds release, then benchmarks (about 1 minute)
#   PORTICO_BIN=path bash bench/run.sh  # skip the build, use this binary
#   BENCH_ROUNDS=3 BENCH_DURATION=10s   # rounds (the balancers alternate) and wrk duration
#   BASELINE_BIN=path bash bench/run.sh # also runs this (older) portico in each round, to measure a change
#   BENCH_MODE=tcp                      # both balancers relay in mode tcp (option tcplog, no forwardfor)
#   BENCH_GLOBAL_EXTRA=$'nbthread 2\ncpu-map auto:1/1-2 0-1'  # lines added to every balancer's global section
#
# Both balancers get the seed's haproxy.cfg semantics (maxconn 10000, forwardfor, httplog, timeouts,
# round robin over web01/web02 with `check inter 2s fall 3 rise 2`, a stats listener), rewritten to
# loopback ports. The backends are nginx (two server blocks) when installed, else `portico web` if it
# exists. Load: `wrk -t1 -c50 -d10s`, as in DESIGN.md. Everything started here is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

BASE=${BENCH_PORT_BASE:-28080}
DURATION=${BENCH_DURATION:-10s}
ROUNDS=${BENCH_ROUNDS:-2}
PORTICO_ARGS=${PORTICO_ARGS:-}
MODE=${BENCH_MODE:-http}
GLOBAL_EXTRA=${BENCH_GLOBAL_EXTRA:-}
case "$MODE" in
    http | tcp) ;;
    *) echo "bench: BENCH_MODE is 'http' (default) or 'tcp'" >&2; exit 2 ;;
esac
LB_PORT=$BASE
HA_PORT=$((BASE + 10))
BASELINE_PORT=$((BASE + 20))
WEB1=$((BASE + 1))
WEB2=$((BASE + 2))
WORK=$(mktemp -d /tmp/portico-bench.XXXXXX)
PIDS=()

cleanup() {
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    sleep 0.3
    for pid in "${PIDS[@]}"; do
        kill -9 "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

need() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || { echo "bench: $1 is required" >&2; exit 1; }; }
need wrk
need curl

wait_port() { # port
    for _ in $(seq 1 100); do
        if curl -s -o /dev/null "http://127.0.0.1:$1/"; then return 0; fi
        sleep 0.1
    done
    echo "bench: nothing answers on port $1" >&2
    return 1
}

# --- portico binary ----------------------------------------------------------------------------------
if [ -z "${PORTICO_BIN:-}" ]; then
    echo "building release (scripts/build-release.sh)..."
    PORTICO_BIN=$(timeout 1800 bash scripts/build-release.sh 2>"$WORK/build.log") || { tail -30 "$WORK/build.log"; exit 1; }
fi

# --- backends ----------------------------------------------------------------------------------------
if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
    NGINX=$(command -v nginx || echo /usr/sbin/nginx)
    mkdir -p "$WORK/nginx"
    cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $WORK/nginx/body;
    proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fastcgi;
    uwsgi_temp_path $WORK/nginx/uwsgi;
    scgi_temp_path $WORK/nginx/scgi;
    keepalive_requests 100000;
    default_type text/plain;
    server { listen 127.0.0.1:$WEB1; location / { return 200 "web01\n"; } location = /health { return 200 "ok\n"; } }
    server { listen 127.0.0.1:$WEB2; location / { return 200 "web02\n"; } location = /health { return 200 "ok\n"; } }
}
EOF
    "$NGINX" -c "$WORK/nginx/nginx.conf" -g 'daemon off;' &
    PIDS+=($!)
    BACKENDS="nginx 1 worker"
elif "$PORTICO_BIN" web --help >/dev/null 2>&1; then
    mkdir -p "$WORK/www1" "$WORK/www2"
    echo web01 >"$WORK/www1/index.html"
    echo web02 >"$WORK/www2/index.html"
    echo ok >"$WORK/www1/health"
    echo ok >"$WORK/www2/health"
    "$PORTICO_BIN" web --root "$WORK/www1" --listen "127.0.0.1:$WEB1" &
    PIDS+=($!)
    "$PORTICO_BIN" web --root "$WORK/www2" --listen "127.0.0.1:$WEB2" &
    PIDS+=($!)
    BACKENDS="portico web"
else
    echo "bench: neither nginx nor 'portico web' is available for the backends" >&2
    exit 1
fi
wait_port "$WEB1"
wait_port "$WEB2"

# --- the seed's haproxy.cfg on loopback ports ----------------------------------------------------------
write_config() { # file port stats_port maxconn
    local extra="" proxy_mode="    mode http
    log global
    option httplog
    option dontlognull
    option forwardfor"
    if [ -n "$GLOBAL_EXTRA" ]; then extra=$(printf '%s\n' "$GLOBAL_EXTRA" | sed 's/^/    /'); fi
    if [ "$MODE" = tcp ]; then proxy_mode="    mode tcp
    log global
    option tcplog
    option dontlognull"; fi
    cat >"$1" <<EOF
global
    log 127.0.0.1 local2
    maxconn $4
    daemon
$extra

defaults
$proxy_mode
    timeout connect 3s
    timeout client  30s
    timeout server  30s

frontend web_entry
    bind 127.0.0.1:$2
    default_backend web_backend

backend web_backend
    balance roundrobin
    option httpchk GET /health
    http-check expect status 200
    server web01 127.0.0.1:$WEB1 check inter 2s fall 3 rise 2
    server web02 127.0.0.1:$WEB2 check inter 2s fall 3 rise 2

listen stats
    bind 127.0.0.1:$3
    mode http
    stats enable
    stats uri /stats
    stats refresh 10s
    stats auth admin:strong_password_here
EOF
}

# The seed's `maxconn 10000` for Portico (it caps it to what RLIMIT_NOFILE allows and says so).
# HAProxy 2.6 refuses to start with it under a 20,000 descriptor hard limit, so it gets the same
# effective value Portico computes.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
write_config "$WORK/portico.cfg" "$LB_PORT" $((BASE + 4)) 10000
EFFECTIVE=$("$PORTICO_BIN" lb -c -f "$WORK/portico.cfg" 2>&1 | sed -n 's/.*capping maxconn to \([0-9]*\).*/\1/p')
write_config "$WORK/haproxy.cfg" "$HA_PORT" $((BASE + 14)) "${EFFECTIVE:-10000}"
write_config "$WORK/baseline.cfg" "$BASELINE_PORT" $((BASE + 24)) 10000

# CPU ticks (user + system) the process has used so far: the steadier figure on a shared machine.
cpu_ticks() { # pid
    awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0
}

run_wrk() { # label port pid round
    local out="$WORK/$1.$4.wrk"
    local before after requests cpu
    before=$(cpu_ticks "$3")
    timeout 60 wrk -t1 -c50 -d"$DURATION" --latency "http://127.0.0.1:$2/" >"$out" 2>&1 || true
    after=$(cpu_ticks "$3")
    requests=$(awk '/requests in/ {print $1}' "$out")
    # Microseconds of balancer CPU per request (clock ticks are 1/CLK_TCK s).
    cpu=$(awk -v t="$((after - before))" -v r="${requests:-0}" -v hz="$(getconf CLK_TCK)" \
        'BEGIN { if (r > 0) printf "%.1f", t * 1000000 / hz / r; else print "?" }')
    local rps p50 p99 rss errors
    rps=$(awk '/Requests\/sec/ {print $2}' "$out")
    p50=$(awk '$1 == "50%" {print $2}' "$out")
    p99=$(awk '$1 == "99%" {print $2}' "$out")
    errors=$(awk '/Non-2xx|Socket errors/ {print}' "$out" | tr '\n' ' ')
    rss=$(awk '/VmHWM/ {print $2 " " $3}' "/proc/$3/status" 2>/dev/null || echo "?")
    printf 'round %s %-26s %12s req/s   p50 %-9s p99 %-9s CPU/req %6s µs   peak RSS %-10s %s\n' "$4" "$1" \
        "${rps:-?}" "${p50:-?}" "${p99:-?}" "$cpu" "$rss" "$errors"
    case "$1" in
        portico) echo "${rps:-0} $cpu" >>"$WORK/rps.portico" ;;
        baseline*) echo "${rps:-0} $cpu" >>"$WORK/rps.baseline" ;;
        *) echo "${rps:-0} $cpu" >>"$WORK/rps.haproxy" ;;
    esac
}

echo "backends: $BACKENDS on 127.0.0.1:$WEB1 and :$WEB2; load: wrk -t1 -c50 -d$DURATION; $(nproc) CPUs;" \
    "mode $MODE;${GLOBAL_EXTRA:+ global extra: $(printf '%s' "$GLOBAL_EXTRA" | tr '\n' ';');}" \
    "$ROUNDS round(s), the balancers alternating (this machine is shared and noisy)"

"$PORTICO_BIN" lb -f "$WORK/portico.cfg" $PORTICO_ARGS 2>"$WORK/portico.log" &
PORTICO_PID=$!
PIDS+=("$PORTICO_PID")
wait_port "$LB_PORT"

BASELINE_PID=""
if [ -n "${BASELINE_BIN:-}" ]; then
    "$BASELINE_BIN" lb -f "$WORK/baseline.cfg" $PORTICO_ARGS 2>"$WORK/baseline.log" &
    BASELINE_PID=$!
    PIDS+=("$BASELINE_PID")
    wait_port "$BASELINE_PORT"
fi

HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)
HAPROXY_PID=""
if [ -x "$HAPROXY" ]; then
    "$HAPROXY" -f "$WORK/haproxy.cfg" -db 2>"$WORK/haproxy.log" &
    HAPROXY_PID=$!
    PIDS+=("$HAPROXY_PID")
    wait_port "$HA_PORT"
    HAPROXY_LABEL="haproxy $("$HAPROXY" -v | awk 'NR==1 {print $3}')"
else
    echo "haproxy is not installed: no comparison"
fi

for round in $(seq 1 "$ROUNDS"); do
    run_wrk "portico" "$LB_PORT" "$PORTICO_PID" "$round"
    if [ -n "$BASELINE_PID" ]; then
        run_wrk "baseline portico" "$BASELINE_PORT" "$BASELINE_PID" "$round"
    fi
    if [ -n "$HAPROXY_PID" ]; then
        run_wrk "$HAPROXY_LABEL" "$HA_PORT" "$HAPROXY_PID" "$round"
    fi
done

if [ -n "$HAPROXY_PID" ]; then
    awk -v first=portico -v second=haproxy -f bench/compare.awk "$WORK/rps.portico" "$WORK/rps.haproxy"
fi
if [ -n "$BASELINE_PID" ]; then
    echo "against the baseline binary:"
    awk -v first=portico -v second=baseline -f bench/compare.awk "$WORK/rps.portico" "$WORK/rps.baseline"
fi
