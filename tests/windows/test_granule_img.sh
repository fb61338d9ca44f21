#!/usr/bin/env bash
# granule-img.exe under Wine: `info` shows raw-win32's limits with their
# sources, `bench` keeps 64 requests in flight through the completion
# port (the driver sets no queue depth), aligned and unaligned, and
# `convert` copies byte-exact (new sparse file; -n over old data).
#
#   test_granule_img.sh GRANULE_IMG_EXE        (WINEPREFIX and WINE_SH set)
set -uo pipefail

exe=${1:?usage: $0 GRANULE_IMG_EXE}
wine_sh=${WINE_SH:-$(dirname "$0")/wine.sh}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
img=$tmp/t.img
head -c $((4 << 20)) /dev/urandom >"$img"
failures=0

run() {  # what expected-lines... -- args...
    local what=$1 out rc=0
    shift
    local want=()
    while [ "$1" != -- ]; do want+=("$1"); shift; done
    shift
    out=$(bash "$wine_sh" "$exe" "$@") || rc=$?
    local ok=$((rc == 0))
    for w in "${want[@]}"; do
        grep -qE "$w" <<<"$out" || ok=0
    done
    if [ "$ok" = 1 ]; then
        printf '  ok: %s\n' "$what" >&2
    else
        printf '%s\n' "$out" | sed 's/^/   | /' >&2
        printf 'FAIL: %s (exit %s, wanted: %s)\n' "$what" "$rc" "${want[*]}" >&2
        failures=$((failures + 1))
    fi
}

run "info: limits of raw-win32 direct with sources" \
    '^  request_alignment: [0-9]+ \(raw-win32: [^)]+\)$' '^  min_mem_alignment: [0-9]+ \(raw-win32: ' \
    '^length: 4194304$' -- info --image-opts "driver=raw-win32,filename=$img,cache.direct=on"
run "bench: 2000 random 4k writes, 64 in flight" '^driver_requests: 2000$' -- \
    bench -c 2000 -d 64 -s 4096 -w -r --image-opts "driver=raw-win32,filename=$img,cache.direct=on"
run "bench: 1000 unaligned 1000-byte writes, 32 in flight, below blkdebug 4096" \
    '^rmw_cycles: [1-9]' -- bench -c 1000 -d 32 -s 1000 -S 1000 -w --image-opts \
    "driver=blkdebug,align=4096,image.driver=raw-win32,image.filename=$img,image.cache.direct=on"
run "bench: 2000 reads, 64 in flight" '^driver_requests: 2000$' -- \
    bench -c 2000 -d 64 -s 4096 -r --image-opts "driver=raw-win32,filename=$img,cache.direct=on"

# convert: a file with holes and an unaligned length into a new file, and
# with -n over old data through raw-win32 NO_BUFFERING below blkdebug;
# judged byte for byte from the Linux side.
src=$tmp/src.img len=$((2 * 1024 * 1024 + 555))
truncate -s $len "$src"
dd if=/dev/urandom of="$src" bs=1 seek=7000 count=50000 conv=notrunc status=none
dd if=/dev/urandom of="$src" bs=1 seek=$((len - 100)) count=100 conv=notrunc status=none
run "convert: a sparse file into a new file" "^converted $len bytes: [0-9]+ data, [0-9]+ zero \\(left as holes\\)" -- \
    convert "$src" "$tmp/new.img"
cmp "$src" "$tmp/new.img" >&2 || { echo "FAIL: convert's new.img differs" >&2; failures=$((failures + 1)); }
head -c $((len + 3000)) /dev/zero | tr '\0' '\377' >"$tmp/old.img"
run "convert -n over old data, raw-win32 direct below blkdebug 4096" "\\(written as zeroes\\)" -- \
    convert -n "$src" "driver=blkdebug,align=4096,image.driver=raw-win32,image.filename=$tmp/old.img,image.cache.direct=on"
cmp -n $len "$src" "$tmp/old.img" >&2 || { echo "FAIL: convert -n: old.img differs" >&2; failures=$((failures + 1)); }
[ "$(tail -c 3000 "$tmp/old.img" | tr -d '\377' | wc -c)" -eq 0 ] ||
    { echo "FAIL: convert -n changed old.img past SRC's length" >&2; failures=$((failures + 1)); }

[ "$failures" -eq 0 ] || exit 1
echo "granule-img checks passed" >&2
