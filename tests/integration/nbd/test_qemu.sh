#!/usr/bin/env bash
# Against qemu-nbd (another server implementation) serving raw files:
#  A. export "disk" of a 4 MiB + 1536-byte file of random bytes, opened by URI
#     (nbd+unix:///disk?socket=...) and by the dotted keys (server.type=unix,
#     server.path=..., export=disk): unaligned write / writev / aio_write and
#     write -z, each read back with -P; afterwards the file itself equals a
#     reference built with dd (the server wrote exactly those bytes, nothing
#     around them), and a wrong export name fails the open naming the server;
#  B. --read-only: info says read-only (NBD_FLAG_READ_ONLY), writes, zeroes and
#     discards are refused before reaching the server, reads return the
#     file's bytes, and the file is unchanged.
. "$(dirname "$0")/fixture.sh" || exit 1
command -v qemu-nbd >/dev/null || skip "qemu-nbd not found (apt-get install qemu-utils)"

# Not a multiple of 4096 (qemu-nbd rounds a size that is no multiple of 512
# up to one, reading zeroes past the file: that is qemu's, not tested here).
size=$((4 * 1024 * 1024 + 1536))
img=$WORK/disk.raw
ref=$WORK/reference.raw
head -c $size /dev/urandom >"$img"
cp "$img" "$ref"

note "A. qemu-nbd -x disk, writable"
nbd_start_qemu_nbd q -f raw -x disk --cache=none "$img"
uri=$(nbd_uri q disk)
dotted="driver=nbd,server.type=unix,server.path=$WORK/q.sock,export=disk"
script=$WORK/a.io
check=$WORK/check.io
: >"$script"
: >"$check"
n=0
add_write() {  # cmd pattern offset length... (the writes do not overlap)
    local cmd=$1 pat=$2 off=$3
    shift 3
    local total=0 l
    for l in "$@"; do total=$((total + l)); done
    echo "$cmd -q -P $pat $off $*" >>"$script"
    echo "read -q -P $pat $off $total" >>"$check"
    model_write "$ref" "$off" "$total" "$pat"
    n=$((n + 1))
}
add_write write 0x11 1 4093
add_write write 0x12 4095 2
add_write write 0x13 100000 70000
add_write writev 0x14 300001 100 5000 3
add_write aio_write 0x15 500007 65536
add_write aio_write 0x16 565543 1
echo "aio_flush" >>"$script"
# The last bytes: the file's end is not on a 4096 boundary.
add_write write 0x17 $((size - 700)) 700
echo "write -q -z 1000001 20000" >>"$script"
echo "read -q -P 0 1000001 20000" >>"$check"
model_write "$ref" 1000001 20000 0
echo "flush" >>"$script"
gio "$uri" <"$script" >"$WORK/a.out" 2>&1 || { cat "$WORK/a.out" >&2; fail "A: writes by URI failed"; }
[ ! -s "$WORK/a.out" ] || fail "A: granule-io said: $(head -n 5 "$WORK/a.out")"
gio -r --image-opts "$dotted" <"$check" >"$WORK/check.out" 2>&1 ||
    { cat "$WORK/check.out" >&2; fail "A: read-back through the dotted keys failed"; }
[ ! -s "$WORK/check.out" ] || fail "A: read-back said: $(head -n 5 "$WORK/check.out")"
gio -c info --image-opts "$dotted" >"$WORK/info.txt"
expect_grep "^  export: 'disk', size $size$" "$WORK/info.txt" "A: export name and size"
expect_grep "^length: $size$" "$WORK/info.txt" "A: length"
[ "$(nbdinfo --size "$uri")" = "$size" ] || fail "A: nbdinfo --size says $(nbdinfo --size "$uri")"
cmp "$img" "$ref" || fail "A: the served file differs from the reference after $n writes"
note "   $n unaligned writes and a write -z landed exactly (file = reference)"

out=$(gio -c "read 0 1" --image-opts "driver=nbd,server.path=$WORK/q.sock,export=nope" 2>&1) &&
    fail "A: opening export 'nope' succeeded"
[[ "$out" == *"can't open device"*"nbd: cannot connect to unix socket $WORK/q.sock, export 'nope': "* ]] ||
    fail "A: the refusal of export 'nope' does not name the server: $out"
note "   $out"
nbd_stop q

note "B. qemu-nbd --read-only"
cp "$img" "$WORK/before.raw"
nbd_start_qemu_nbd r -f raw --read-only "$img"
uri=$REPLY
gio -c info "$uri" >"$WORK/info.txt"
expect_grep "^read_only: yes$" "$WORK/info.txt" "B: read_only"
expect_grep "^  writes: refused (NBD_FLAG_READ_ONLY); flush, trim and write-zeroes are not sent$" "$WORK/info.txt" "B: info"
expect_grep "^  transmission_flags: read-only yes," "$WORK/info.txt" "B: flags"
gio -c "write -P 1 0 512" -c "write -z 4096 4096" -c "discard 0 4096" -c "read -v 4090 12" \
    "$uri" >"$WORK/b.out" 2>&1 && fail "B: granule-io exited 0 although writes were refused"
[ "$(grep -c '^granule-io: Block node is read-only$' "$WORK/b.out")" = 3 ] ||
    { cat "$WORK/b.out" >&2; fail "B: write, write -z and discard were not all refused as read-only"; }
dump_bytes "$WORK/b.out" >"$WORK/got.hex"
file_bytes "$img" 4090 12 >"$WORK/want.hex"
cmp -s "$WORK/got.hex" "$WORK/want.hex" || fail "B: read -v returned other bytes than the file's"
cmp "$img" "$WORK/before.raw" || fail "B: the read-only export changed"
echo "PASS"
