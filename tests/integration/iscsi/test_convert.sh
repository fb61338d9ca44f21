#!/usr/bin/env bash
# granule-img convert to and from LUN 2 (32 MiB, 4096-byte blocks): a file
# with holes and an unaligned length onto the LUN's old data (-n: zero runs
# are written as zeroes, the LUN's bytes past the file stay), then the LUN
# into a new sparse file; both judged byte for byte on the LUN's backing file.
. "$(dirname "$0")/fixture.sh"
[ -x "${GRANULE_IMG:-}" ] || fail "GRANULE_IMG is not set to granule-img"
iscsi_start_target

M=1048576
lun=$WORK/lun2.img
head -c $((32 * M)) /dev/zero | tr '\0' '\132' | dd of="$lun" bs=1M conv=notrunc status=none
src=$WORK/src.img len=$((5 * M + 333))
truncate -s $len "$src"
dd if=/dev/urandom of="$src" bs=1 seek=1000 count=300000 conv=notrunc status=none
dd if=/dev/urandom of="$src" bs=1 seek=$((len - 200)) count=200 conv=notrunc status=none

note "file -> LUN (-n, zero runs over old data)"
out=$("$GRANULE_IMG" convert -n "$src" "$(lun_url 2)" 2>&1) || fail "convert to the LUN: $out"
grep -q "written as zeroes" <<<"$out" || fail "unexpected summary: $out"
cmp -n $len "$src" "$lun" || fail "the LUN differs from the file after convert"
[ "$(tail -c $((32 * M - len)) "$lun" | tr -d '\132' | wc -c)" -eq 0 ] ||
    fail "convert changed the LUN past the file's length"

note "LUN -> new file"
out=$("$GRANULE_IMG" convert "$(lun_url 2)" "$WORK/back.img" 2>&1) || fail "convert from the LUN: $out"
cmp "$lun" "$WORK/back.img" || fail "the copy differs from the LUN"
echo "PASS"
