#!/usr/bin/env bash
# The whole test suite: install dependencies, build, run ctest; then the
# jobs that build the project again another way: the Windows cross build
# under Wine (tests/windows/run.sh) and the sanitizer builds
# (tests/sanitizers/run.sh: ASan+UBSan, TSan), the newcomer's build with Qt
# hidden, installed and built upon (tests/sdk/run.sh) and the libFuzzer build
# (tests/fuzz/run.sh: the saved regressions, then 60 s per harness).
set -euo pipefail
GRANULE_SOURCE_DIR=$(cd "$(dirname "$0")/.." && pwd)
. "$GRANULE_SOURCE_DIR/tools/deps.sh"
ensure_packages "${GRANULE_BUILD_PACKAGES[@]}" "${GRANULE_TEST_PACKAGES[@]}"
build=${GRANULE_BUILD_DIR:-$GRANULE_SOURCE_DIR/build}
granule_build "$build" -DGRANULE_BUILD_TESTS=ON
cd "$build"
# In CI every component is present: a skipped test is a failure there.
if [ "${CI:-}" = "true" ]; then export GRANULE_NO_SKIP=1; fi
rc=0
ctest --output-on-failure -j2 "$@" || rc=$?

# The other builds run with the whole suite, always in CI; a filtered run
# (ctest arguments) adds one only when its variable is 1, and 0 leaves it
# out (not in CI): GRANULE_WINDOWS_TESTS, GRANULE_SANITIZER_TESTS,
# GRANULE_SDK_TESTS, GRANULE_FUZZ_TESTS. Exit 77
# from a job means its tools are missing.
extra_job() {  # variable description command...
    local setting=${!1:-auto} what=$2 job_rc=0
    shift 2
    if [ "${CI:-}" = "true" ] || [ "$setting" = 1 ] || { [ "$setting" = auto ] && [ $ctest_args -eq 0 ]; }; then
        echo "== $what" >&2
        local t0=$SECONDS
        "$@" || job_rc=$?
        echo "== $what: exit $job_rc after $((SECONDS - t0)) s" >&2
        if [ "$job_rc" -eq 77 ]; then
            echo "test.sh: $what was skipped (its tools are missing)" >&2
            [ "${CI:-}" = "true" ] && rc=1
        elif [ "$job_rc" -ne 0 ] && [ "$rc" -eq 0 ]; then
            rc=$job_rc
        fi
    fi
}
ctest_args=$#
extra_job GRANULE_WINDOWS_TESTS "the Windows suite" "$GRANULE_SOURCE_DIR/tests/windows/run.sh"
extra_job GRANULE_SANITIZER_TESTS "the sanitizer jobs" "$GRANULE_SOURCE_DIR/tests/sanitizers/run.sh" all
extra_job GRANULE_SDK_TESTS "the newcomer and SDK job" "$GRANULE_SOURCE_DIR/tests/sdk/run.sh"
extra_job GRANULE_FUZZ_TESTS "the fuzz job" "$GRANULE_SOURCE_DIR/tests/fuzz/run.sh"
exit $rc
