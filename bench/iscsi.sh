#!/usr/bin/env bash
# iSCSI side by side with QEMU's block-iscsi module, on a private tgtd on
# 127.0.0.1:
#  - bench: granule-img bench vs qemu-img bench on the same LUN, depth 32: 4k
#    aligned and 512 B unaligned (read-modify-write over iSCSI) on the
#    4096-byte-block LUN; ops/s, best of R;
#  - convert: granule-img convert -n vs qemu-img convert -n of a 64 MiB file
#    with 8 MiB of random data (1 MiB every 8 MiB) and 56 MiB of holes onto a
#    64 MiB LUN with 4096-byte blocks and no thin provisioning (the zero runs
#    must be written: WRITE SAME or zero buffers); seconds, best of R with the
#    tools alternating, the LUN filled with 0x5a before each run and compared
#    with the file after it; qemu-img with -t writeback (it flushes, as
#    granule-img always does) and with its default -t unsafe (no flush).
# Prints markdown tables with ratios.
#
#   bench/iscsi.sh [--count N] [--repeat R] [--case bench|convert|all]   (root)
set -euo pipefail
. "$(dirname "$0")/common.sh" tgt libiscsi-bin qemu-utils qemu-block-extra

count=20000
repeat=1
cases=all
while [ $# -gt 0 ]; do
    case $1 in
    --count) count=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --case) cases=$2; shift 2 ;;
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
row() {  # label size offset write
    local q g
    q=$(best qemu_ops "$2" "$3" "$4")
    g=$(best granule_ops "$2" "$3" "$4")
    echo "| $1 | $q | $g | $(awk -v a="$g" -v b="$q" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }') |"
}
if [ "$cases" = all ] || [ "$cases" = bench ]; then
    echo "| case (iSCSI, QD32) | qemu-img ops/s | granule ops/s | granule/qemu-img |"
    echo "|---|---|---|---|"
    row "4k aligned write"     4096 0   1
    row "4k aligned read"      4096 0   0
    row "512 B unaligned write" 512 512 1
    row "512 B unaligned read"  512 512 0
fi

# convert -n onto LUN 5: 64 MiB, 4096-byte blocks, no thin provisioning.
convert_lun=5 convert_mib=64
if [ "$cases" = all ] || [ "$cases" = convert ]; then
    backing=$WORK/lun$convert_lun.img
    truncate -s "${convert_mib}M" "$backing"
    tgtadm_ --op new --mode logicalunit --tid 1 --lun $convert_lun -b "$backing" --blocksize 4096
    src=$WORK/sparse64.img
    truncate -s "${convert_mib}M" "$src"
    for ((m = 0; m < convert_mib; m += 8)); do
        dd if=/dev/urandom of="$src" bs=1M seek=$m count=1 conv=notrunc status=none
    done
    convert_url="iscsi://127.0.0.1:$PORT/$IQN/$convert_lun"
    echo "convert: ${convert_mib} MiB file, $(($(du -k "$src" | cut -f1) / 1024)) MiB of data, onto $convert_url (4096-byte blocks, no thin provisioning), best of $repeat, alternating" >&2
    timed() {  # command...: seconds, after filling the LUN; checks the copy
        local s e
        head -c "$((convert_mib << 20))" /dev/zero | tr '\0' '\132' | dd of="$backing" bs=1M conv=notrunc status=none
        s=$(date +%s.%N)
        "$@" >/dev/null
        e=$(date +%s.%N)
        cmp "$src" "$backing" >&2 || { echo "the LUN differs from the source after: $*" >&2; exit 1; }
        awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f", e - s }'
    }
    min() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b < a) ? b : a }'; }
    qb="" ub="" gb=""
    for ((r = 0; r < repeat; r++)); do
        # -t writeback: qemu-img's default for convert is unsafe (no flush at
        # the end); granule-img always flushes DST, so both flush. The
        # default is timed too (the last row).
        t=$(timed qemu-img convert -n -t writeback -f raw -O raw "$src" "$convert_url")
        qb=$(min "$qb" "$t")
        t=$(timed "$img_tool" convert -n "$src" "$convert_url")
        gb=$(min "$gb" "$t")
        t=$(timed qemu-img convert -n -f raw -O raw "$src" "$convert_url")
        ub=$(min "$ub" "$t")
    done
    [ "$cases" = convert ] || echo
    echo "| case (iSCSI, convert -n) | qemu-img convert s | granule-img convert s | ratio |"
    echo "|---|---|---|---|"
    crow() {  # label qemu-seconds granule-seconds
        awk -v n="$1" -v q="$2" -v g="$3" 'BEGIN { printf "| %s | %.3f | %.3f | %.2fx |\n", n, q, g, q / g }'
    }
    crow "64 MiB file, 56 MiB holes -> LUN without thin provisioning" "$qb" "$gb"
    crow "the same, qemu-img without its flush (default -t unsafe)" "$ub" "$gb"
fi
