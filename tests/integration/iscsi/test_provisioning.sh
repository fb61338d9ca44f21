#!/usr/bin/env bash
# Discard and write-zeroes on the thin-provisioned LUN 1 (LBPME, LBPU, LBPWS,
# LBPRZ all 1): discard really reaches the target (UNMAP punches holes: the
# backing file's allocation shrinks, the range reads as zeroes), and unaligned
# write -z zeroes exactly its bytes (WRITE SAME(16) in the aligned middle, the
# core's zero buffers at the edges). granule-io's write -z does not pass
# may_unmap, so WRITE SAME goes without its UNMAP bit and frees nothing
# (GRANULE_REQ_MAY_UNMAP is a permission; the unmapping path is exercised
# where a caller passes it). On LUN 2 (no provisioning) discard is a no-op and
# write -z still zeroes (WRITE SAME(16) without UNMAP there too: see
# test_zeroes.sh for the commands tgtd receives).
. "$(dirname "$0")/fixture.sh"
iscsi_start_target

M=1048576
allocated() { sync; stat -c %b "$1"; }

note "LUN 1: discard unmaps"
backing=$WORK/lun1.img
"$GRANULE_IO" --no-timing --line-buffered --error-detail -c "write -q -P 0x44 0 $((8 * M))" -c flush "$(lun_url 1)" >/dev/null ||
    fail "writing LUN 1 failed"
before=$(allocated "$backing")
out=$("$GRANULE_IO" --no-timing --line-buffered --error-detail -c "discard 4096 $((4 * M))" -c "read -q -P 0 4096 $((4 * M))" \
    -c "read -q -P 0x44 0 4096" -c "read -q -P 0x44 $((4 * M + 4096)) $((4 * M - 4096))" \
    "$(lun_url 1)" 2>&1) || fail "discard on LUN 1: $out"
after=$(allocated "$backing")
[ "$after" -lt "$before" ] || fail "discard did not free space in the backing file ($before -> $after blocks)"
note "   backing file: $before -> $after 512-byte blocks allocated"

note "LUN 1: unaligned write -z (WRITE SAME without UNMAP in the middle)"
ref=$WORK/ref1.img
head -c $((16 * M)) "$backing" >"$ref"  # the LUN is 3 GiB; the test stays in the first 16 MiB
at=$((5 * M + 1001)) len=$((2 * M + 5))
before=$(allocated "$backing")
out=$("$GRANULE_IO" --no-timing --line-buffered --error-detail -c "write -z $at $len" -c "read -q -P 0 $at $len" \
    -c "read -q -P 0x44 $((at - 1001)) 1001" "$(lun_url 1)" 2>&1) || fail "write -z on LUN 1: $out"
after=$(allocated "$backing")
head -c $len /dev/zero | dd of="$ref" bs=64k oflag=seek_bytes seek=$at conv=notrunc status=none
cmp -n $((16 * M)) "$backing" "$ref" || fail "write -z on LUN 1 changed other bytes than its own"
# Without may_unmap the range stays allocated (written over with zeroes).
[ "$after" -eq "$before" ] || fail "write -z without may_unmap changed the allocation (UNMAP bit set?): $before -> $after blocks"
note "   backing file: $before -> $after 512-byte blocks allocated"

# WRITE SAME without UNMAP makes tgtd write every block: 1 GiB + 4 MiB is
# nine commands (split at 128 MiB, write_same_blocks).
note "LUN 1: 1 GiB + 4 MiB write -z and 3 GiB discard (several commands)"
G=$((1024 * M))
zlen=$((G + 4 * M))
spots=(7 $((G - 100)) $((G + 4096)) $((zlen + 4)))
cmds=()
for s in "${spots[@]}"; do cmds+=(-c "write -q -P 0x66 $s 1"); done
cmds+=(-c "stats -r" -c "write -z 5 $zlen" -c stats)
for s in "${spots[@]}"; do cmds+=(-c "read -q -P 0 $s 1"); done
# (two discards: one request is capped at 2 GiB - 512 bytes, as in qemu-io)
cmds+=(-c "write -q -P 0x67 $((2 * G + 4096)) 4096" -c "discard 0 $((3 * G / 2))" -c "discard $((3 * G / 2)) $((3 * G / 2))")
cmds+=(-c "read -q -P 0 $((2 * G + 4096)) 4096")
out=$("$GRANULE_IO" --no-timing --line-buffered --error-detail "${cmds[@]}" "$(lun_url 1)" 2>&1) || fail "LUN 1, 1 GiB + 4 MiB: $out"
# WRITE SAME, not zero buffers (1 MiB each: over a thousand requests): only
# the unaligned head and tail go through the core's read-modify-write.
requests=$(sed -n 's/^driver_requests: //p' <<<"$out" | sed -n 2p)
[ -n "$requests" ] && [ "$requests" -le 8 ] ||
    fail "write -z of $zlen bytes took '$requests' driver requests (WRITE SAME not used?)"
[ "$(allocated "$WORK/lun1.img")" -eq 0 ] || fail "3 GiB discard left blocks allocated"

note "LUN 2: no provisioning: discard is a no-op, write -z zeroes"
backing=$WORK/lun2.img
ref=$WORK/ref2.img
out=$("$GRANULE_IO" --no-timing --line-buffered --error-detail -c "write -q -P 0x55 0 $M" -c "discard 0 $M" -c "read -q -P 0x55 0 $M" \
    -c "write -z 3 $((M / 2))" -c "read -q -P 0 3 $((M / 2))" "$(lun_url 2)" 2>&1) ||
    fail "LUN 2: $out"
fill_file "$ref" 0x55 0 $M
truncate -s 32M "$ref"
head -c $((M / 2)) /dev/zero | dd of="$ref" bs=64k oflag=seek_bytes seek=3 conv=notrunc status=none
cmp "$backing" "$ref" || fail "LUN 2 content differs from the reference"
echo "PASS"
