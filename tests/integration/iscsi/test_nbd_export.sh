#!/usr/bin/env bash
# granule-nbd in front of an iSCSI LUN with 4096-byte logical blocks (LUN 2):
# NBD clients doing 512-byte and byte-granular I/O (qemu-io) work on it, the
# server advertising a minimum block size of 1 and the LUN's 4096 as the
# preferred size; the LUN's blocks, read back through the iscsi driver,
# hold exactly what qemu-io wrote.
. "$(dirname "$0")/fixture.sh"
[ -x "${GRANULE_NBD:-}" ] || skip "granule-nbd was not built (GRANULE_NBD unset)"
command -v qemu-io >/dev/null && command -v nbdinfo >/dev/null ||
    skip "qemu-io or nbdinfo not found (apt-get install qemu-utils libnbd-bin)"
iscsi_start_target
lun="iscsi://127.0.0.1:$PORT/$IQN/2"

"$GRANULE_NBD" -k "$WORK/nbd.sock" --pid-file "$WORK/nbd.pid" "$lun" 2>"$WORK/nbd.log" &
nbd_pid=$!
test_cleanup() { kill "$nbd_pid" 2>/dev/null; wait "$nbd_pid" 2>/dev/null; }
for _ in $(seq 100); do [ -s "$WORK/nbd.pid" ] && break; sleep 0.05; done
[ -s "$WORK/nbd.pid" ] || fail "granule-nbd did not listen: $(cat "$WORK/nbd.log")"
uri="nbd+unix:///?socket=$WORK/nbd.sock"

note "advertised over NBD: minimum 1, preferred 4096 (the LUN's block)"
info=$(nbdinfo "$uri")
grep -q "block_size_minimum: 1$" <<<"$info" || fail "minimum: $info"
grep -q "block_size_preferred: 4096$" <<<"$info" || fail "preferred: $info"

note "qemu-io's 512-byte and odd writes through NBD, read back through the iscsi driver"
out=$(qemu-io -f raw -c "write -P 0x51 512 512" -c "write -P 0x52 4095 3" -c "aio_write -P 0x53 9000 700" \
    -c aio_flush -c "read -P 0x51 512 512" -c "read -P 0x52 4095 3" "$uri" 2>&1) || fail "qemu-io: $out"
! grep -q "verification failed" <<<"$out" || fail "qemu-io: $out"
kill "$nbd_pid"
wait "$nbd_pid" || fail "granule-nbd exit status: $(cat "$WORK/nbd.log")"
out=$("$GRANULE_IO" --no-timing -r -c "read -P 0 0 512" -c "read -P 0x51 512 512" -c "read -P 0 1024 3071" \
    -c "read -P 0x52 4095 3" -c "read -P 0 4098 4902" -c "read -P 0x53 9000 700" -c "read -P 0 9700 100" "$lun" 2>&1) ||
    fail "reading the LUN back: $out"
! grep -q "verification failed" <<<"$out" || fail "the LUN's bytes: $out"
note "PASS"
