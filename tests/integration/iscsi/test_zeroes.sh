#!/usr/bin/env bash
# write -z as tgtd sees it: its own counters (tgtadm --op stat: write commands
# and bytes submitted, answers other than GOOD), read while granule-io still
# holds its session (a session's counters go at logout), around each command.
#  A. LUN 2, no thin provisioning (LBPME 0, LBPWS 0), 4096-byte blocks: an
#     unaligned write -z of 12 MiB reaches tgtd as WRITE SAME(16) (one block of
#     data) plus the core's read-modify-write of the head and tail blocks, not
#     as 12 MiB of zeroes; a no_fallback (-n) write -z succeeds; the bytes read
#     back and the backing file equal a reference (everything around intact).
#  B. LUN 4, aio backing store (tgtd refuses WRITE SAME: ILLEGAL REQUEST,
#     INVALID COMMAND OPERATION CODE): the first write -z tries WRITE SAME once
#     (one error at tgtd) and still zeroes its range, through zero buffers;
#     later ones send no WRITE SAME (no new error, exactly their bytes
#     written); a no_fallback write -z fails with ENOTSUP and sends nothing;
#     info names the refusal.
#  C. LUN 1, thin provisioning switched off under the open session (the driver
#     read LBPWS 1, LBPRZ 1 at open): write -z -u sends WRITE SAME with UNMAP,
#     which tgtd refuses (INVALID FIELD IN CDB), then the same blocks without
#     it; the next one goes without UNMAP at once; info says why.
. "$(dirname "$0")/fixture.sh"
iscsi_start_target

M=1048576
GIO_PID=""
test_cleanup() {
    exec 3>&- 2>/dev/null || true
    if [ -n "$GIO_PID" ] && kill -0 "$GIO_PID" 2>/dev/null; then kill -KILL "$GIO_PID" 2>/dev/null || true; fi
}
# One granule-io on LUN $1, fed through a FIFO; answered() waits for it.
gio_start() {
    rm -f "$WORK/cmd"
    mkfifo "$WORK/cmd"
    "$GRANULE_IO" --no-timing --line-buffered --error-detail "$(lun_url "$1")" <"$WORK/cmd" >"$WORK/out" 2>&1 &
    GIO_PID=$!
    exec 3>"$WORK/cmd"
    marks=0
}
gio_stop() {  # [expected exit status: 1 after a failed command, as qemu-io]
    local rc=0
    exec 3>&-
    wait "$GIO_PID" || rc=$?
    GIO_PID=""
    [ $rc -eq "${1:-0}" ] || fail "granule-io exited with $rc: $(cat "$WORK/out")"
}
# Sends the commands, then waits until granule-io answered them all: a
# "stats" after them prints one more driver_requests line.
run() {
    local c end
    for c in "$@"; do echo "$c" >&3; done
    echo "stats" >&3
    marks=$((marks + 1))
    end=$((SECONDS + 30))
    while [ "$(grep -c '^driver_requests: ' "$WORK/out")" -lt $marks ]; do
        kill -0 "$GIO_PID" 2>/dev/null || fail "granule-io died: $(cat "$WORK/out")"
        [ $SECONDS -lt $end ] || fail "granule-io did not answer '$*' within 30 s: $(cat "$WORK/out")"
        sleep 0.05
    done
}
# The change of tgtd's counters of LUN $1 since $2 ("commands bytes errors").
delta() {
    local now
    read -r -a now <<<"$(lun_stats "$1")"
    read -r -a was <<<"$2"
    echo "$((now[0] - was[0])) $((now[1] - was[1])) $((now[2] - was[2]))"
}
expect_clean() {  # no failure in granule-io's output so far
    ! grep -Eq '^[a-z_]+ failed|Pattern verification' "$WORK/out" || fail "granule-io reported a failure: $(cat "$WORK/out")"
}
info_line() { sed -n "s/^  $1: //p" "$WORK/out" | tail -n1; }

note "A. LUN 2 (no thin provisioning): write -z is WRITE SAME(16)"
backing=$WORK/lun2.img ref=$WORK/ref2.img
gio_start 2
run "write -q -P 0x5a 0 $((16 * M))"
at=1001 len=$((12 * M + 5))
s0=$(lun_stats 2)
run "write -q -z $at $len"
read -r cmds bytes errs <<<"$(delta 2 "$s0")"
note "   write -z of $len bytes at $at: tgtd got $cmds write commands, $bytes bytes, $errs errors"
# Head and tail blocks (read-modify-write) and one WRITE SAME of one block.
[ "$bytes" -le $((4 * 4096)) ] && [ "$cmds" -le 4 ] && [ "$errs" -eq 0 ] ||
    fail "write -z of $len bytes sent $cmds commands, $bytes bytes ($errs errors): zero buffers, not WRITE SAME"
s0=$(lun_stats 2)
run "write -q -z -n $((13 * M)) $((2 * M))"
read -r cmds bytes errs <<<"$(delta 2 "$s0")"
[ "$cmds" -eq 1 ] && [ "$bytes" -eq 4096 ] && [ "$errs" -eq 0 ] ||
    fail "no_fallback write -z: $cmds commands, $bytes bytes, $errs errors (expected one WRITE SAME): $(tail -n 3 "$WORK/out")"
run "read -q -P 0 $at $len" "read -q -P 0x5a 0 $at" "read -q -P 0x5a $((at + len)) $((13 * M - at - len))" \
    "read -q -P 0 $((13 * M)) $((2 * M))" "read -q -P 0x5a $((15 * M)) $M" info
