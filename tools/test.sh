#!/usr/bin/env bash
# The whole test suite: install dependencies, build, run ctest; then the
# Windows cross build under Wine (tests/windows/run.sh).
set -euo pipefail
GRANULE_SOURCE_DIR=$(cd "$(dirname "$0")/.." && pwd)
. "$GRANULE_SOURCE_DIR/tools/deps.sh"
ensure_packages "${GRANULE_BUILD_PACKAGES[@]}" "${GRANULE_TEST_PACKAGES[@]}"
build=${GRANULE_BUILD_DIR:-$GRANULE_SOURCE_DIR/build}
granule_build "$build"
cd "$build"
# In CI every component is present: a skipped test is a failure there.
if [ "${CI:-}" = "true" ]; then export GRANULE_NO_SKIP=1; fi
rc=0
ctest --output-on-failure -j2 "$@" || rc=$?

# Then the Windows build: cross-built with MinGW into build-win/ and tested
# under Wine (tests/windows/run.sh). It runs with the whole suite, always in
# CI; a filtered run (ctest arguments) adds it only with
# GRANULE_WINDOWS_TESTS=1, and GRANULE_WINDOWS_TESTS=0 leaves it out.
windows=${GRANULE_WINDOWS_TESTS:-auto}
if [ "${CI:-}" = "true" ] || [ "$windows" = 1 ] || { [ "$windows" = auto ] && [ $# -eq 0 ]; }; then
    win_rc=0
    "$GRANULE_SOURCE_DIR/tests/windows/run.sh" || win_rc=$?
    if [ "$win_rc" -eq 77 ]; then
        echo "test.sh: the Windows suite was skipped (MinGW or Wine missing)" >&2
    elif [ "$win_rc" -ne 0 ] && [ "$rc" -eq 0 ]; then
        rc=$win_rc
    fi
fi
exit $rc
