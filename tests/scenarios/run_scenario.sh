#!/usr/bin/env bash
# Runs one golden scenario: feeds NNN-name.io to granule-io on stdin and
# compares stdout+stderr with NNN-name.out, like qemu-iotests.
#
#   run_scenario.sh GRANULE_IO SCRIPT.io
#
# Header lines of the .io file (all optional except spec):
#   #! spec: <dotted options>   $IMG in it is a fresh image file in a temp dir
#   #! image-size: <bytes|1M>   size of $IMG (created sparse; default 1M)
#   #! status: <n>              expected exit status (default 0)
#   #! show-image-size: yes     after the run, append the size of $IMG in bytes
#                               to the output ("[runner] $IMG: N bytes"), for
#                               exact checks where `length` rounds
#   #! known-bug: <text>        the .out holds the CORRECT output, which the
#                               current code does not produce (a reported bug).
#                               The test passes while the output differs (and
#                               prints KNOWN BUG), and fails once it matches,
#                               so the header is removed when the bug is fixed.
#                               GRANULE_UPDATE_GOLDEN never rewrites such a .out.
# $IMG is also replaced in the script body (for `open` of the same image).
# Output filters (like qemu-iotests' _filter_*): the temp dir is shown as
# $TEST_DIR, and the list of drivers an unknown-driver error names, which
# depends on what the build tree holds, as "(available: DRIVERS)" (with the
# directories searched and the files skipped, which follow it).
# Set GRANULE_UPDATE_GOLDEN=1 to rewrite the .out file.
#
# GRANULE_SCENARIO_SPEC=<dotted options> replaces the `#! spec:` line (and
# $IMG in it is still substituted): the same script and the SAME .out on
# another stack, e.g. a real device (tests/integration/scenarios_loop4k.sh).
# Only meaningful for scenarios whose output does not depend on the stack
# (no info, no alignment-dependent stats); the caller picks them. Refused
# together with GRANULE_UPDATE_GOLDEN (goldens come from the declared spec)
# and for known-bug scenarios (they pass on any difference).
set -uo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 GRANULE_IO SCRIPT.io" >&2
    exit 2
fi
io_bin=$1
script=$2
expected=${script%.io}.out
name=$(basename "$script")

if [ ! -x "$io_bin" ]; then
    echo "ERROR: granule-io binary '$io_bin' is not executable" >&2
    exit 2
fi
if [ ! -f "$script" ]; then
    echo "ERROR: no such scenario '$script'" >&2
    exit 2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
header() { sed -n "s/^#! $1: *//p" "$script" | head -n1; }
spec=$(header spec)
size=$(header image-size)
want_status=$(header status)
show_size=$(header show-image-size)
known_bug=$(header known-bug)

# A missing spec would make granule-io fail with a confusing "empty option"
# message that could even be blessed into the .out: refuse it here.
if [ -z "$spec" ]; then
    echo "ERROR: $name has no '#! spec:' header" >&2
    exit 2
fi
if [ -n "${GRANULE_SCENARIO_SPEC:-}" ]; then
    if [ "${GRANULE_UPDATE_GOLDEN:-}" = 1 ]; then
        echo "ERROR: $name: GRANULE_UPDATE_GOLDEN=1 with GRANULE_SCENARIO_SPEC set: goldens come from the '#! spec:' line only" >&2
        exit 2
    fi
    if [ -n "$known_bug" ]; then
        echo "ERROR: $name is marked known-bug (passes on any difference): running it over GRANULE_SCENARIO_SPEC proves nothing" >&2
        exit 2
    fi
    echo "NOTE: $name: spec '$spec' replaced by GRANULE_SCENARIO_SPEC '$GRANULE_SCENARIO_SPEC'"
    spec=$GRANULE_SCENARIO_SPEC
fi
if ! [[ "${want_status:-0}" =~ ^[0-9]+$ ]]; then
    echo "ERROR: $name: '#! status: $want_status' is not a number" >&2
    exit 2
fi

img="$tmp/t.img"
if ! truncate -s "${size:-1M}" "$img"; then
    echo "ERROR: $name: bad '#! image-size: $size'" >&2
    exit 2
fi
spec=${spec//\$IMG/$img}

actual="$tmp/actual.out"
# The script body may name the image too (open -o ...image.filename=$IMG).
# The temp dir name has no '|' or '&' (mktemp), so it is safe in sed.
sed "s|\\\$IMG|$img|g" "$script" >"$tmp/script.io"
"$io_bin" --no-timing --line-buffered --error-detail --image-opts "$spec" <"$tmp/script.io" >"$actual" 2>&1
status=$?
case "$show_size" in
    yes|on|1) echo "[runner] \$IMG: $(stat -c %s "$img") bytes" >>"$actual" ;;
esac
sed -i -e "s|$tmp|\$TEST_DIR|g" -e 's/(available: .*$/(available: DRIVERS)/' "$actual"

if [ "${GRANULE_UPDATE_GOLDEN:-}" = 1 ]; then
    if [ -n "$known_bug" ]; then
        echo "NOTE: $name is marked known-bug; its hand-written .out is not rewritten"
    else
        cp "$actual" "$expected"
    fi
fi
if [ ! -f "$expected" ]; then
    echo "FAIL: $(basename "$expected") does not exist (run with GRANULE_UPDATE_GOLDEN=1, then review it)"
    exit 1
fi
rc=0
if ! diff -u "$expected" "$actual"; then
    echo "FAIL: output of $name differs from $(basename "$expected")"
    rc=1
fi
if [ "$status" != "${want_status:-0}" ]; then
    echo "FAIL: exit status $status, expected ${want_status:-0}"
    rc=1
fi
if [ -n "$known_bug" ]; then
    if [ $rc -ne 0 ]; then
        echo "KNOWN BUG (expected failure, see the header of $name): $known_bug"
        exit 0
    fi
    echo "FAIL: $name now produces its correct output but is marked '#! known-bug:';"
    echo "      the bug looks fixed: remove the header"
    exit 1
fi
exit $rc
