#!/usr/bin/env bash
# Ending connections: SIGTERM while writes are in flight (they complete and
# are answered, then the server flushes and exits 0); a client killed in the
# middle of its writes (the server completes what it received, and serves
# the next client); SIGTERM with an idle client attached (prompt exit).
# The writes are slowed by throttle.bps-write so they are really in flight.
. "$(dirname "$0")/fixture.sh" "$1"
. "$HERE/../../lib/io_matrix.sh"  # model_write

img=$WORK/d.img
model=$WORK/model.img
truncate -s 16M "$img" "$model"
slow="driver=raw-posix,filename=$img,throttle.bps-write=2M"

# 8 writes of 256 KiB (1 s at 2 MB/s), distinct patterns, at unaligned offsets.
writes() {  # first-pattern
    local i
    cmds=()
    for i in $(seq 0 7); do
        cmds+=(-c "aio_write -P $(($1 + i)) $((i * 1048576 + 333)) 262144")
        model_write "$model" $((i * 1048576 + 333)) 262144 $(($1 + i))
    done
}

note "SIGTERM with 8 throttled writes in flight: all answered, flushed, exit 0"
serve a --image-opts "$slow"
U=$REPLY
writes 1
qemu-io -f raw "${cmds[@]}" -c aio_flush "$U" >"$WORK/q1.out" 2>&1 &
q=$!
sleep 0.3
t0=$SECONDS
stop_server a
wait $q || true
[ "$(grep -c '^wrote' "$WORK/q1.out")" = 8 ] || fail "not every in-flight write was answered: $(cat "$WORK/q1.out")"
cmp "$img" "$model" || fail "the answered writes are not all in the image"

note "a client killed in the middle of its writes: what the server received lands; the server goes on"
serve b --image-opts "$slow"
U=$REPLY
writes 21
qemu-io -f raw "${cmds[@]}" -c aio_flush "$U" >"$WORK/q2.out" 2>&1 &
q=$!
sleep 0.5
kill -KILL $q
wait $q 2>/dev/null || true
grep -q '^wrote' "$WORK/q2.out" && fail "a write was answered before the kill; make the throttle slower"
# The server completes the writes it received (about 1 s of throttle).
for i in $(seq 50); do cmp -s "$img" "$model" && break; sleep 0.1; done
cmp "$img" "$model" || fail "the killed client's received writes did not all land"
out=$(qemu-io -f raw -c "read -P 28 $((7 * 1048576 + 333)) 262144" "$U" 2>&1) || fail "next client: $out"
! grep -q "Pattern verification failed" <<<"$out" || fail "next client reads: $out"
stop_server b

note "SIGTERM with an idle client attached: the server exits at once"
serve c "$img"
U=$REPLY
mkfifo "$WORK/in"
qemu-io -f raw "$U" <"$WORK/in" >"$WORK/q3.out" 2>&1 &
q=$!
exec 3>"$WORK/in"
echo "read 0 512" >&3
for i in $(seq 50); do grep -q '^read' "$WORK/q3.out" && break; sleep 0.1; done
t0=$(date +%s%N)
stop_server c
elapsed=$((($(date +%s%N) - t0) / 1000000))
[ $elapsed -lt 3000 ] || fail "the server took $elapsed ms to leave an idle client"
exec 3>&-
wait $q || true

note "clients hanging up in the middle of a write's payload: nothing left waiting for them"
serve e "driver=memory,size=1M"
python3 - "$HERE" "$WORK/e.sock" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
from nbd_raw import WRITE, connect, go, request
for offset in (0, 1 << 30):  # a write the server takes, and one it refuses (past the end)
    s = connect(sys.argv[2])
    go(s)
    request(s, WRITE, offset, 65536, payload=b"x" * 1000)  # 1000 of 65536 bytes
    s.close()
PY
sleep 0.3
t0=$(date +%s%N)
stop_server e
elapsed=$((($(date +%s%N) - t0) / 1000000))
[ $elapsed -lt 3000 ] || fail "the server took $elapsed ms to exit after clients hung up mid-payload"

note "SIGTERM with a client that never reads its replies: closed after the grace, exit 0"
serve d "driver=memory,size=64M"
python3 - "$HERE" "$WORK/d.sock" "$WORK/d.sent" <<'PY' &
import sys, time
sys.path.insert(0, sys.argv[1])
from nbd_raw import READ, connect, go, request
s = connect(sys.argv[2])
go(s)
for i in range(8):  # 8 reads of 32 MiB whose replies are never read
    request(s, READ, 0, 32 << 20)
open(sys.argv[3], "w").close()
time.sleep(30)
PY
stuck=$!
for i in $(seq 100); do [ -e "$WORK/d.sent" ] && break; sleep 0.1; done
[ -e "$WORK/d.sent" ] || fail "the stuck client did not get its requests out"
sleep 0.5  # the server reads them and starts replying
t0=$(date +%s%N)
stop_server d
elapsed=$((($(date +%s%N) - t0) / 1000000))
kill $stuck 2>/dev/null || true
wait $stuck 2>/dev/null || true
[ $elapsed -ge 9000 ] && [ $elapsed -lt 14000 ] || fail "exit after $elapsed ms (the grace is 10 s)"
grep -q "still sending replies after 10 s; closing them" "$WORK/d.log" || fail "log: $(cat "$WORK/d.log")"
note "PASS"
