#!/usr/bin/env bash
# Runs every Portico test. Installs what the tests need on a fresh Debian machine (as root),
# builds the `portico` executable the end-to-end tests start, then runs the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for pkg_bin in iproute2:ip haproxy:haproxy keepalived:keepalived nginx:nginx wrk:wrk curl:curl procps:pidof; do
    command -v "${pkg_bin#*:}" >/dev/null 2>&1 || [ -x "/usr/sbin/${pkg_bin#*:}" ] || need+=("${pkg_bin%%:*}")
done
if [ "${#need[@]}" -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then
        echo "installing: ${need[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    else
        echo "warning: missing ${need[*]} (run as root to install); tests that need them are skipped" >&2
    fi
fi
# The packaged daemons must not run on their own: the tests start them in namespaces when needed.
for svc in haproxy keepalived nginx; do
    systemctl stop "$svc" >/dev/null 2>&1 || service "$svc" stop >/dev/null 2>&1 || true
done

swift build
swift test "$@"
