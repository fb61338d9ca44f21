#!/usr/bin/env bash
# granule-nbd serving blkdebug align=4096 over raw-posix, used by peers: what
# nbdinfo sees advertised, qemu-io's unaligned writes byte-checked against a
# model, base:allocation extents, two clients writing into the same blocks at
# once, and qemu-img convert / nbdcopy both ways.
. "$(dirname "$0")/fixture.sh" "$1"
. "$HERE/../../lib/io_matrix.sh"  # model_write

img=$WORK/d.img
model=$WORK/model.img
truncate -s 8M "$img" "$model"
serve a --image-opts "driver=blkdebug,align=4096,image.driver=raw-posix,image.filename=$img"
U=$REPLY

note "advertised: minimum 1, preferred 4096 (the alignment), maximum 32 MiB; base:allocation"
export_info "$U"
[ "${INFO[block_size_minimum]}" = 1 ] || fail "minimum block size: ${INFO[json]}"
[ "${INFO[block_size_preferred]}" = 4096 ] || fail "preferred block size: ${INFO[json]}"
[ "${INFO[block_size_maximum]}" = 33554432 ] || fail "maximum block size: ${INFO[json]}"
[ "${INFO[export-size]}" = 8388608 ] || fail "export size: ${INFO[json]}"
[ "${INFO[contexts]}" = "['base:allocation']" ] || fail "contexts: ${INFO[json]}"
for f in can_flush can_fua can_trim can_zero can_fast_zero can_multi_conn can_df can_cache; do
    [ "${INFO[$f]}" = True ] || fail "$f is not advertised: ${INFO[json]}"
done
[ "${INFO[is_read_only]}" = False ] || fail "read-only: ${INFO[json]}"

note "qemu-io's unaligned writes (sync and aio, sharing blocks), read back with -P, image = model"
writes=("1 1 1" "511 2 2" "513 1000 3" "4095 4098 4" "8193 8192 5" "20000 100 6" "40000 5000 7"
        "65535 70000 8" "300000 1 9")
cmds=()
checks=()
for w in "${writes[@]}"; do
    read -r off len pat <<<"$w"
    cmds+=(-c "write -P $pat $off $len")
    checks+=(-c "read -P $pat $off $len")
    model_write "$model" "$off" "$len" "$pat"
done
for i in $(seq 0 15); do  # 16 aio writes of 700 bytes, 4 per block
    off=$((200000 + i * 1000))
    cmds+=(-c "aio_write -P $((32 + i)) $off 700")
    checks+=(-c "read -P $((32 + i)) $off 700")
    model_write "$model" "$off" 700 $((32 + i))
done
cmds+=(-c aio_flush)
out=$(qemu-io -f raw "${cmds[@]}" "$U" 2>&1) || fail "qemu-io writes: $out"
[ "$(grep -c '^wrote' <<<"$out")" = 25 ] || fail "not every write reported: $out"
out=$(qemu-io -f raw "${checks[@]}" "$U" 2>&1) || fail "qemu-io reads: $out"
! grep -q "Pattern verification failed" <<<"$out" || fail "read -P: $out"
cmp "$img" "$model" || fail "the image differs from the model after qemu-io's writes"

note "base:allocation through nbdinfo --map: data where written, a hole after"
map=$(nbdinfo --map "$U")
first=$(head -n 1 <<<"$map")
last=$(tail -n 1 <<<"$map")
[ "$(awk '{print $1, $3, $4}' <<<"$first")" = "0 0 data" ] || fail "first extent: $map"
[ "$(awk '{print $3, $4}' <<<"$last")" = "3 hole,zero" ] || fail "last extent: $map"
[ "$(awk '{print $1 + $2}' <<<"$last")" = 8388608 ] || fail "extents do not end at the export's end: $map"

note "two clients at once, each writing every other 512 bytes of the same 4k blocks"
region=$((4 << 20))
a_cmds=()
b_cmds=()
for i in $(seq 0 127); do
    off=$((region + i * 512))
    if ((i % 2)); then b_cmds+=(-c "aio_write -P 0xb2 $off 512"); else a_cmds+=(-c "aio_write -P 0xa1 $off 512"); fi
done
python3 -c 'import sys; f = open(sys.argv[1], "r+b"); f.seek(int(sys.argv[2])); f.write((b"\xa1" * 512 + b"\xb2" * 512) * 64)' \
    "$model" $region
qemu-io -f raw "${a_cmds[@]}" -c aio_flush "$U" >"$WORK/a.out" 2>&1 &
a=$!
qemu-io -f raw "${b_cmds[@]}" -c aio_flush "$U" >"$WORK/b.out" 2>&1 &
b=$!
wait $a || fail "client A: $(cat "$WORK/a.out")"
wait $b || fail "client B: $(cat "$WORK/b.out")"
cmp "$img" "$model" || fail "concurrent clients: the image differs from the model"

note "qemu-img convert from and to the export"
qemu-img convert -f raw -O raw "$U" "$WORK/out1.img"
cmp "$img" "$WORK/out1.img" || fail "qemu-img convert from the export"
src=$WORK/src.img
truncate -s 8M "$src"
head -c 1000000 /dev/urandom | dd of="$src" bs=1 seek=3001 conv=notrunc status=none
head -c 77777 /dev/urandom | dd of="$src" bs=1 seek=6000001 conv=notrunc status=none
qemu-img convert -n -f raw -O raw "$src" "$U"
cmp "$img" "$src" || fail "qemu-img convert to the export"

note "nbdcopy from and to the export"
nbdcopy "$U" "$WORK/out2.img"
cmp "$img" "$WORK/out2.img" || fail "nbdcopy from the export"
head -c 8M /dev/urandom >"$src"
nbdcopy "$src" "$U"
cmp "$img" "$src" || fail "nbdcopy to the export"

stop_server a
note "PASS"
