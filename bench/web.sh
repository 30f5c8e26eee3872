#!/usr/bin/env bash
# Benchmark: `portico web` against nginx serving the seed's web01 root (index.html "web01", health "ok"),
# both on 127.0.0.1, each loaded with `wrk -t1 -c50 -d10s` GET /. Prints req/s, p50/p99 and the ratio
# portico/nginx from this one run. Builds portico in release first. Every process it starts is stopped on exit.
#
#   bench/web.sh                      # defaults below
#   DURATION=30s CONNECTIONS=100 PORTICO_PORT=18180 NGINX_PORT=18181 bench/web.sh
#   SKIP_BUILD=1 bench/web.sh         # reuse .build-release/release/portico
#   ROUNDS=3 bench/web.sh             # alternate the two servers 3 times; the ratio uses each one's median
# The machine's other load shifts the figures between runs: compare only figures from the same run.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-50}
THREADS=${THREADS:-1}
ROUNDS=${ROUNDS:-1}
PORTICO_PORT=${PORTICO_PORT:-18180}
NGINX_PORT=${NGINX_PORT:-18181}
PATH_UNDER_TEST=${PATH_UNDER_TEST:-/}

for tool in wrk nginx curl; do
    if ! command -v "$tool" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$tool" ]; then
        echo "missing: $tool (apt-get install $tool)" >&2
        exit 1
    fi
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for port in "$PORTICO_PORT" "$NGINX_PORT"; do
    if port_in_use "$port"; then echo "port $port on 127.0.0.1 is taken; set PORTICO_PORT/NGINX_PORT" >&2; exit 1; fi
done

work=$(mktemp -d /tmp/portico-bench-web.XXXXXX)
# nginx workers run as an unprivileged user when started by root: they must be able to read the root.
chmod 755 "$work"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

if [ -z "${SKIP_BUILD:-}" ] || [ ! -x .build-release/release/portico ]; then
    echo "building portico (release, scripts/build-release.sh)..." >&2
    bash scripts/build-release.sh >/dev/null
fi
PORTICO=.build-release/release/portico

# The seed's web01 document root.
mkdir -p "$work/root" "$work/nginx/logs"
echo web01 >"$work/root/index.html"
echo ok >"$work/root/health"

# nginx as the seed runs it (distribution defaults: worker_processes auto, sendfile, access log on),
# with its own prefix, pid and logs so it touches nothing of the system's nginx.
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes auto;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log;
events { worker_connections 1024; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65;
    access_log $work/nginx/logs/access.log;
    client_body_temp_path $work/nginx/body;
    proxy_temp_path $work/nginx/proxy;
    fastcgi_temp_path $work/nginx/fastcgi;
    uwsgi_temp_path $work/nginx/uwsgi;
    scgi_temp_path $work/nginx/scgi;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        root $work/root;
        index index.html;
    }
}
CONF

"$PORTICO" web --root "$work/root" --listen "127.0.0.1:$PORTICO_PORT" --access-log "$work/portico-access.log" \
    --name web01 2>"$work/portico.err" &
portico_pid=$!
pids+=("$portico_pid")
"$NGINX" -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' 2>"$work/nginx.err" &
nginx_pid=$!
pids+=("$nginx_pid")

wait_ready() {
    for _ in $(seq 100); do
        if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/health")" = 200 ]; then return 0; fi
        sleep 0.1
    done
    echo "server on port $1 did not become ready" >&2
    cat "$work"/*.err >&2
    return 1
}
wait_ready "$PORTICO_PORT"
wait_ready "$NGINX_PORT"
[ "$(curl -s "http://127.0.0.1:$PORTICO_PORT/")" = web01 ] || { echo "portico did not serve web01" >&2; exit 1; }

# wrk's latency figures come in us/ms/s; print them in ms.
to_ms() {
    awk -v v="$1" 'BEGIN {
        if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
        else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
        else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v * 1000 }
        else print v }'
}

# CPU time (user+system, clock ticks) used so far by a process and its children (nginx's workers).
cpu_ticks() {
    local total=0 pid
    for pid in "$1" $(pgrep -P "$1" || true); do
        # Fields 14 and 15 of /proc/PID/stat, counted after the ")" that ends the command name.
        total=$((total + $(sed 's/.*) //' "/proc/$pid/stat" | awk '{ print $12 + $13 }')))
    done
    echo "$total"
}
TICKS_PER_SECOND=$(getconf CLK_TCK)

run_wrk() {
    local name=$1 port=$2 pid=$3 out="$work/wrk-$1.txt"
    # A short warm-up so both servers start with warm caches and connections.
    wrk -t"$THREADS" -c"$CONNECTIONS" -d2s "http://127.0.0.1:$port$PATH_UNDER_TEST" >/dev/null
    local before after
    before=$(cpu_ticks "$pid")
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "http://127.0.0.1:$port$PATH_UNDER_TEST" >"$out"
    after=$(cpu_ticks "$pid")
    local requests cpu_us
    requests=$(awk '/requests in/ { print $1 }' "$out")
    # Server CPU per request: unlike req/s, it barely depends on what else the machine is doing.
    cpu_us=$(awk -v t=$((after - before)) -v hz="$TICKS_PER_SECOND" -v n="$requests" \
        'BEGIN { printf "%.1f", (n > 0 ? t / hz * 1e6 / n : 0) }')
    echo "$cpu_us" >>"$work/cpu-$name"
    local rps p50 p99 errors
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
    p50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$out")")
    p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")
    errors=$(awk '/Non-2xx|Socket errors/ {print}' "$out" | tr '\n' ' ')
    printf '%-8s %10s req/s   p50 %7s ms   p99 %8s ms   server CPU %6s us/req   %s\n' \
        "$name" "$rps" "$p50" "$p99" "$cpu_us" "${errors:-no errors}"
    echo "$rps" >>"$work/rps-$name"
}

median() {
    sort -n "$1" | awk '{ v[NR] = $1 }
        END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

nginx_version=$("$NGINX" -v 2>&1 | sed 's/.*: //')
echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION GET $PATH_UNDER_TEST on 127.0.0.1 ($(nproc) cores, $nginx_version)"
for round in $(seq "$ROUNDS"); do
    # Alternate who goes first, so a drift in the machine's load does not always favour the same server.
    if [ $((round % 2)) -eq 1 ]; then
        run_wrk portico "$PORTICO_PORT" "$portico_pid"
        run_wrk nginx "$NGINX_PORT" "$nginx_pid"
    else
        run_wrk nginx "$NGINX_PORT" "$nginx_pid"
        run_wrk portico "$PORTICO_PORT" "$portico_pid"
    fi
done
awk -v p="$(median "$work/rps-portico")" -v n="$(median "$work/rps-nginx")" -v r="$ROUNDS" \
    'BEGIN { printf "ratio portico/nginx: %.2f (req/s%s)\n", p / n, (r > 1 ? ", medians of " r " rounds" : "") }'
awk -v p="$(median "$work/cpu-portico")" -v n="$(median "$work/cpu-nginx")" \
    'BEGIN { printf "server CPU per request portico/nginx: %.2f (lower is better)\n", p / n }'
