#!/usr/bin/env bash
# granule-img convert against qemu-img convert on ONE 4096-sector loop device
# with O_DIRECT on the device side (qemu-img -t none / cache.direct=on), in
# one run: a file of random data onto the device, a sparse file onto it
# (-n: zero runs written as zeroes, as both tools must over old data), and
# the device into a new file. Both tools flush DST at the end. Prints a markdown table of seconds and ratios
# (qemu-img / granule: above 1 means granule is faster); best of --repeat.
#
#   sudo bench/convert.sh [--size-mib M] [--repeat R]
set -euo pipefail
. "$(dirname "$0")/common.sh" qemu-utils
gi=$img_tool

size_mib=512
repeat=3
while [ $# -gt 0 ]; do
    case $1 in
    --size-mib) size_mib=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
bench_loop "$size_mib" convert
spec="driver=raw-posix,filename=$loop,cache.direct=on"
head -c "$((size_mib << 20))" /dev/urandom >"$work/data.img"
# Sparse: 1 MiB of data in every 8 MiB, the rest holes.
truncate -s "${size_mib}M" "$work/sparse.img"
for ((m = 0; m < size_mib; m += 8)); do
    dd if=/dev/urandom of="$work/sparse.img" bs=1M seek=$m count=1 conv=notrunc status=none
done
cat "$work/data.img" "$work/sparse.img" >/dev/null  # both tools read from the page cache
echo "device: $loop ($(blockdev --getss "$loop")-byte sectors), ${size_mib} MiB, best of $repeat" >&2

best() {  # command...: the fastest of $repeat runs, in seconds
    local b="" t s e
    for ((r = 0; r < repeat; r++)); do
        rm -f "$work/out.img"
        s=$(date +%s.%N)
        "$@" >/dev/null
        e=$(date +%s.%N)
        t=$(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f", e - s }')
        if [ -z "$b" ] || awk -v t="$t" -v b="$b" 'BEGIN { exit !(t < b) }'; then b=$t; fi
    done
    echo "$b"
}
row() {  # name qemu-seconds granule-seconds
    awk -v n="$1" -v q="$2" -v g="$3" 'BEGIN { printf "| %s | %.3f | %.3f | %.2fx |\n", n, q, g, q / g }'
}

echo "| case | qemu-img convert s | granule-img convert s | ratio |"
echo "|---|---|---|---|"
q=$(best qemu-img convert -n -t none -f raw -O raw "$work/data.img" "$loop")
g=$(best "$gi" convert -n "$work/data.img" "$spec")
cmp -n "$((size_mib << 20))" "$work/data.img" "$loop" || { echo "device differs from data.img" >&2; exit 1; }
row "file (random data) -> device" "$q" "$g"
q=$(best qemu-img convert -n -t none -f raw -O raw "$work/sparse.img" "$loop")
g=$(best "$gi" convert -n "$work/sparse.img" "$spec")
cmp -n "$((size_mib << 20))" "$work/sparse.img" "$loop" || { echo "device differs from sparse.img" >&2; exit 1; }
row "sparse file -> device (zeroes written)" "$q" "$g"
# -t writeback: qemu-img's default for convert is unsafe (no flush at the
# end); granule-img always flushes DST, so both flush here.
q=$(best qemu-img convert -T none -t writeback -f raw -O raw "$loop" "$work/out.img")
g=$(best "$gi" convert "$spec" "$work/out.img")
cmp "$loop" "$work/out.img" || { echo "out.img differs from the device" >&2; exit 1; }
row "device -> new file (holes kept)" "$q" "$g"
