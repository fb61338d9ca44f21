#!/usr/bin/env bash
# The sanitizer jobs (issue 9): the project built again with sanitizers and
# a subset of the suite run on that build, each in a build dir of its own
# next to build/ (incremental, like tools/test.sh):
#   asan  build-asan: AddressSanitizer + UndefinedBehaviorSanitizer, no
#         recovery (-fno-sanitize-recover), the tracker's invariants checked;
#         runs the unit, api, scenario, stress and tools tests, the
#         peers tests (granule-nbd against real NBD clients and a bad one)
#         and the Python package's (ASan preloaded into Debian's python3);
#         then installs that build and builds the C API's test and example
#         from the prefix with pkg-config, under ASan too (tests/c-api/installed.sh).
#   tsan  build-tsan: ThreadSanitizer; runs the stress and scenario tests,
#         the tracker, serialisation and device tests, and the C API's (the
#         threads are the device's executor, the drivers' pools and rings,
#         and the callers: the C API's callbacks and pollers among them).
#
#   tests/sanitizers/run.sh [asan|tsan|all] [ctest args...]
# Exit non-zero when a build fails or a sanitizer reports anything (every
# report aborts the test that made it). The Debian packages are the build's
# (tools/deps.sh); g++ 12 brings libasan8, libubsan1 and libtsan2.
set -euo pipefail
GRANULE_SOURCE_DIR=$(cd "$(dirname "$0")/../.." && pwd)
. "$GRANULE_SOURCE_DIR/tools/deps.sh"
job=${1:-all}
[ $# -gt 0 ] && shift
common_flags="-g -O1 -fno-omit-frame-pointer"

run_job() {  # name flags ctest-selection...
    local name=$1 flags=$2 dir=$GRANULE_SOURCE_DIR/build-$1
    shift 2
    echo "== sanitizer job $name: build $dir" >&2
    local t0=$SECONDS
    granule_build "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGRANULE_CHECK_INVARIANTS=ON \
        "-DCMAKE_C_FLAGS=$common_flags $flags" "-DCMAKE_CXX_FLAGS=$common_flags $flags" \
        "-DCMAKE_EXE_LINKER_FLAGS=$flags" "-DCMAKE_SHARED_LINKER_FLAGS=$flags" \
        "-DCMAKE_MODULE_LINKER_FLAGS=$flags"
    echo "== sanitizer job $name: built in $((SECONDS - t0)) s; ctest $*" >&2
    (cd "$dir" && ctest --output-on-failure -j2 "$@")
}

# Every report is fatal, and says where: a report that only prints would
# leave the test green.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:history_size=4:suppressions=$GRANULE_SOURCE_DIR/tests/sanitizers/tsan.supp}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$GRANULE_SOURCE_DIR/tests/sanitizers/lsan.supp:print_suppressions=0}

rc=0
asan_flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
if [ "$job" = asan ] || [ "$job" = all ]; then
    run_job asan "$asan_flags" -L 'unit|api|scenario|stress|tools|peers|python' -LE 'long|integration' "$@" || rc=1
    # The C API as users get it: the ASan build installed, the C test and
    # example built from it with pkg-config, and run under ASan too.
    if [ $# -eq 0 ]; then
        asan_prefix=$(mktemp -d "${TMPDIR:-/tmp}/granule-asan-prefix.XXXXXX")
        cmake --install "$GRANULE_SOURCE_DIR/build-asan" --prefix "$asan_prefix" >/dev/null &&
            "$GRANULE_SOURCE_DIR/tests/c-api/installed.sh" "$asan_prefix" $common_flags $asan_flags || rc=1
        rm -rf "$asan_prefix"
    fi
fi
if [ "$job" = tsan ] || [ "$job" = all ]; then
    run_job tsan "-fsanitize=thread" \
        -R '^(stress\.|scenario\.|tst_tracking\.|tst_serialisation\.|tst_device\.|tst_throttle\.|tst_device_lifetime\.|c_api\.)' \
        -E '^tst_device\.write_matrix$' -LE long "$@" || rc=1
fi
exit $rc
