#!/usr/bin/env bash
# The main job: the seed's whole system (client, lb01/lb02 with VIP 192.168.10.100, web01/web02) in
# network namespaces on this machine, every failure drill of the seed under a steady client, the report
# printed as a table and written as an HTML timeline, then everything removed.
#   bash scripts/demo.sh                      # Portico's roles (portico web, lb, vrrp)
#   bash scripts/demo.sh --stack reference    # Debian's nginx, HAProxy and Keepalived, same drills
# Needs root (namespaces). Extra arguments go to `portico lab demo` (see `portico lab demo --help`).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
    echo "scripts/demo.sh: the lab builds network namespaces and needs root" >&2
    exit 1
fi
need=()
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v ss >/dev/null 2>&1 || need+=(iproute2)
command -v pidof >/dev/null 2>&1 || need+=(procps)
case " $* " in
*" --stack reference "* | *"--stack=reference"*)
    command -v haproxy >/dev/null 2>&1 || need+=(haproxy)
    command -v keepalived >/dev/null 2>&1 || [ -x /usr/sbin/keepalived ] || need+=(keepalived)
    command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
    ;;
esac
if [ "${#need[@]}" -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

swift build --product portico
PORTICO=$(swift build --show-bin-path)/portico
exec "$PORTICO" lab demo --report "${DEMO_REPORT:-lab-report.html}" "$@"
