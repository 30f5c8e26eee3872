#!/usr/bin/env bash
# ThreadSanitizer run of the modules whose state is shared between event loops.
#
#   scripts/tsan.sh [FILTER...]     default filters: ^BalancerTests\. ^WebServerTests\. ^BalancerCoreTests\.
#
# Builds the tests with -sanitize=thread in .build-tsan (slow the first time: everything is rebuilt with the
# sanitizer), runs each filter, and prints the TSan reports that are about this project, one line each.
#
# For the run only, scripts/tsan/Mutex.swift is copied into Sources/Balancer and Tests/BalancerTests/Support
# (and removed on exit): Synchronization.Mutex is invisible to TSan on Linux and would make every contended
# lock look like a race. Reports inside Swift's concurrency runtime (a continuation resumed on an event loop,
# `withUnsafeThrowingContinuation`) are false positives of the uninstrumented runtime and are counted apart.
set -euo pipefail
cd "$(dirname "$0")/.."
shadows=(Sources/Balancer/ZZTSanMutex.swift Tests/BalancerTests/Support/ZZTSanMutex.swift)
cleanup() { rm -f "${shadows[@]}"; }
trap cleanup EXIT
for shadow in "${shadows[@]}"; do cp scripts/tsan/Mutex.swift "$shadow"; done

swift build --build-tests --sanitize=thread --scratch-path .build-tsan 2>&1 | grep -E "error|warning:|Build complete" || true
filters=("$@")
[ ${#filters[@]} -gt 0 ] || filters=('^BalancerTests\.' '^WebServerTests\.' '^BalancerCoreTests\.')
status=0
for filter in "${filters[@]}"; do
    log=$(mktemp /tmp/portico-tsan.XXXXXX)
    # Bounded: a hung suite is killed after 20 minutes.
    timeout 1200 swift test --skip-build --sanitize=thread --scratch-path .build-tsan --filter "$filter" >"$log" 2>&1 \
        || true
    result=$(grep -E "Test run with" "$log" | tail -1 || true)
    own=$(grep "^SUMMARY: ThreadSanitizer" "$log" | grep -v "withUnsafeThrowingContinuation\|withCheckedThrowingContinuation" || true)
    runtime=$(grep "^SUMMARY: ThreadSanitizer" "$log" | grep -c "Continuation" || true)
    echo "$filter: ${result:-no test result (see $log)}"
    echo "  reports in project code: $(printf '%s' "$own" | grep -c . || true); Swift concurrency runtime: $runtime"
    if [ -n "$own" ]; then
        printf '%s\n' "$own" | sed 's/^SUMMARY: ThreadSanitizer: /    /' | sort | uniq -c
        echo "  full reports: $log"
        status=1
    fi
    if grep -q "✘" "$log"; then
        grep "✘" "$log" | head -5
        echo "  full log: $log"
        status=1
    elif [ -z "$own" ]; then
        rm -f "$log"
    fi
done
exit $status
