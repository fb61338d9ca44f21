#!/usr/bin/env bash
# A client breaking the protocol (bad_client.py, raw NBD) gets the protocol's
# answers while other clients keep being served: a well-behaved connection
# inside the script, and qemu-io writing elsewhere at the same time. Nothing
# refused reaches the image. Then the same against a read-only export.
. "$(dirname "$0")/fixture.sh" "$1"
. "$HERE/../../lib/io_matrix.sh"  # model_write

img=$WORK/d.img
size=$((4 << 20))
truncate -s $size "$img"
serve a --image-opts "driver=blkdebug,align=4096,image.driver=raw-posix,image.filename=$img"
U=$REPLY

note "qemu-io writing unaligned at 2 MiB while the bad client runs"
cmds=()
for i in $(seq 0 199); do cmds+=(-c "write -P $((i % 250 + 1)) $((2097152 + i * 1000 + 7)) 1000"); done
qemu-io -f raw "${cmds[@]}" "$U" >"$WORK/qemu-io.out" 2>&1 &
qio=$!

python3 "$HERE/bad_client.py" "$WORK/a.sock" $size || fail "bad_client.py (read-write export)"
wait $qio || fail "qemu-io next to the bad client: $(tail -n 5 "$WORK/qemu-io.out")"
[ "$(grep -c '^wrote' "$WORK/qemu-io.out")" = 200 ] || fail "qemu-io: $(tail -n 5 "$WORK/qemu-io.out")"
kill -0 "${SERVER_PID[a]}" || fail "the server died"

note "the image: qemu-io's bytes, the good connection's, nothing of the refused writes"
model=$WORK/model.img
truncate -s $size "$model"
for i in $(seq 0 199); do model_write "$model" $((2097152 + i * 1000 + 7)) 1000 $((i % 250 + 1)); done
cmp -n 2097152 -i 2097152 "$img" "$model" || fail "qemu-io's half differs"
cmp -n 1000 "$img" /dev/zero || fail "bytes before the good connection's writes changed"
tail -c 1048576 "$img" | cmp - <(head -c 1048576 /dev/zero) || fail "the export's last MiB changed (a refused write landed?)"
stop_server a

note "a read-only export (-r)"
serve ro -r "$img"
python3 "$HERE/bad_client.py" "$WORK/ro.sock" $size --read-only || fail "bad_client.py (read-only export)"
# qemu sees NBD_FLAG_READ_ONLY and will not open the export read-write.
out=$(qemu-io -f raw -c "write 0 512" "$REPLY" 2>&1) && fail "qemu-io wrote to a read-only export: $out"
grep -q "Permission denied" <<<"$out" || fail "qemu-io on a read-only export: $out"
stop_server ro
note "PASS"
