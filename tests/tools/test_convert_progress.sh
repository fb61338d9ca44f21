#!/usr/bin/env bash
# granule-img convert -p. Not on a terminal: qemu-img's records exactly,
# "    (x.xx/100%)\r" (checked against the chunks copied: a record whenever
# the percentage grew by more than 1, 0.00 first, 100.00 once last, then
# "\n"), on stdout before the summary; a failed copy ends its records
# without 100.00. On a terminal (a pty from script(1)): a bar, no records,
# redrawn at most every 100 ms over a throttled copy.
#
#   test_convert_progress.sh GRANULE_IMG
set -uo pipefail
GI=${1:?usage: $0 GRANULE_IMG}
command -v script >/dev/null || { echo "FAIL: script(1) is needed (bsdutils)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# 10 MiB with a hole in the middle: 160 chunks of 64k, 0.625 % each.
truncate -s 10M "$tmp/src.img"
head -c 3M /dev/urandom | dd of="$tmp/src.img" conv=notrunc status=none
head -c 2M /dev/urandom | dd of="$tmp/src.img" bs=1M seek=7 conv=notrunc status=none

"$GI" convert -p -c 64k "$tmp/src.img" "$tmp/dst.img" >"$tmp/out" 2>"$tmp/err" ||
    fail "convert -p: exit $?: $(cat "$tmp/err")"
cmp -s "$tmp/src.img" "$tmp/dst.img" || fail "convert -p: the copy differs"
[ -s "$tmp/err" ] && fail "convert -p wrote to stderr: $(cat "$tmp/err")"
# The expected bytes: every second chunk is more than 1 % past the last record.
{
    printf '    (0.00/100%%)\r'
    for ((k = 2; k < 160; k += 2)); do
        printf '    (%d.%02d/100%%)\r' $((k * 625 / 1000)) $((k * 625 % 1000 / 10))
    done
    printf '    (100.00/100%%)\r\n'
} >"$tmp/want"
if ! head -c "$(stat -c %s "$tmp/want")" "$tmp/out" | cmp -s - "$tmp/want"; then
    fail "convert -p records are not qemu-img's:"
    diff <(tr '\r' '\n' <"$tmp/want") <(tr '\r' '\n' <"$tmp/out") | head -10
fi
tail -n 1 "$tmp/out" | grep -qE '^converted 10485760 bytes: ' || fail "no summary after the records: $(tail -n 1 "$tmp/out")"
[ "$(grep -c '' "$tmp/out")" = 2 ] || fail "records and summary are not two lines: $(cat -A "$tmp/out" | head -5)"

# A failed copy: the records stop short of 100.00, the line is ended.
rc=0
"$GI" convert -p -c 64k "driver=blkdebug,format=raw,inject-error.0.event=read_aio,image.filename=$tmp/src.img" \
    "$tmp/fail.img" >"$tmp/out" 2>"$tmp/err" || rc=$?
[ "$rc" = 1 ] || fail "convert -p from a failing SRC: exit $rc"
[ "$(cat "$tmp/out")" = $'    (0.00/100%)\r' ] || fail "failed convert -p printed: $(cat -A "$tmp/out")"

# On a terminal: the bar, throttled to ~0.5 s (10 MiB/s reads of its 5 MiB of data).
rm -f "$tmp/dst.img"
t0=$(date +%s%N)
script -qec "'$GI' convert -p -c 64k 'driver=raw-posix,filename=$tmp/src.img,throttle.bps-read=10M' '$tmp/dst.img'" \
    /dev/null >"$tmp/tty" 2>&1 || fail "convert -p on a pty: exit $?: $(cat -A "$tmp/tty" | tail -3)"
ms=$((($(date +%s%N) - t0) / 1000000))
cmp -s "$tmp/src.img" "$tmp/dst.img" || fail "convert -p on a pty: the copy differs"
grep -q '(0.00/100%)' "$tmp/tty" && fail "records on a terminal: $(cat -A "$tmp/tty" | head -3)"
draws=$(grep -o '\] *[0-9.]*%' "$tmp/tty" | wc -l)
last=$(grep -o '\] *[0-9.]*%' "$tmp/tty" | tail -1 | tr -d '] %')
[ "$last" = 100.00 ] || fail "the bar ends at '$last', not 100.00: $(cat -A "$tmp/tty" | head -3)"
grep -q '\[##################################################\] 100.00%' "$tmp/tty" ||
    fail "no full bar: $(cat -A "$tmp/tty" | head -3)"
# One draw at the start and at the end, at most one per 100 ms between; a
# 0.5 s copy of 160 chunks draws some, not one per chunk.
[ "$draws" -ge 3 ] && [ "$draws" -le $((ms / 100 + 2)) ] ||
    fail "$draws bar draws in $ms ms (wanted 3 to $((ms / 100 + 2)))"
grep -q 'converted 10485760 bytes' "$tmp/tty" || fail "no summary on the pty: $(cat -A "$tmp/tty" | tail -2)"
[ "$failures" -eq 0 ] || exit 1
echo "convert -p checks passed ($draws bar draws in $ms ms)"
