#!/usr/bin/env bash
# granule-img.exe under Wine: `info` shows raw-win32's limits with their
# sources, and `bench` keeps 64 requests in flight through the completion
# port (the driver sets no queue depth), aligned and unaligned.
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

[ "$failures" -eq 0 ] || exit 1
echo "granule-img checks passed" >&2
