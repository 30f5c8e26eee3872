#!/usr/bin/env bash
# The release build of `portico`, as it should run in production and as the benchmarks measure it.
#
#   bash scripts/build-release.sh                              # builds, prints the binary's path on stdout
#   PORTICO_EXCLUSIVITY=checked bash scripts/build-release.sh  # keeps Swift's run-time exclusivity checks
#
# Run-time exclusivity checks are off (-enforce-exclusivity=unchecked, for Portico and its packages): on
# `portico lb`'s request path they cost 6-8% of the CPU per request, almost all inside SwiftNIO (ByteBuffer
# storage, the channel's state, the HTTP parser's callbacks; SwiftNIO's maintainers mark the hottest of
# these accesses unchecked upstream for the same reason). The compile-time checks stay, and the tests run
# debug builds, which keep the run-time checks: an overlapping access in a tested path still fails there.
#
# The Swift runtime and Foundation are linked statically (--static-swift-stdlib): calls into the runtime
# (hundreds of reference-count operations per proxied request) are direct instead of through the PLT,
# which measured 5-6% less CPU per request, and the idle process is ~5 MB smaller. The binary (~110 MB,
# ICU's data included) runs on a host without a Swift toolchain: it needs only glibc and libstdc++.
#
# The build has its own scratch directory (.build-release), so switching between this and a plain
# `swift build` does not rebuild everything each time.
set -euo pipefail
cd "$(dirname "$0")/.."

args=(-c release --product portico --scratch-path .build-release --static-swift-stdlib)
case "${PORTICO_EXCLUSIVITY:-unchecked}" in
    unchecked) args+=(-Xswiftc -enforce-exclusivity=unchecked) ;;
    checked) ;;
    *) echo "build-release: PORTICO_EXCLUSIVITY is 'unchecked' (default) or 'checked'" >&2; exit 2 ;;
esac
swift build "${args[@]}" >&2
echo "$(swift build -c release --scratch-path .build-release --show-bin-path)/portico"
