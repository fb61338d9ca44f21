#!/usr/bin/env bash
# The point of granule-nbd: a 4096-byte-sector disk opened with O_DIRECT,
# which refuses any I/O not aligned to 4096, served to clients that do
# 512-byte I/O. Advertised: minimum 1, preferred 4096. qemu-io writes 512
# bytes at odd sector offsets; the device's own bytes (read back with
# O_DIRECT) match the model. Needs root and loop devices.
. "$(dirname "$0")/fixture.sh" "$1"
. "$HERE/../../lib/io_matrix.sh"  # model_write

[ "$(id -u)" -eq 0 ] || skip "a loop device needs root (running as uid $(id -u))"
command -v losetup >/dev/null || skip "losetup not found (util-linux)"
truncate -s 16M "$WORK/backing.img"
dev=$(losetup -f --show --sector-size 4096 "$WORK/backing.img" 2>&1) || skip "cannot attach a loop device: $dev"
test_cleanup() { losetup -d "$dev"; }
[ "$(blockdev --getss "$dev")" = 4096 ] || fail "$dev has $(blockdev --getss "$dev")-byte sectors"

serve d "driver=raw-posix,filename=$dev,cache.direct=on"
U=$REPLY
export_info "$U"
[ "${INFO[block_size_minimum]}" = 1 ] || fail "minimum: ${INFO[json]}"
[ "${INFO[block_size_preferred]}" = 4096 ] || fail "preferred: ${INFO[json]}"
[ "${INFO[export-size]}" = 16777216 ] || fail "size: ${INFO[json]}"

note "512-byte writes at odd sectors (and unaligned bytes) through qemu-io"
model=$WORK/model.img
truncate -s 16M "$model"
cmds=()
for s in 1 3 5 7 9 15 17 4095; do
    cmds+=(-c "aio_write -P $((s % 250 + 1)) $((s * 512)) 512")
    model_write "$model" $((s * 512)) 512 $((s % 250 + 1))
done
cmds+=(-c aio_flush -c "write -P 99 1000001 7777")
model_write "$model" 1000001 7777 99
out=$(qemu-io -f raw "${cmds[@]}" "$U" 2>&1) || fail "qemu-io: $out"
[ "$(grep -c '^wrote' <<<"$out")" = 9 ] || fail "qemu-io: $out"
out=$(qemu-io -f raw -c "read -P 6 2560 512" -c "read -P 0 3072 512" -c "read -P 99 1000001 7777" "$U" 2>&1) ||
    fail "qemu-io reads: $out"
! grep -q "verification failed" <<<"$out" || fail "qemu-io reads: $out"
stop_server d
dd if="$dev" of="$WORK/device.img" bs=1M iflag=direct status=none
cmp "$WORK/device.img" "$model" || fail "the device's bytes differ from the model"

note "nbdcopy of a whole image onto it"
head -c 16M /dev/urandom >"$WORK/src.img"
serve d "driver=raw-posix,filename=$dev,cache.direct=on"
nbdcopy "$WORK/src.img" "$REPLY"
stop_server d
dd if="$dev" of="$WORK/device.img" bs=1M iflag=direct status=none
cmp "$WORK/device.img" "$WORK/src.img" || fail "nbdcopy's bytes are not on the device"
note "PASS"
