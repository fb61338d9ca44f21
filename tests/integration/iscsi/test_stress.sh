#!/usr/bin/env bash
# Concurrent unaligned aio_writes sharing blocks on the 4096-byte-block LUN,
# at the default queue depth and at queue-depth=2 (most requests then wait in
# the driver's queue). Phase 1: neighbours share blocks but not bytes. Phase 2:
# read -P of every phase-1 range after aio_flush. Phase 2: writes overlap; all
# are unaligned, so the core serialises them in submission order and the
# result is deterministic: the backing file must equal a reference built by
# applying the same writes in order with dd.
. "$(dirname "$0")/fixture.sh"

lun=2
backing=$WORK/lun$lun.img
iscsi_start_target
url=$(lun_url $lun)

run_round() {  # name queue-depth base
    local name=$1 qd=$2 base=$3
    local ref=$WORK/ref.$name.img script=$WORK/$name.io
    cp "$backing" "$ref"
    : >"$script"
    local i off len pat
    for i in $(seq 0 399); do  # phase 1: 1000 bytes every 1500, across 4 KiB blocks
        off=$((base + 7 + i * 1500)); len=1000; pat=$((i % 250 + 1))
        echo "aio_write -q -P $pat -m $((i % 5)) $off $len" >>"$script"
        fill_file "$ref" $pat $off $len
    done
    echo "aio_flush" >>"$script"
    for i in $(seq 0 399); do
        echo "read -q -P $((i % 250 + 1)) $((base + 7 + i * 1500)) 1000" >>"$script"
    done
    RANDOM=4242
    for i in $(seq 0 199); do  # phase 2: overlapping, odd offsets (never aligned)
        off=$((base + (RANDOM % 150000) * 4 + 1)); len=$((RANDOM % 9000 + 1))
        pat=$(((i * 7) % 250 + 1))
        echo "aio_write -q -P $pat $off $len" >>"$script"
        fill_file "$ref" $pat $off $len
    done
    echo "aio_flush" >>"$script"
    echo "stats" >>"$script"
    echo "info" >>"$script"
    local start=$SECONDS
    "$GRANULE_IO" --no-timing --line-buffered --error-detail --image-opts "driver=iscsi,filename=$url,queue-depth=$qd" \
        <"$script" >"$WORK/$name.out" 2>&1 || {
        grep -m5 -i "fail\|error" "$WORK/$name.out" >&2 || true
        fail "$name: granule-io reported failures"
    }
    cmp "$backing" "$ref" || fail "$name: backing file differs from the in-order reference"
    local waits rmw
    waits=$(sed -n 's/^serialisation_waits: //p' "$WORK/$name.out")
    rmw=$(sed -n 's/^rmw_cycles: //p' "$WORK/$name.out")
    [ "$rmw" -gt 0 ] || fail "$name: no read-modify-write cycles: the writes were not unaligned?"
    local peak
    peak=$(sed -n 's/.*peak in flight \([0-9]*\)\/.*/\1/p' "$WORK/$name.out")
    [ -n "$peak" ] && [ "$peak" -le "$qd" ] || fail "$name: peak in flight '$peak' exceeds queue-depth $qd"
    [ "$peak" -gt 1 ] || fail "$name: never more than one SCSI task in flight"
    note "$name (queue-depth $qd): 600 aio_writes, peak in flight $peak, rmw_cycles $rmw, serialisation_waits $waits, $((SECONDS - start)) s"
}

run_round qd32 32 0
run_round qd2 2 $((8 * 1024 * 1024))
echo "PASS"
