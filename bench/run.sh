#!/usr/bin/env bash
# Side-by-side benchmark on ONE 4096-sector loop device with O_DIRECT:
# fio (io_uring, direct=1), qemu-img bench (-t none, -i io_uring) and
# granule-img bench, in one run. Prints a markdown table of ops/s and ratios.
#
#   sudo bench/run.sh [--count N] [--size-mib M] [--repeat R]
#
# qemu-img bench is sequential only, so random cases have no qemu-img column. fio cannot issue 512-byte
# O_DIRECT requests on a 4096-sector device, so unaligned cases have no fio
# column: that gap is exactly what Granule closes.
set -euo pipefail
. "$(dirname "$0")/common.sh" fio qemu-utils

count=50000
size_mib=1024
repeat=1
while [ $# -gt 0 ]; do
    case $1 in
    --count) count=$2; shift 2 ;;
    --size-mib) size_mib=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
bench_loop "$size_mib" bench
# Written data everywhere: reads of holes would measure nothing.
dd if=/dev/zero of="$loop" bs=1M count="$size_mib" oflag=direct status=none
echo "device: $loop ($(blockdev --getss "$loop")-byte logical sectors, ${size_mib} MiB), count $count" >&2

spec="driver=raw-posix,filename=$loop,cache.direct=on"

fio_ops() {  # rw bs depth
    local field=8
    case $1 in *write) field=49 ;; esac
    fio --name=b --filename="$loop" --ioengine=io_uring --direct=1 --rw="$1" --bs="$2" \
        --iodepth="$3" --number_ios="$count" --size="${size_mib}M" --randrepeat=0 \
        --output-format=terse 2>/dev/null | awk -F';' -v f=$field '{printf "%d", $f}'
}
qemu_ops() {  # size depth step write(0/1) offset
    local w=""; [ "$4" = 1 ] && w="-w"
    local secs
    secs=$(qemu-img bench -f raw -t none -i io_uring -c "$count" -d "$2" -s "$1" -S "$3" \
        -o "$5" $w "$loop" 2>/dev/null | sed -n 's/^Run completed in \([0-9.]*\) seconds.*/\1/p')
    awk -v c="$count" -v s="$secs" 'BEGIN { printf "%d", c / s }'
}
granule_ops() {  # size depth step write(0/1) offset random(0/1)
    local args=(-c "$count" -d "$2" -s "$1" -S "$3" -o "$5")
    [ "$4" = 1 ] && args+=(-w)
    [ "$6" = 1 ] && args+=(-r -g 4096)
    "$img_tool" bench "${args[@]}" --image-opts "$spec" 2>/dev/null |
        sed -n 's/^ops\/s: \([0-9]*\).*/\1/p'
}
best() {  # runs "$@" $repeat times, prints the best
    local b=0 v
    for _ in $(seq "$repeat"); do
        v=$("$@"); [ "${v:-0}" -gt "$b" ] && b=$v
    done
    echo "$b"
}
ratio() { [ "${2:-0}" -gt 0 ] && awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }' || echo "n/a"; }

echo "| case | fio ops/s | qemu-img ops/s | granule ops/s | granule/fio | granule/qemu-img |"
echo "|---|---|---|---|---|---|"
row() {  # label fio_rw bs depth write random offset
    local label=$1 rw=$2 bs=$3 depth=$4 write=$5 random=$6 offset=$7
    local f=0 q=0 g
    [ "$rw" != - ] && f=$(best fio_ops "$rw" "$bs" "$depth")
    [ "$random" = 0 ] && q=$(best qemu_ops "$bs" "$depth" "$bs" "$write" "$offset")
    g=$(best granule_ops "$bs" "$depth" "$bs" "$write" "$offset" "$random")
    echo "| $label | ${f/#0/-} | ${q/#0/-} | $g | $(ratio "$g" "$f") | $(ratio "$g" "$q") |"
}
row "4k random write, QD1"            randwrite 4096 1  1 1 0
row "4k random write, QD32"           randwrite 4096 32 1 1 0
row "4k random read, QD1"             randread  4096 1  0 1 0
row "4k random read, QD32"            randread  4096 32 0 1 0
row "4k sequential write, QD32"       write      4096 32 1 0 0
row "4k sequential read, QD32"        read      4096 32 0 0 0
row "512 B unaligned write, QD1"      -         512  1  1 0 512
row "512 B unaligned write, QD32"     -         512  32 1 0 512
row "512 B unaligned read, QD1"       -         512  1  0 0 512
row "512 B unaligned read, QD32"      -         512  32 0 0 512
row "512 B unaligned random write, QD32" -      512  32 1 1 512
row "64k sequential write, QD32"      write     65536 32 1 0 0
row "64k sequential read, QD32"       read     65536 32 0 0 0