expect_clean
zline=$(info_line write_zeroes)
[ "$zline" = "WRITE SAME(16) without UNMAP (LBPME 0); zero buffers from the core if the target refuses it" ] ||
    fail "LUN 2 info: write_zeroes: $zline"
gio_stop
fill_file "$ref" 0x5a 0 $((16 * M))
truncate -s 32M "$ref"
fill_file "$ref" 0 $at $len
fill_file "$ref" 0 $((13 * M)) $((2 * M))
cmp "$backing" "$ref" || fail "LUN 2 differs from the reference after write -z"

note "B. LUN 4 (aio: WRITE SAME refused): zero buffers, WRITE SAME not sent again"
backing=$WORK/lun4.img ref=$WORK/ref4.img
gio_start 4
run "write -q -P 0x6b 0 $((8 * M))"
at=1001 len=$((3 * M))
s0=$(lun_stats 4)
run "write -q -z $at $len"
read -r cmds bytes errs <<<"$(delta 4 "$s0")"
note "   first write -z of $len bytes: tgtd got $cmds write commands, $bytes bytes, $errs errors"
[ "$errs" -eq 1 ] || fail "first write -z on LUN 4: $errs errors at tgtd (expected the one refused WRITE SAME)"
# The refused WRITE SAME's block, then the range as zero buffers.
[ "$bytes" -ge $((len - 2 * 4096)) ] || fail "first write -z on LUN 4 wrote only $bytes bytes"
s0=$(lun_stats 4)
run "write -q -z $((4 * M)) $((2 * M))"
read -r cmds bytes errs <<<"$(delta 4 "$s0")"
note "   second write -z of $((2 * M)) bytes: $cmds write commands, $bytes bytes, $errs errors"
[ "$errs" -eq 0 ] && [ "$bytes" -eq $((2 * M)) ] ||
    fail "second write -z on LUN 4: $bytes bytes, $errs errors (WRITE SAME sent again?)"
s0=$(lun_stats 4)
run "write -q -z -n $((6 * M)) $M"
read -r cmds bytes errs <<<"$(delta 4 "$s0")"
[ "$cmds" -eq 0 ] || fail "no_fallback write -z on LUN 4 sent $cmds commands"
grep -q "^write failed: Operation not supported" "$WORK/out" ||
    fail "no_fallback write -z on LUN 4 did not fail with ENOTSUP: $(tail -n 3 "$WORK/out")"
grep -q "granule-io: iscsi: the target refused WRITE SAME(16) before (CHECK CONDITION: ILLEGAL_REQUEST, INVALID_OPERATION_CODE" "$WORK/out" ||
    fail "the ENOTSUP does not name the refusal: $(tail -n 3 "$WORK/out")"
run "read -q -P 0 $at $len" "read -q -P 0x6b 0 $at" "read -q -P 0x6b $((at + len)) $((4 * M - at - len))" \
    "read -q -P 0 $((4 * M)) $((2 * M))" "read -q -P 0x6b $((6 * M)) $((2 * M))" info
! grep -q "Pattern verification" "$WORK/out" || fail "LUN 4 read back wrong bytes: $(cat "$WORK/out")"
zline=$(info_line write_zeroes)
[ "$zline" = "zero buffers, written by the core (the target refused WRITE SAME(16): CHECK CONDITION: ILLEGAL_REQUEST, INVALID_OPERATION_CODE (sense key 0x5, ASC/ASCQ 0x20/0x00))" ] ||
    fail "LUN 4 info: write_zeroes: $zline"
gio_stop 1
fill_file "$ref" 0x6b 0 $((8 * M))
fill_file "$ref" 0 $at $len
fill_file "$ref" 0 $((4 * M)) $((2 * M))
cmp "$backing" "$ref" || fail "LUN 4 differs from the reference after write -z"

note "C. LUN 1, thin provisioning switched off under the session: the UNMAP bit is dropped"
gio_start 1
run "write -q -P 0x77 0 $((4 * M))"
tgtadm_ --op update --mode logicalunit --tid 1 --lun 1 --params thin_provisioning=0
s0=$(lun_stats 1)
run "write -q -z -u 4096 $M"
read -r cmds bytes errs <<<"$(delta 1 "$s0")"
note "   write -z -u: tgtd got $cmds write commands, $bytes bytes, $errs errors"
[ "$cmds" -eq 2 ] && [ "$bytes" -eq 1024 ] && [ "$errs" -eq 1 ] ||
    fail "write -z -u after thin_provisioning=0: $cmds commands, $bytes bytes, $errs errors (expected a refused WRITE SAME with UNMAP, then one without)"
s0=$(lun_stats 1)
run "write -q -z -u $((2 * M)) $M"
read -r cmds bytes errs <<<"$(delta 1 "$s0")"
[ "$cmds" -eq 1 ] && [ "$bytes" -eq 512 ] && [ "$errs" -eq 0 ] ||
    fail "second write -z -u: $cmds commands, $bytes bytes, $errs errors (the UNMAP bit sent again?)"
run "read -q -P 0 4096 $M" "read -q -P 0 $((2 * M)) $M" "read -q -P 0x77 0 4096" \
    "read -q -P 0x77 $((M + 4096)) $((M - 4096))" "read -q -P 0x77 $((3 * M)) $M" info
expect_clean
zline=$(info_line write_zeroes)
[ "$zline" = "WRITE SAME(16) without UNMAP (the target refused its UNMAP bit: CHECK CONDITION: ILLEGAL_REQUEST, INVALID_FIELD_IN_CDB (sense key 0x5, ASC/ASCQ 0x24/0x00), although LBPWS 1); zero buffers from the core if the target refuses it" ] ||
    fail "LUN 1 info: write_zeroes: $zline"
gio_stop
echo "PASS"
