#!/usr/bin/env bash
# iSCSI side by side: granule-img bench vs qemu-img bench (QEMU's block-iscsi
# module) on the same LUN of a private tgtd on 127.0.0.1, depth 32: 4k
# aligned and 512 B unaligned (read-modify-write over iSCSI) on the
# 4096-byte-block LUN. Prints a markdown table with ratios.
#
#   bench/iscsi.sh [--count N] [--repeat R]       (root)
set -euo pipefail
. "$(dirname "$0")/common.sh" tgt libiscsi-bin qemu-utils qemu-block-extra

count=20000
repeat=1
while [ $# -gt 0 ]; do
    case $1 in
    --count) count=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done

# The tests' fixture: starts tgtd on a free loopback port, always stops it.
. "$GRANULE_SOURCE_DIR/tests/integration/iscsi/fixture.sh" "$build/tools/granule-io/granule-io" >/dev/null
iscsi_start_target >/dev/null
lun=2  # 32 MiB, 4096-byte logical blocks
url="iscsi://127.0.0.1:$PORT/$IQN/$lun"
qemu_opts="driver=iscsi,transport=tcp,portal=127.0.0.1:$PORT,target=$IQN,lun=$lun"
echo "target: $url (4096-byte blocks), count $count, depth 32" >&2

qemu_ops() {  # size offset write(0/1)
    local w=""; [ "$3" = 1 ] && w="-w"
    local secs
    secs=$(qemu-img bench --image-opts "$qemu_opts" -c "$count" -d 32 -s "$1" -S "$1" -o "$2" $w \
        2>/dev/null | sed -n 's/^Run completed in \([0-9.]*\) seconds.*/\1/p')
    awk -v c="$count" -v s="$secs" 'BEGIN { if (s > 0) printf "%d", c / s; else print 0 }'
}
granule_ops() {  # size offset write(0/1)
    local args=(-c "$count" -d 32 -s "$1" -S "$1" -o "$2")
    [ "$3" = 1 ] && args+=(-w)
    "$img_tool" bench "${args[@]}" "$url" 2>/dev/null | sed -n 's/^ops\/s: \([0-9]*\).*/\1/p'
}
best() {
    local b=0 v
    for _ in $(seq "$repeat"); do v=$("$@"); [ "${v:-0}" -gt "$b" ] && b=$v; done
    echo "$b"
}
echo "| case (iSCSI, QD32) | qemu-img ops/s | granule ops/s | granule/qemu-img |"
echo "|---|---|---|---|"
row() {  # label size offset write
    local q g
    q=$(best qemu_ops "$2" "$3" "$4")
    g=$(best granule_ops "$2" "$3" "$4")
    echo "| $1 | $q | $g | $(awk -v a="$g" -v b="$q" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }') |"
}
row "4k aligned write"     4096 0   1
row "4k aligned read"      4096 0   0
row "512 B unaligned write" 512 512 1
row "512 B unaligned read"  512 512 0
