#!/usr/bin/env bash
# Runs every Portico test. Installs what the tests need on a fresh Debian machine (as root),
# builds the `portico` executable the end-to-end tests start, then runs each test target in its
# own process, one after the other: end-to-end suites (namespaces, real daemons, timing) must not
# compete for the two cores with hundreds of unit tests, nor share one process's thread pool.
#   bash scripts/test.sh                 # everything
#   bash scripts/test.sh BalancerTests   # some targets only
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for pkg_bin in iproute2:ip haproxy:haproxy keepalived:keepalived nginx:nginx wrk:wrk curl:curl procps:pidof chromium:chromium; do
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
    service "$svc" stop >/dev/null 2>&1 || true
done

swift build
swift build --build-tests

if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    targets=()
    for dir in Tests/*Tests; do targets+=("$(basename "$dir")"); done
fi

passed=0
failed=0
failed_targets=()
for target in "${targets[@]}"; do
    echo "=== $target"
    log=$(mktemp)
    if swift test --skip-build --filter "^${target}\." 2>&1 | tee "$log"; then status=0; else status=1; fi
    total=$(grep -Eo 'Test run with [0-9]+ tests?' "$log" | grep -Eo '[0-9]+' | tail -1 || true)
    f=$(grep -Ec '^✘ Test .* failed after' "$log" || true)
    if [ "$status" -ne 0 ]; then
        failed_targets+=("$target")
        [ "$f" -gt 0 ] || f=1
    fi
    passed=$((passed + ${total:-0} - (status == 0 ? 0 : f)))
    [ "$passed" -ge 0 ] || passed=0
    failed=$((failed + (status == 0 ? 0 : f)))
    rm -f "$log"
done

[ "${#failed_targets[@]}" -eq 0 ] || echo "failed targets: ${failed_targets[*]}"
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
