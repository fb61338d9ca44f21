#!/usr/bin/env bash
# A sparse overlay file in front of LUN 2 (32 MiB, 4096-byte blocks) as its
# backing node: reads show the LUN's data without writing the overlay;
# with copy-on-read a full read leaves the overlay equal to the LUN; writes
# land in the overlay only (merged with the LUN's bytes around them), the LUN
# is never written.
. "$(dirname "$0")/fixture.sh"
iscsi_start_target

M=1048576
lun=$WORK/lun2.img
head -c $((32 * M)) /dev/urandom | dd of="$lun" bs=1M conv=notrunc status=none
lun_sum=$(md5sum <"$lun")
spec() { echo "driver=raw-posix,filename=$1,backing.filename=$(lun_url 2)${2:-}"; }

note "reads through an empty overlay show the LUN, the overlay stays a hole"
: >"$WORK/plain.img"
out=$("$GRANULE_IO" --no-timing --line-buffered --error-detail -c "read -v 0 16" -c length -c stats \
    --image-opts "$(spec "$WORK/plain.img")" 2>&1) || fail "read through the overlay: $out"
want=$(file_bytes "$lun" 0 16 | paste -sd' ')
got=$(dump_bytes <<<"$out" | paste -sd' ')
[ "$got" = "$want" ] || fail "first 16 bytes: got '$got', the LUN has '$want'"
grep -q "^32 MiB$" <<<"$out" || fail "length is not the LUN's: $out"
grep -q "^bytes_copied_on_read: 0$" <<<"$out" || fail "copied without copy-on-read: $out"
[ "$(stat -c %b "$WORK/plain.img")" -eq 0 ] || fail "the overlay was written without copy-on-read"

note "copy-on-read: a full read fills the overlay with the LUN's data"
: >"$WORK/cor.img"
out=$("$GRANULE_IO" --no-timing --line-buffered --error-detail -c "read -q 0 $((32 * M))" -c stats \
    --image-opts "$(spec "$WORK/cor.img" ,copy-on-read=on)" 2>&1) || fail "copy-on-read: $out"
grep -q "^bytes_copied_on_read: $((32 * M))$" <<<"$out" || fail "not every granule copied: $out"
cmp "$WORK/cor.img" "$lun" || fail "the overlay differs from the LUN after a full copy-on-read"

note "writes go to the overlay only"
out=$("$GRANULE_IO" --no-timing --line-buffered --error-detail -c "write -q -P 0x99 5000 100" -c "read -q -P 0x99 5000 100" \
    --image-opts "$(spec "$WORK/plain.img")" 2>&1) || fail "write through the overlay: $out"
[ "$(md5sum <"$lun")" = "$lun_sum" ] || fail "the LUN (backing) was written"
cp "$lun" "$WORK/expect.img"
head -c 100 /dev/zero | tr '\0' '\231' | dd of="$WORK/expect.img" bs=100 oflag=seek_bytes seek=5000 \
    conv=notrunc status=none
cmp -n 65536 "$WORK/plain.img" "$WORK/expect.img" ||
    fail "the overlay's first granule is not the LUN's bytes with the write merged in"
echo "PASS"
