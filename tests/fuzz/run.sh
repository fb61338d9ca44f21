#!/usr/bin/env bash
# The libFuzzer harnesses of tests/fuzz (issue 9), for CI and by hand.
#
#   tests/fuzz/run.sh [SECONDS] [FUZZER...]   replay tests/fuzz/regressions/,
#                     then fuzz each harness for SECONDS (default
#                     $GRANULE_FUZZ_SECONDS or 60); tools/test.sh runs this
#   tests/fuzz/run.sh --regressions [FUZZER...]  only replay the regressions
#
# FUZZER is options, url, io_commands, pipeline or nbd_server (default: all).
#
# Both modes first configure (once) and build (incrementally) the fuzz build,
# $GRANULE_FUZZ_BUILD_DIR or build-fuzz/ next to build/: the whole project with
# clang-$GRANULE_FUZZ_CLANG (default 16, tools/deps.sh),
# -DGRANULE_BUILD_FUZZERS=ON (every target sanitized, tests/fuzz/CMakeLists.txt)
# and the tracker's invariant checks. Missing Debian packages are installed
# (tools/deps.sh). The first build takes about 4 minutes on 2 cores.
#
# Fuzzing runs two harnesses at a time (2 cores), each with -max_total_time,
# -timeout=10 and -rss_limit_mb=2048, on a COPY of corpus/<name>/ in a temp
# dir (nothing is written into the repo), artifacts into the same temp dir,
# which is kept, its path printed, when something was found or with
# GRANULE_FUZZ_KEEP=1, and removed otherwise (the harnesses' own temp files,
# TMPDIR, go there too). The generators steer
# around the open bugs of known-bugs (GRANULE_FUZZ_AVOID). Per harness it
# prints runs, coverage (cov:), features (ft:) and corpus size; it exits 1
# naming each harness that found a crash, leak, timeout or out-of-memory, with
# the input's path, a hexdump and the report.
#
# --regressions replays every file of regressions/<name>/ once through its
# harness, without GRANULE_FUZZ_AVOID: a file named after a known-bugs entry
# (<bug>.<ext>) is expected to fail until that bug is fixed (XFAIL; a pass is
# reported as XPASS: remove the entry); any other failure exits 1.
#
# Exit status: 0 nothing found, 1 a finding, 2 usage or build error.
set -euo pipefail
GRANULE_SOURCE_DIR=$(cd "$(dirname "$0")/../.." && pwd)
here=$GRANULE_SOURCE_DIR/tests/fuzz
. "$GRANULE_SOURCE_DIR/tools/deps.sh"

all_fuzzers=(options url io_commands pipeline nbd_server)
declare -A max_len=([options]=512 [url]=512 [io_commands]=4096 [pipeline]=2048 [nbd_server]=4096)

