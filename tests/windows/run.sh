#!/usr/bin/env bash
# The Windows job in one command: cross-build with MinGW-w64
# (cmake/toolchain-mingw64.cmake) into build-win/, incrementally, only what
# the Windows suite runs; then run the suite under Wine (ctest -L windows).
#
#   tests/windows/run.sh [ctest arguments, e.g. -R scenario]
#
# GRANULE_WIN_BUILD_DIR   build directory (default <source>/build-win)
# GRANULE_NO_SKIP=1       missing MinGW or Wine is a failure (CI), not a skip
# Exit: ctest's status; 77 when MinGW or Wine is missing (skip).
# The Wine prefix lives in the build directory (created once, ~5 s) and is
# reused; tools/deps.sh has the packages (g++-mingw-w64-x86-64-posix, wine64).
set -euo pipefail
GRANULE_SOURCE_DIR=$(cd "$(dirname "$0")/../.." && pwd)
build=${GRANULE_WIN_BUILD_DIR:-$GRANULE_SOURCE_DIR/build-win}
start=$(date +%s)

skip_or_fail() {
    if [ "${GRANULE_NO_SKIP:-}" = 1 ]; then
        echo "tests/windows: $* (GRANULE_NO_SKIP=1: failing)" >&2
        exit 1
    fi
    echo "tests/windows: SKIP: $*" >&2
    exit 77
}

. "$GRANULE_SOURCE_DIR/tools/deps.sh"
if [ "$(id -u)" -eq 0 ]; then
    ensure_packages cmake make libboost1.81-dev g++-mingw-w64-x86-64-posix wine64 ||
        skip_or_fail "cannot install the MinGW/Wine packages"
fi
for tool in x86_64-w64-mingw32-g++-posix wine wineserver cmake; do
    command -v "$tool" >/dev/null || skip_or_fail "'$tool' not found (apt-get install g++-mingw-w64-x86-64-posix wine64)"
done

# Two cores are shared with the Linux build: never more than 2 jobs.
jobs=$(( $(nproc) < 2 ? $(nproc) : 2 ))
granule_configure "$build" -DCMAKE_TOOLCHAIN_FILE="$GRANULE_SOURCE_DIR/cmake/toolchain-mingw64.cmake" ||
    { echo "tests/windows: configuring $build failed" >&2; exit 1; }
cmake --build "$build" -j"$jobs" --target granule_windows_tests >&2
built=$(date +%s)

export WINEPREFIX=$build/wineprefix WINEDEBUG=-all
if [ ! -f "$WINEPREFIX/system.reg" ]; then
    echo "tests/windows: creating the Wine prefix $WINEPREFIX" >&2
    # stdio to /dev/null: Wine's helper processes inherit it and outlive us.
    wineboot -i >/dev/null 2>&1 </dev/null || true
    # The server writes the registry (system.reg) when it exits: wait for
    # that, or the next run would find the prefix unfinished and redo it.
    wineserver -w >/dev/null 2>&1 </dev/null || true
    [ -f "$WINEPREFIX/system.reg" ] || skip_or_fail "wineboot could not create $WINEPREFIX"
fi
# One persistent server for the whole suite: a server that exits when idle
# (3 s after the last program) races with the next program's start ("wine
# client error: recvmsg: Connection reset by peer", seen between two tests).
# The prefix is private to this build directory: any server on it is ours,
# from an earlier run. Its stdio and the helper processes' (services.exe...,
# started by the first program) go to /dev/null, never to a pipe someone reads.
wineserver -k >/dev/null 2>&1 </dev/null || true
wineserver -p >/dev/null 2>&1 </dev/null
trap 'wineserver -k >/dev/null 2>&1 </dev/null || true' EXIT
wine cmd /c exit >/dev/null 2>&1 </dev/null || true

rc=0
(cd "$build" && ctest -L windows -j"$jobs" --output-on-failure "$@") || rc=$?
end=$(date +%s)
echo "tests/windows: build $((built - start)) s, tests $((end - built)) s, total $((end - start)) s" >&2
exit $rc
