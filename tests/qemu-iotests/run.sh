#!/usr/bin/env bash
# Runs qemu-iotests-style tests (bash bodies using $QEMU_IO, _make_test_img,
# _filter_qemu_io...) with granule-io as $QEMU_IO, and compares each one's
# output with its .out file, like qemu-iotests' ./check does.
#
#   run.sh GRANULE_IO TEST...
#
# TEST is a path to a test body (its expected output is TEST.out), or, with
# QEMU_IOTESTS_DIR set to a QEMU tree's tests/qemu-iotests, the name of one of
# QEMU's own tests (e.g. 077), run unchanged. The helpers come from this
# directory's common.rc and common.filter, Granule's stand-ins for QEMU's
# (a test sources ./common.rc: it runs in a scratch dir holding them).
# Oracle mode: with GRANULE_QEMU_IO_ORACLE set to a real qemu-io, each test
# also runs with it as $QEMU_IO, and both the outputs and the final images
# (kept by _cleanup_test_img) must be identical. With GRANULE_QEMU_IO_ORACLE=
# auto, qemu-io from PATH, and the test is not run without it (in CI, where
# GRANULE_NO_SKIP=1, that fails).
# Exit status: 0 all passed, 1 a test failed, 77 every test was not run.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
io=${1:?usage: $0 GRANULE_IO TEST...}
shift
[ $# -gt 0 ] || { echo "usage: $0 GRANULE_IO TEST..." >&2; exit 2; }
io=$(cd "$(dirname "$io")" && pwd)/$(basename "$io")
oracle=${GRANULE_QEMU_IO_ORACLE:-}
if [ "$oracle" = auto ]; then
    oracle=$(command -v qemu-io || true)
    if [ -z "$oracle" ]; then
        echo "not run: no qemu-io for the oracle (Debian package qemu-utils)"
        [ "${GRANULE_NO_SKIP:-}" = 1 ] && exit 1
        exit 77
    fi
fi

# run_one PROGRAM TEST WORK: the test's output in WORK/PROGRAM-NAME.out, its
# image in WORK/PROGRAM-NAME.img; the exit status.
run_one()
{
    local prog=$1 t=$2 work=$3 tag
    tag=$(basename "$prog")
    rm -rf "$work/scratch"
    mkdir "$work/scratch"
    (cd "$work" && TEST_DIR=$work/scratch QEMU_IO_PROG=$prog GRANULE_KEEP_IMAGE=$work/$tag.img \
        bash "$t") >"$work/$tag.out" 2>&1
}

failed=0 ran=0
for t in "$@"; do
    if [ ! -f "$t" ] && [ -n "${QEMU_IOTESTS_DIR:-}" ] && [ -f "$QEMU_IOTESTS_DIR/$t" ]; then
        t=$QEMU_IOTESTS_DIR/$t
    fi
    [ -f "$t" ] || { echo "FAIL: no test '$t'"; failed=1; continue; }
    t=$(cd "$(dirname "$t")" && pwd)/$(basename "$t")
    name=$(basename "$t")
    work=$(mktemp -d)
    cp "$here/common.rc" "$here/common.filter" "$work/"
    start=$SECONDS
    run_one "$io" "$t" "$work"
    rc=$?
    cp "$work/$(basename "$io").out" "$work/actual.out"
    if [ $rc -eq 0 ] && [ -n "$oracle" ]; then
        run_one "$oracle" "$t" "$work"
        orc=$?
        o=$(basename "$oracle")
        if [ $orc -ne 0 ] || ! diff -u "$work/$o.out" "$work/actual.out" >"$work/diff"; then
            echo "FAIL: $name: granule-io's output differs from $oracle's (exit $orc)"
            head -60 "$work/diff"
            failed=1
            rm -rf "$work"
            continue
        fi
        if [ -f "$work/$o.img" ] && ! cmp "$work/$o.img" "$work/$(basename "$io").img"; then
            echo "FAIL: $name: the image differs from the one $oracle left"
            failed=1
            rm -rf "$work"
            continue
        fi
    fi
    if [ $rc -eq 77 ]; then
        echo "$name: not run ($(cat "$work/scratch/notrun" 2>/dev/null))"
    elif [ $rc -ne 0 ]; then
        echo "FAIL: $name exited $rc"
        tail -20 "$work/actual.out" | sed 's/^/   | /'
        failed=1
    elif ! diff -u "$t.out" "$work/actual.out" >"$work/diff"; then
        echo "FAIL: output of $name differs from $name.out"
        head -60 "$work/diff"
        failed=1
    else
        same=""
        [ -n "$oracle" ] && same=", output and image identical to those of $oracle"
        echo "$name: passed ($((SECONDS - start)) s$same)"
        ran=$((ran + 1))
    fi
    rm -rf "$work"
done
[ $failed -eq 0 ] || exit 1
[ $ran -gt 0 ] || exit 77
exit 0
