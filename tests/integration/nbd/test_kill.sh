#!/usr/bin/env bash
# The server disappearing under a running granule-io: errors, never a hang.
# nbdkit memory with 4096-byte blocks and the delay filter (every read and
# write takes 1.5 s), so that requests are in flight when it dies:
#  A. a stream of writes is acknowledged (the connection works);
#  B. 16 aio_writes in flight (8 aligned, 8 unaligned: those are in their RMW
#     read), then SIGKILL: all 16 fail within 1 s with EIO, each message
#     naming the request and the server ("connection to the server lost");
#  C. later requests (write, read, flush) fail at once with EIO ("not sent");
#  D. quit exits at once, status 1;
#  E. a second server stopped (SIGSTOP) with timeout=2: writes in flight fail
#     with ETIMEDOUT after ~2 s ("no answer within 2 s"), later ones at once;
#  F. a server killed while the client is idle: the next read fails at once.
# A hang anywhere fails the test (each wait is bounded).
. "$(dirname "$0")/fixture.sh" || exit 1

K=65536
GIO_PID=""
test_cleanup() {
    exec 3>&- 2>/dev/null || true
    if [ -n "$GIO_PID" ] && kill -0 "$GIO_PID" 2>/dev/null; then
        kill -KILL "$GIO_PID" 2>/dev/null || true
    fi
}
now_ms() { date +%s%3N; }

# granule-io reading commands from a fifo, output in $WORK/NAME.out.
start_gio() {  # name spec...
    local name=$1
    shift
    rm -f "$WORK/cmd"
    mkfifo "$WORK/cmd"
    "$GRANULE_IO" --no-timing --line-buffered --error-detail "$@" <"$WORK/cmd" \
        >"$WORK/$name.out" 2>&1 &
    GIO_PID=$!
    exec 3>"$WORK/cmd"
    OUT=$WORK/$name.out
}
send() { echo "$*" >&3; }
count() { grep -c -- "$1" "$OUT" || true; }
# Waits until PATTERN occurs N times in the output; fails after SECS seconds.
wait_for() {
    local pattern=$1 n=$2 secs=$3 end=$(($(now_ms) + $3 * 1000))
    while [ "$(count "$pattern")" -lt "$n" ]; do
        if [ "$(now_ms)" -ge $end ] || ! kill -0 "$GIO_PID" 2>/dev/null; then
            cat "$OUT" >&2
            fail "waited ${secs} s for $n x '$pattern'"
        fi
        sleep 0.02
    done
}
# quit, and granule-io must be gone within 5 s with status $1.
quit_gio() {
    send "quit"
    exec 3>&-
    local end=$((SECONDS + 5)) rc=0
    while kill -0 "$GIO_PID" 2>/dev/null; do
        [ $SECONDS -lt $end ] || fail "granule-io did not exit 5 s after quit"
        sleep 0.05
    done
    wait "$GIO_PID" || rc=$?
    GIO_PID=""
    [ $rc -eq "$1" ] || fail "granule-io exited $rc, expected $1"
}

nbd_start_nbdkit k --filter=delay --filter=blocksize-policy memory 64M "${BLOCKSIZE4K[@]}" \
    delay-read=1500ms delay-write=1500ms
uri=$REPLY
start_gio k "$uri"

note "A. acknowledged writes"
for i in $(seq 0 7); do send "aio_write -q -P $((i + 1)) $((i * K)) $K"; done
send "aio_flush"
send "write -P 0x20 1048576 4096"
wait_for "^wrote 4096/4096 bytes at offset 1048576$" 1 15
[ "$(count "failed")" = 0 ] || fail "A: $(grep failed "$OUT")"

note "B. SIGKILL with 16 writes in flight"
for i in $(seq 0 7); do send "aio_write -P 0x30 $((4 * 1048576 + i * K)) $K"; done
for i in $(seq 0 7); do send "aio_write -P 0x31 $((8 * 1048576 + i * K + 100)) 1000"; done
sleep 0.5  # all sent, the server holds them (1.5 s each)
t0=$(now_ms)
nbd_kill k
wait_for "^aio_write failed: Input/output error$" 16 5
elapsed=$(($(now_ms) - t0))
note "   16 in-flight writes failed $elapsed ms after SIGKILL"
[ $elapsed -lt 1000 ] || fail "B: the in-flight writes took $elapsed ms to fail"
[ "$(count "^wrote 65536/65536 bytes at offset 41")" = 0 ] || fail "B: a write to the killed server was acknowledged"
# Each failure: qemu-io's line, then (--error-detail) the driver's reason.
n=$(grep -c "^granule-io: nbd: \(write of 65536 bytes at offset 4[0-9]*\|read of 4096 bytes at offset 8[0-9]*\|write of [0-9]* bytes at offset 8[0-9]*\) \(to\|from\) $uri failed: connection to the server lost" "$OUT" || true)
[ "$n" = 16 ] || { cat "$OUT" >&2; fail "B: $n of 16 failures name the request, the server and the lost connection"; }
note "   $(grep -m1 "^granule-io: nbd: " "$OUT")"

note "C. later requests fail at once"
t0=$(now_ms)
send "write -P 0x40 0 4096"
send "read 0 4096"
send "flush"
wait_for "^flush failed: Input/output error$" 1 5
elapsed=$(($(now_ms) - t0))
[ $elapsed -lt 1000 ] || fail "C: later requests took $elapsed ms to fail"
for what in "^write failed: Input/output error$" "^read failed: Input/output error$" \
    "not sent: connection to the server lost"; do
    [ "$(count "$what")" -ge 1 ] || { cat "$OUT" >&2; fail "C: no '$what'"; }
done
send "info"
wait_for "^  connection: disconnected (connection to the server lost" 1 5

note "D. quit exits"
quit_gio 1

note "E. a stopped server with timeout=2"
nbd_start_nbdkit s --filter=blocksize-policy memory 64M "${BLOCKSIZE4K[@]}"
uri=$REPLY
start_gio s --image-opts "driver=nbd,filename=$uri,timeout=2"
send "write -P 1 0 4096"
wait_for "^wrote 4096/4096" 1 5
kill -STOP "${SERVER_PID[s]}"
t0=$(now_ms)
for i in 0 1 2 3; do send "aio_write -P 2 $((i * K + 7)) 5000"; done
wait_for "^aio_write failed: Connection timed out$" 4 10
elapsed=$(($(now_ms) - t0))
note "   4 writes to a stopped server failed after $elapsed ms"
[ $elapsed -ge 1500 ] && [ $elapsed -le 5000 ] || fail "E: timed out after $elapsed ms, expected ~2000"
[ "$(count "failed: no answer within 2 s (option 'timeout'); connection closed")" -ge 4 ] ||
    { cat "$OUT" >&2; fail "E: the timeout message is missing"; }
t0=$(now_ms)
send "read 0 512"
wait_for "^read failed: Connection timed out$" 1 5
[ $(($(now_ms) - t0)) -lt 1000 ] || fail "E: a later read waited for the stopped server"
quit_gio 1
kill -CONT "${SERVER_PID[s]}"
nbd_stop s

note "F. killed while idle"
nbd_start_nbdkit f memory 1M
uri=$REPLY
start_gio f "$uri"
send "write -P 3 0 512"
wait_for "^wrote 512/512" 1 5
nbd_kill f
sleep 0.2
t0=$(now_ms)
send "read 0 512"
wait_for "^read failed: Input/output error$" 1 5
[ $(($(now_ms) - t0)) -lt 1000 ] || fail "F: the read took $(($(now_ms) - t0)) ms to fail"
quit_gio 1
echo "PASS"
