#!/usr/bin/env bash
# granule-io: a line of nothing but blanks (any of space \t \v \f \r) is an
# empty line, from -c and from stdin alike; it used to crash on \v and \f
# (issue 9, bug 2: two definitions of blank, then front() of no words).
#
#   test_io_blank.sh GRANULE_IO
set -uo pipefail
IO=${1:?usage: $0 GRANULE_IO}
failures=0
spec="driver=memory,size=1M"
for blank in $'\v' $'\f' $'\r' $'\t' ' ' $'\v\f' $' \v\t\f\r' $'\f#c'; do
    shown=$(printf '%q' "$blank")
    rc=0; out=$("$IO" -c "$blank" 2>&1) || rc=$?
    [ "$rc" -eq 0 ] && [ -z "$out" ] ||
        { echo "FAIL: -c $shown: exit $rc, output '$out'" >&2; failures=$((failures + 1)); }
    rc=0; out=$(printf '%s\nwrite -P 7 0 1\nread -P 7 0 1\n' "$blank" |
                "$IO" --no-timing --image-opts "$spec" 2>&1) || rc=$?
    [ "$rc" -eq 0 ] && [ "$out" = $'wrote 1/1 bytes at offset 0\nread 1/1 bytes at offset 0' ] ||
        { echo "FAIL: stdin $shown: exit $rc, output '$out'" >&2; failures=$((failures + 1)); }
done
# Blanks between words split them the same way: \v and \f too.
rc=0; out=$("$IO" --no-timing --image-opts "$spec" -c $'write\v-P\f9\t0\r1' 2>&1) || rc=$?
[ "$rc" -eq 0 ] && [ "$out" = "wrote 1/1 bytes at offset 0" ] ||
    { echo "FAIL: words split by \\v \\f: exit $rc, output '$out'" >&2; failures=$((failures + 1)); }
[ "$failures" -eq 0 ] || exit 1
echo "blank line checks passed" >&2
