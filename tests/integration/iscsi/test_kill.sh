#!/usr/bin/env bash
# The target disappearing under a running granule-io (timeout=3):
#  A. a stream of writes is acknowledged;
#  B. tgtd stopped (SIGSTOP): a write fails with "no answer within 3 s" after
#     ~3 s, not a hang; after SIGCONT the next write reconnects and succeeds;
#  C. mid-stream: writes sent to a stopped tgtd, then SIGKILL: all of them
#     fail at once (connection reset), long before the timeout;
#  D. with the target gone, a new write fails at once (connection refused);
#  E. tgtd restarted on the same port: the next write reconnects and succeeds;
# and afterwards every acknowledged write is in the backing file, while the
# writes that failed at the SIGKILL (tgtd never read them) are not: nothing
# was replayed on the new connection.
. "$(dirname "$0")/fixture.sh"

lun=2
backing=$WORK/lun$lun.img
iscsi_start_target
port=$PORT
url=$(lun_url $lun)
K=65536
M=1048576

GIO_PID=""
test_cleanup() {
    exec 3>&- 2>/dev/null || true
    if [ -n "$GIO_PID" ] && kill -0 "$GIO_PID" 2>/dev/null; then
        kill -KILL "$GIO_PID" 2>/dev/null || true
    fi
}
mkfifo "$WORK/cmd"
"$GRANULE_IO" --no-timing --line-buffered --error-detail --image-opts "driver=iscsi,filename=$url,timeout=3" \
    <"$WORK/cmd" >"$WORK/out" 2>&1 &
GIO_PID=$!
exec 3>"$WORK/cmd"
send() { echo "$*" >&3; }
count() { grep -c -- "$1" "$WORK/out" || true; }
# Waits until PATTERN occurs N times in the output; fails after SECS seconds.
wait_for() {
    local pattern=$1 n=$2 secs=$3 end=$((SECONDS + $3))
    while [ "$(count "$pattern")" -lt "$n" ]; do
        if [ $SECONDS -ge $end ] || ! kill -0 "$GIO_PID" 2>/dev/null; then
            cat "$WORK/out" >&2
            fail "waited ${secs} s for $n x '$pattern'"
        fi
        sleep 0.05
    done
}
now_ms() { date +%s%3N; }

declare -A pattern_at  # offset -> byte written there
aio_write() {  # pattern offset length
    pattern_at[$2]=$1
    send "aio_write -P $1 $2 $3"
}

note "A. acknowledged stream"
for i in $(seq 0 15); do aio_write $((i + 1)) $((i * K)) $K; done
send "aio_flush"
send "write -P 0x20 $((2 * M - 512)) 1024"  # unaligned: RMW on the 4 KiB blocks
pattern_at[$((2 * M - 512))]=0x20
send "info"
wait_for "session: connected" 1 10

note "B. SIGSTOP: a write times out, SIGCONT: the next one reconnects"
kill -STOP "$TGTD_PID"
t0=$(now_ms)
send "aio_write -q -P 0x30 $((3 * M)) $K"
wait_for "aio_write failed" 1 10
elapsed=$(($(now_ms) - t0))
# qemu-io's line, then (--error-detail) the driver's reason on the next.
wait_for "granule-io: .*no answer within 3 s" 1 5 ||
    fail "the timeout message is missing: $(grep -A1 'aio_write failed' "$WORK/out")"
[ $elapsed -ge 2500 ] && [ $elapsed -le 6000 ] || fail "timed out after $elapsed ms, expected ~3000"
note "   failed after $elapsed ms: $(grep -m1 'aio_write failed' "$WORK/out")"
kill -CONT "$TGTD_PID"
aio_write 0x31 $((4 * M)) $K
send "aio_flush"
send "info"
wait_for "session: connected (reconnects: 1" 1 10

note "C. mid-stream SIGKILL with writes in flight"
wrote_before=$(count "^wrote")
for i in $(seq 0 31); do aio_write $((0x40 + i)) $((5 * M + i * K)) $K; done
wait_for "^wrote" $((wrote_before + 32)) 10  # so that exactly the next 8 are in flight
kill -STOP "$TGTD_PID"
for i in $(seq 0 7); do send "aio_write -q -P 0x60 $((8 * M + i * K)) $K"; done
sleep 0.5
failed_before=$(count "aio_write failed")
t0=$(now_ms)
iscsi_kill_target
wait_for "aio_write failed" $((failed_before + 8)) 10
elapsed=$(($(now_ms) - t0))
note "   8 in-flight writes failed $elapsed ms after SIGKILL"
[ $elapsed -lt 2500 ] || fail "in-flight writes took $elapsed ms to fail after the connection reset"
note "   $(grep 'aio_write failed' "$WORK/out" | tail -n 1)"
# Each failure: qemu-io's line, then the driver's reason (--error-detail).
wait_for "^granule-io: .*connection lost" 8 5
grep -A1 "aio_write failed" "$WORK/out" | grep "^granule-io: " | tail -n 8 | grep -vq "connection lost" &&
    fail "unexpected message: $(grep -A1 'aio_write failed' "$WORK/out" | tail -n 16)"

note "D. target gone: a new write fails at once"
t0=$(now_ms)
send "write -q -P 0x70 $((10 * M)) 4096"
# The whole line (qemu-io's: the errno's text).
wait_for "^write failed: Connection refused$" 1 10
elapsed=$(($(now_ms) - t0))
[ $elapsed -lt 2500 ] || fail "the refused reconnect took $elapsed ms"
note "   $(grep '^write failed' "$WORK/out")"

note "E. tgtd back on port $port: the next write reconnects"
iscsi_start_target "$port"
aio_write 0x71 $((11 * M)) $K
send "aio_flush"
send "info"
wait_for "session: connected (reconnects: 2" 1 10
send "quit"
exec 3>&-
end=$((SECONDS + 10))
while kill -0 "$GIO_PID" 2>/dev/null; do
    [ $SECONDS -lt $end ] || fail "granule-io did not exit 10 s after quit"
    sleep 0.1
done
rc=0
wait "$GIO_PID" || rc=$?
GIO_PID=""
[ $rc -eq 1 ] || fail "granule-io exited $rc, expected 1 (some writes failed)"

note "acknowledged writes are in the backing file, the killed ones are not"
acked=0
while read -r len off; do
    pat=${pattern_at[$off]:-}
    [ -n "$pat" ] || continue
    got=$(file_bytes "$backing" "$off" "$len" | sort -u)
    [ "$got" = "$(printf '%02x' "$pat")" ] ||
        fail "acknowledged write at offset $off ($len bytes of $pat) is not in the backing file"
    acked=$((acked + 1))
done < <(sed -n 's/^wrote \([0-9]*\)\/[0-9]* bytes at offset \([0-9]*\)$/\1 \2/p' "$WORK/out")
[ $acked -ge 50 ] || fail "only $acked acknowledged writes found in the output"
got=$(file_bytes "$backing" $((8 * M)) $((8 * K)) | sort -u)
[ "$got" = "00" ] || fail "writes that failed at the SIGKILL reached the new target (replayed?)"
grep -c "failed" "$WORK/out" | xargs -I{} echo "--- {} failure lines; $acked acknowledged writes verified"
echo "PASS"
