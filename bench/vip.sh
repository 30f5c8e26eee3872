#!/usr/bin/env bash
# Throughput through the VIP, as DESIGN.md states the target: the seed's topology in network namespaces
# (`portico lab`), nginx on web01/web02, the seed's haproxy.cfg and keepalived.conf unchanged, and
# `wrk -t1 -c50` from the client namespace against http://192.168.10.100/. The balancer on the nodes is
# `portico lb` or HAProxy 2.6, alternating round by round in one run (the VRRP role is `portico vrrp` for both).
#
#   sudo bash bench/vip.sh                      # builds release (scripts/build-release.sh), 3 rounds of 10 s
#   PORTICO_BIN=path BENCH_ROUNDS=5 BENCH_DURATION=8s sudo bash bench/vip.sh
#
# Needs root, haproxy, nginx and wrk. All traffic starts in the lab's client namespace; `portico lab down`
# removes every namespace, link and process at exit, also after a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${BENCH_ROUNDS:-3}
DURATION=${BENCH_DURATION:-10s}
VIP=192.168.10.100
WORK=$(mktemp -d /tmp/portico-vip.XXXXXX)
chmod 755 "$WORK"  # nginx workers (www-data) read the lab's document roots under it

for program in wrk haproxy nginx; do
    command -v "$program" >/dev/null 2>&1 || [ -x "/usr/sbin/$program" ] || { echo "bench: $program is required" >&2; exit 1; }
done
if [ -z "${PORTICO_BIN:-}" ]; then
    echo "building release (scripts/build-release.sh)..."
    PORTICO_BIN=$(timeout 1800 bash scripts/build-release.sh 2>"$WORK/build.log") || { tail -30 "$WORK/build.log"; exit 1; }
fi
# The lab's track_process matches the process name `portico`: run a copy under that name.
mkdir -p "$WORK/bin"
cp "$PORTICO_BIN" "$WORK/bin/portico"
export PORTICO_BIN="$WORK/bin/portico"
LAB=("$PORTICO_BIN" lab)

cleanup() {
    "${LAB[@]}" down --lab-dir "$WORK/lab" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# The pid of the balancer on lb01 (the VIP holder) from `portico lab status --json`.
balancer_pid() {
    "${LAB[@]}" status --lab-dir "$WORK/lab" --json | python3 -c '
import json, sys
status = json.load(sys.stdin)
for node in status["balancers"]:
    if node["host"] == "lb01":
        print(next(p["pid"] for p in node["processes"] if p["role"] == "lb" and p["running"]))'
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

run_round() { # lb round
    "${LAB[@]}" up --lab-dir "$WORK/lab" --web nginx --lb "$1" >"$WORK/up.log" 2>&1 || { cat "$WORK/up.log"; exit 1; }
    local pid before after out="$WORK/$1.$2.wrk"
    pid=$(balancer_pid)
    # Both servers UP (rise 2, inter 2s) and the VIP answering before the load starts.
    for _ in $(seq 1 50); do
        if ip netns exec plab-client curl -s -m 1 -o /dev/null "http://$VIP/"; then break; fi
        sleep 0.2
    done
    sleep 4
    before=$(cpu_ticks "$pid")
    timeout 120 ip netns exec plab-client wrk -t1 -c50 -d"$DURATION" --latency "http://$VIP/" >"$out" 2>&1 || true
    after=$(cpu_ticks "$pid")
    local requests rps p50 p99 cpu rss errors
    requests=$(awk '/requests in/ {print $1}' "$out")
    rps=$(awk '/Requests\/sec/ {print $2}' "$out")
    p50=$(awk '$1 == "50%" {print $2}' "$out")
    p99=$(awk '$1 == "99%" {print $2}' "$out")
    errors=$(awk '/Non-2xx|Socket errors/ {print}' "$out" | tr '\n' ' ')
    rss=$(awk '/VmHWM/ {print $2 " " $3}' "/proc/$pid/status" 2>/dev/null || echo "?")
    cpu=$(awk -v t="$((after - before))" -v r="${requests:-0}" -v hz="$(getconf CLK_TCK)" \
        'BEGIN { if (r > 0) printf "%.1f", t * 1000000 / hz / r; else print "?" }')
    printf 'round %s %-8s %12s req/s   p50 %-9s p99 %-9s CPU/req %6s µs   peak RSS %-10s %s\n' "$2" "$1" \
        "${rps:-?}" "${p50:-?}" "${p99:-?}" "$cpu" "$rss" "$errors"
    echo "${rps:-0} $cpu" >>"$WORK/rps.$1"
    "${LAB[@]}" down --lab-dir "$WORK/lab" >/dev/null 2>&1
}

echo "through the VIP $VIP: client namespace → lb01 → web01/web02 (nginx), wrk -t1 -c50 -d$DURATION;" \
    "$(nproc) CPUs; $ROUNDS round(s), the balancers alternating (this machine is shared and noisy)"
for round in $(seq 1 "$ROUNDS"); do
    run_round portico "$round"
    run_round haproxy "$round"
done
awk -v first=portico -v second=haproxy -f bench/compare.awk "$WORK/rps.portico" "$WORK/rps.haproxy"
