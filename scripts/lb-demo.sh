#!/usr/bin/env bash
# The seed's load balancer on loopback: fixtures/seed/haproxy.cfg, unchanged except for its addresses
# (the seed's 192.168.10.x servers and port 80 become 127.0.0.1 ports, so nothing leaves this machine),
# in front of two nginx backends (or `portico web` without nginx) that answer "web01" and "web02" (and /health), as in the seed.
#
# Shows: `portico lb -c`, round robin web01/web02/web01, web02 killed → marked DOWN by the health checks
# with HAProxy's log line and no request lost, web02 back → UP. Everything started here is stopped on exit.
# Needs no root and no namespaces (the main job, `scripts/demo.sh`, runs the whole lab); it needs curl.
set -euo pipefail
cd "$(dirname "$0")/.."

BASE=${DEMO_PORT_BASE:-18080}
WORK=$(mktemp -d /tmp/portico-demo.XXXXXX)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    sleep 0.3
    for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

NGINX=${DEMO_NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
if [ -z "${PORTICO_BIN:-}" ]; then
    swift build --product portico >/dev/null
    PORTICO_BIN=$(swift build --show-bin-path)/portico
fi

start_backend() { # name port
    mkdir -p "$WORK/$1"
    if [ ! -x "$NGINX" ]; then
        # No nginx: Portico's own backend (static files and /health).
        echo "$1" >"$WORK/$1/index.html"
        echo ok >"$WORK/$1/health"
        "$PORTICO_BIN" web --root "$WORK/$1" --listen "127.0.0.1:$2" 2>/dev/null &
        PIDS+=($!)
        eval "PID_$1=$!"
        return
    fi
    cat >"$WORK/$1/nginx.conf" <<EOF
worker_processes 1;
pid $WORK/$1/nginx.pid;
error_log $WORK/$1/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $WORK/$1/body; proxy_temp_path $WORK/$1/proxy; fastcgi_temp_path $WORK/$1/fcgi;
    uwsgi_temp_path $WORK/$1/uwsgi; scgi_temp_path $WORK/$1/scgi;
    default_type text/plain;
    server { listen 127.0.0.1:$2; location / { return 200 "$1\n"; } location = /health { return 200 "ok\n"; } }
}
EOF
    "$NGINX" -c "$WORK/$1/nginx.conf" -g 'daemon off;' &
    PIDS+=($!)
    eval "PID_$1=$!"
}

# The seed's file with loopback addresses.
sed -e "s/192\.168\.10\.21:80/127.0.0.1:$((BASE + 1))/" \
    -e "s/192\.168\.10\.22:80/127.0.0.1:$((BASE + 2))/" \
    -e "s/bind \*:80$/bind 127.0.0.1:$BASE/" \
    -e "s/bind \*:8404$/bind 127.0.0.1:$((BASE + 4))/" \
    fixtures/seed/haproxy.cfg >"$WORK/haproxy.cfg"

echo "== portico lb -c -f haproxy.cfg (the seed's file on loopback addresses)"
"$PORTICO_BIN" lb -c -f "$WORK/haproxy.cfg"

wait_listening() { # port: without sending a request (a request would take a round robin turn)
    for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done
    echo "demo: nothing listens on port $1" >&2
    return 1
}

start_backend web01 $((BASE + 1))
start_backend web02 $((BASE + 2))
wait_listening $((BASE + 1))
wait_listening $((BASE + 2))
"$PORTICO_BIN" lb -f "$WORK/haproxy.cfg" 2> >(sed 's/^/    lb: /' >&2) &
LB=$!
PIDS+=("$LB")
wait_listening "$BASE"

echo "== three requests (round robin)"
for _ in 1 2 3; do curl -s "http://127.0.0.1:$BASE/"; done

echo "== web02 killed; 40 requests over the next 8 s while checks (inter 2s, fall 3) take it out"
kill "$PID_web02"
failed=0
for _ in $(seq 1 40); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$BASE/") || code=000
    [ "$code" = 200 ] || failed=$((failed + 1))
    sleep 0.2
done
echo "failed requests: $failed"

echo "== web02 back; after rise 2 × inter 2s it takes traffic again"
start_backend web02 $((BASE + 2))
sleep 5
for _ in 1 2 3 4; do curl -s "http://127.0.0.1:$BASE/"; done

echo "== SIGTERM: graceful stop"
kill -TERM "$LB"
wait "$LB" 2>/dev/null || true