usage() { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

mode=fuzz
seconds=${GRANULE_FUZZ_SECONDS:-60}
if [ "${1:-}" = --regressions ]; then
    mode=regressions
    shift
elif [ "${1:-}" = -h ] || [ "${1:-}" = --help ]; then
    usage
elif [[ "${1:-}" =~ ^[0-9]+$ ]]; then
    seconds=$1
    shift
fi
fuzzers=("$@")
[ ${#fuzzers[@]} -eq 0 ] && fuzzers=("${all_fuzzers[@]}")
for f in "${fuzzers[@]}"; do
    [ -n "${max_len[$f]:-}" ] || { echo "run.sh: unknown fuzzer '$f' (${all_fuzzers[*]})" >&2; usage; }
done
[ "$seconds" -ge 1 ] || { echo "run.sh: SECONDS must be at least 1" >&2; exit 2; }

# Build.
clang=$GRANULE_FUZZ_CLANG
ensure_packages "${GRANULE_BUILD_PACKAGES[@]}" "${GRANULE_FUZZ_PACKAGES[@]}" || exit 2
build=${GRANULE_FUZZ_BUILD_DIR:-$GRANULE_SOURCE_DIR/build-fuzz}
t0=$SECONDS
granule_build "$build" -DCMAKE_C_COMPILER="clang-$clang" -DCMAKE_CXX_COMPILER="clang++-$clang" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGRANULE_BUILD_FUZZERS=ON -DGRANULE_BUILD_TESTS=OFF \
    -DGRANULE_CHECK_INVARIANTS=ON || { echo "run.sh: the fuzz build in $build failed" >&2; exit 2; }
echo "run.sh: fuzz build $build up to date ($((SECONDS - t0)) s)" >&2
for f in "${fuzzers[@]}"; do
    [ -x "$build/tests/fuzz/fuzz_$f" ] ||
        { echo "run.sh: $build/tests/fuzz/fuzz_$f was not built" >&2; exit 2; }
done

# Sanitizer reports must end the run (libFuzzer saves the input then).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
known_bugs=$(grep -v '^#' "$here/known-bugs" | grep -v '^[[:space:]]*$' || true)

show_input() {  # file
    echo "  input: $1 ($(stat -c %s "$1") bytes)"
    od -A d -t x1z -v "$1" | head -32 | sed 's/^/    /' || true
}

replay_regressions() {
    local rc=0 f input name bug expected log
    for f in "${fuzzers[@]}"; do
        for input in "$here/regressions/$f"/*; do
            [ -f "$input" ] || continue
            name=$(basename "$input")
            bug=${name%.*}
            expected=no
            grep -qx -- "$bug" <<<"$known_bugs" && expected=yes
            log=$(mktemp)
            if env -u GRANULE_FUZZ_AVOID TMPDIR="$work/tmp" "$build/tests/fuzz/fuzz_$f" -runs=1 -timeout=10 \
                    "$input" >"$log" 2>&1; then
                [ $expected = yes ] && echo "XPASS $f/$name: known bug '$bug' no longer fails: remove it from tests/fuzz/known-bugs" ||
                    echo "pass  $f/$name"
            elif [ $expected = yes ]; then
                echo "XFAIL $f/$name (open bug '$bug', tests/fuzz/known-bugs)"
            else
                echo "FAIL  $f/$name"
                show_input "$input"
                grep -a -v '^INFO:' "$log" | tail -40 | sed 's/^/    /' || true
                rc=1
            fi
            rm -f "$log"
        done
    done
    return $rc
}

# One directory for the run: the corpora and logs, and the harnesses' own
# TMPDIR (fuzz_url writes a password file there). Kept when something was
# found (or with GRANULE_FUZZ_KEEP=1), removed otherwise: CI runs it every
# time, and a kept one is ~10 MB.
work=$(mktemp -d "${TMPDIR:-/tmp}/granule-fuzz.XXXXXX")
mkdir "$work/tmp"
keep_work=${GRANULE_FUZZ_KEEP:-0}
trap '[ "$keep_work" = 1 ] || rm -rf "$work"' EXIT

regressions_rc=0
replay_regressions || regressions_rc=$?
[ $regressions_rc -eq 0 ] || keep_work=1
[ "$mode" = regressions ] && exit $regressions_rc

# Fuzz.
avoid=$(paste -sd, <<<"$known_bugs")
echo "run.sh: fuzzing ${fuzzers[*]} for $seconds s each, 2 at a time, in $work" >&2

run_one() {  # name
    local f=$1 dir=$work/$1
    mkdir -p "$dir/corpus" "$dir/artifacts"
    cp -r "$here/corpus/$f/." "$dir/corpus/"
    local dict=()
    [ -f "$here/$f.dict" ] && dict=("-dict=$here/$f.dict")
    TMPDIR=$work/tmp GRANULE_FUZZ_AVOID=$avoid "$build/tests/fuzz/fuzz_$f" "$dir/corpus" "${dict[@]}" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="${max_len[$f]}" \
        -print_final_stats=1 -artifact_prefix="$dir/artifacts/" >"$dir/log" 2>&1
    echo $? >"$dir/rc"
}

# Two at a time: the machine has 2 cores.
pids=()
for f in "${fuzzers[@]}"; do
    run_one "$f" &
    pids+=($!)
    if [ ${#pids[@]} -eq 2 ]; then
        wait "${pids[@]}" || true
        pids=()
    fi
done
[ ${#pids[@]} -eq 0 ] || wait "${pids[@]}" || true

failed=()
printf '%-12s %10s %7s %7s %8s  %s\n' fuzzer runs cov ft corpus result
for f in "${fuzzers[@]}"; do
    dir=$work/$f
    status=$(cat "$dir/rc" 2>/dev/null || echo "?")
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)
    last=$(grep -a -E '^#[0-9]+' "$dir/log" | tail -1 || true)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    corpus=$(find "$dir/corpus" -type f | wc -l)
    artifacts=$(find "$dir/artifacts" -type f \( -name 'crash-*' -o -name 'leak-*' -o \
        -name 'timeout-*' -o -name 'oom-*' \) | sort)
    result=ok
    if [ -n "$artifacts" ]; then
        result="FOUND $(basename "$(head -1 <<<"$artifacts")" | cut -d- -f1)"
    elif [ "$status" != 0 ]; then
        result="FAILED (exit $status, no input saved)"
    fi
    printf '%-12s %10s %7s %7s %8s  %s\n' "$f" "${runs:-?}" "${cov:-?}" "${ft:-?}" "$corpus" "$result"
    [ "$result" = ok ] || failed+=("$f")
done

for f in "${failed[@]}"; do
    dir=$work/$f
    echo
    echo "== fuzz_$f: $(grep -a -m1 -E '^(==[0-9]+==ERROR|==granule-fuzz==|SUMMARY)' "$dir/log" || echo 'see the log')"
    while read -r input; do
        [ -n "$input" ] && show_input "$input"
    done < <(find "$dir/artifacts" -type f | sort)
    echo "  log: $dir/log; the report:"
    grep -a -v -E '^(INFO:|#[0-9]+|\s+NEW_FUNC)' "$dir/log" | grep -a -v '^$' | tail -45 | sed 's/^/    /' || true
    echo "  reproduce: $build/tests/fuzz/fuzz_$f INPUT; minimise: add -minimize_crash=1 -runs=20000"
    echo "  (then copy it to tests/fuzz/regressions/$f/, see tests/fuzz/README.md)"
done
echo
[ ${#failed[@]} -eq 0 ] || keep_work=1
if [ "$keep_work" = 1 ]; then
    echo "run.sh: grown corpora and logs in $work"
else
    echo "run.sh: nothing found; corpora and logs removed (GRANULE_FUZZ_KEEP=1 keeps them)"
fi
if [ ${#failed[@]} -gt 0 ]; then
    echo "run.sh: findings in: ${failed[*]}" >&2
    exit 1
fi
if [ $regressions_rc -ne 0 ]; then
    echo "run.sh: a saved regression input fails (FAIL above)" >&2
    exit 1
fi
