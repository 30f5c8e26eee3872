#!/usr/bin/env bash
# The seed's haproxy.cfg on loopback (two `portico web` backends, stats listen, syslog, runtime API), some
# traffic and operator actions, then the stats page rendered by headless Chromium into bench/stats-page.png.
# Everything runs on 127.0.0.1 and is stopped at the end, also on failure.
#
#   bench/stats-page.sh [PORTICO_BINARY]
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
portico="${1:-$here/../.build/debug/portico}"
work="$(mktemp -d /tmp/pops-stats.XXXXXX)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

command -v chromium >/dev/null || { echo "chromium is not installed (apt-get install -y chromium)" >&2; exit 1; }

for name in web01 web02; do
    mkdir -p "$work/$name"
    echo "$name" > "$work/$name/index.html"
    echo ok > "$work/$name/health"
done
"$portico" web --root "$work/web01" --listen 127.0.0.1:18491 --name web01 & pids+=($!)
"$portico" web --root "$work/web02" --listen 127.0.0.1:18492 --name web02 & pids+=($!)

cat > "$work/haproxy.cfg" <<EOF
global
    log 127.0.0.1:18514 local2
    maxconn 10000
    stats socket $work/admin.sock mode 600 level admin

defaults
    mode http
    log global
    option httplog
    option dontlognull
    option forwardfor
    timeout connect 3s
    timeout client  30s
    timeout server  30s

frontend web_entry
    bind 127.0.0.1:18480
    default_backend web_backend
    http-request use-service prometheus-exporter if { path /metrics }

backend web_backend
    balance roundrobin
    option httpchk GET /health
    http-check expect status 200
    server web01 127.0.0.1:18491 check inter 2s fall 3 rise 2
    server web02 127.0.0.1:18492 check inter 2s fall 3 rise 2
    server web03 127.0.0.1:18493 check inter 2s fall 3 rise 2
    server web04 127.0.0.1:18494 weight 2

listen stats
    bind 127.0.0.1:18404
    mode http
    stats enable
    stats uri /stats
    stats refresh 10s
    stats auth admin:strong_password_here
    stats admin if TRUE
EOF
"$portico" lb -f "$work/haproxy.cfg" & pids+=($!)
sleep 3
for _ in $(seq 1 20); do curl -s -o /dev/null http://127.0.0.1:18480/ || true; done
"$portico" lb ctl "$work/admin.sock" set server web_backend/web02 state drain
"$portico" lb ctl "$work/admin.sock" disable server web_backend/web04
curl -s -u admin:strong_password_here http://127.0.0.1:18404/stats > "$work/stats.html"
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1400,760 \
    --screenshot="$here/stats-page.png" "file://$work/stats.html" 2>/dev/null
echo "wrote $here/stats-page.png"
