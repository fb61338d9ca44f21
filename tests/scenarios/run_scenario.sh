#!/usr/bin/env bash
# Runs one golden scenario: feeds NNN-name.io to granule-io on stdin and
# compares stdout+stderr with NNN-name.out, like qemu-iotests.
#
# Header lines of the .io file (all optional except spec):
#   #! spec: <dotted options>   $IMG in it is a fresh image file in a temp dir
#   #! image-size: <bytes|1M>   size of $IMG (created sparse; default 1M)
#   #! status: <n>              expected exit status (default 0)
# In the output, the temp dir is shown as $TEST_DIR.
# Set GRANULE_UPDATE_GOLDEN=1 to rewrite the .out file.
set -uo pipefail
io_bin=$1
script=$2
expected=${script%.io}.out

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
header() { sed -n "s/^#! $1: *//p" "$script" | head -n1; }
spec=$(header spec)
size=$(header image-size)
want_status=$(header status)
img="$tmp/t.img"
truncate -s "${size:-1M}" "$img"
spec=${spec//\$IMG/$img}

actual="$tmp/actual.out"
"$io_bin" --no-timing --image-opts "$spec" <"$script" >"$actual" 2>&1
status=$?
sed -i "s|$tmp|\$TEST_DIR|g" "$actual"

if [ "${GRANULE_UPDATE_GOLDEN:-}" = 1 ]; then
    cp "$actual" "$expected"
fi
rc=0
if ! diff -u "$expected" "$actual"; then
    echo "FAIL: output of $(basename "$script") differs from $(basename "$expected")"
    rc=1
fi
if [ "$status" != "${want_status:-0}" ]; then
    echo "FAIL: exit status $status, expected ${want_status:-0}"
    rc=1
fi
exit $rc
