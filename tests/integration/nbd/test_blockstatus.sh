#!/usr/bin/env bash
# Block status from base:allocation (nbdkit memory with 4096-byte blocks):
# after data writes, write-zeroes (with and without may-unmap) and a trim,
#  1. nbdinfo --map (libnbd's own reading of the server) shows data exactly
#     where the data went, holes elsewhere;
#  2. an overlay on the nbd node (backing=memory) maps "allocated" exactly
#     at nbdinfo's data extents: the overlay asks the nbd node's block status
#     extent by extent and takes its holes (NBD_STATE_HOLE|ZERO) from the
#     backing, so every hole and every data extent must be reported as such;
#  3. granule-img convert of the export reads only the data extents from the
#     server (nbdkit's log: at most 4 MiB of NBD reads for 64 MiB, the chunks
#     holding data)
#     and the copy equals the export as nbdcopy reads it.
. "$(dirname "$0")/fixture.sh" || exit 1
[ -x "$GRANULE_IMG" ] || fail "granule-img not found at '$GRANULE_IMG'"

M=1048576
nbd_start_nbdkit b --filter=log --filter=blocksize-policy memory 64M "${BLOCKSIZE4K[@]}" \
    logfile="$WORK/b.nbdlog"
uri=$REPLY
gio -c "write -q -P 0x11 $M $M" \
    -c "write -q -P 0x22 $((40 * M + 10)) 65516" \
    -c "write -q -z $((8 * M)) $M" \
    -c "write -q -P 0x33 $((20 * M)) 65536" \
    -c "write -q -z -u $((20 * M)) 65536" \
    -c "write -q -P 0x44 $((30 * M)) 65536" \
    -c "discard -q $((30 * M)) 65536" \
    "$uri" >"$WORK/writes.out" 2>&1 || { cat "$WORK/writes.out" >&2; fail "the writes failed"; }

note "1. nbdinfo --map: data where the data went"
nbdinfo --map "$uri" >"$WORK/nbdinfo.map"
cat "$WORK/nbdinfo.map"
# "offset length type description": the data runs (type 0), merged.
awk '$3 == 0 { if (n && $1 == s + l) { l += $2 } else { if (n) print s, l; s = $1; l = $2; n = 1 } }
     END { if (n) print s, l }' "$WORK/nbdinfo.map" >"$WORK/want.runs"
printf '%s\n' "$M $M" "$((40 * M)) 65536" >"$WORK/expected.runs"
cmp -s "$WORK/want.runs" "$WORK/expected.runs" ||
    fail "nbdinfo's data runs $(tr '\n' ';' <"$WORK/want.runs") are not the writes' $(tr '\n' ';' <"$WORK/expected.runs")"

note "2. an overlay's map follows the nbd node's block status"
gio -c map --image-opts "driver=nbd,filename=$uri,backing.driver=memory,backing.size=64M" \
    >"$WORK/map.out" 2>&1 || { cat "$WORK/map.out" >&2; fail "map over the overlay failed"; }
cat "$WORK/map.out"
# "<size> (0xLEN) bytes     allocated at offset <off> (0xOFF)"
sed -n 's/^.* (0x\([0-9a-f]*\)) bytes     allocated at offset .* (0x\([0-9a-f]*\))$/\2 \1/p' "$WORK/map.out" |
    while read -r off len; do echo "$((16#$off)) $((16#$len))"; done >"$WORK/got.runs"
cmp -s "$WORK/got.runs" "$WORK/want.runs" ||
    fail "the overlay maps $(tr '\n' ';' <"$WORK/got.runs") as allocated, nbdinfo's data is $(tr '\n' ';' <"$WORK/want.runs")"
covered=0
while read -r len; do covered=$((covered + 16#$len)); done < <(
    sed -n 's/^.* (0x\([0-9a-f]*\)) bytes .*allocated at offset .*$/\1/p' "$WORK/map.out")
[ "$covered" = $((64 * M)) ] || fail "map covers $covered bytes, not 64 MiB"

note "3. convert reads the data extents only"
before=$(wc -l <"$WORK/b.nbdlog")
"$GRANULE_IMG" convert "$uri" "$WORK/copy.raw" >"$WORK/convert.out" 2>&1 ||
    { cat "$WORK/convert.out" >&2; fail "convert failed"; }
cat "$WORK/convert.out"
read_bytes=0
while read -r c; do read_bytes=$((read_bytes + c)); done < <(
    tail -n +$((before + 1)) "$WORK/b.nbdlog" |
        sed -n 's/.* Read id=[0-9]* offset=0x[0-9a-f]* count=\(0x[0-9a-f]*\) .*/\1/p')
extents=$(tail -n +$((before + 1)) "$WORK/b.nbdlog" | grep -c " Extents id=" || true)
note "   convert: $read_bytes bytes of NBD reads, $extents block status requests"
[ "$extents" -gt 0 ] || fail "convert asked no block status"
# convert reads whole chunks (1 MiB) that hold data: two here, and the
# format probe's first block; without block status it would read 64 MiB.
[ "$read_bytes" -le $((4 * M)) ] || fail "convert read $read_bytes bytes: the holes were read too"
[ "$read_bytes" -ge 1114112 ] || fail "convert read $read_bytes bytes, less than the data"
export_to_file "$uri" "$WORK/export.raw"
cmp "$WORK/copy.raw" "$WORK/export.raw" || fail "the converted copy differs from the export"
echo "PASS"
