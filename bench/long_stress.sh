#!/usr/bin/env bash
# The long model-checked stress: tests/stress/model_stress with >= 1,000,000
# ops, first on a 4096-sector loop device with O_DIRECT (the device's own
# limits, no blkdebug: so no breakpoint rounds), then over blkdebug
# align=4096,mem-align=512 over memory (with breakpoint rounds). Prints each
# run's summary and a table of the figures; exit 1 on any mismatch.
#
#   sudo bench/long_stress.sh [--ops N] [--size-mib M] [--seed N] [--model-stress PATH]
# Without --model-stress it builds like the other bench scripts (into
# $GRANULE_BUILD_DIR, default build/). The ctest entry stress.long (only with
# -DGRANULE_LONG_TESTS=ON) passes --model-stress. Needs root and loop devices:
# without them exit 77 (a failure with GRANULE_NO_SKIP=1).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)

ops=1000000
size_mib=32
seed=""
model=""
while [ $# -gt 0 ]; do
    case $1 in
    --ops) ops=$2; shift 2 ;;
    --size-mib) size_mib=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --model-stress) model=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
skip() {
    if [ "${GRANULE_NO_SKIP:-}" = 1 ]; then echo "FAIL (GRANULE_NO_SKIP=1, would skip): $*" >&2; exit 1; fi
    echo "SKIP: $*" >&2
    exit 77
}
[ "$(id -u)" -eq 0 ] || skip "needs root (losetup)"
[ -e /dev/loop-control ] || skip "no /dev/loop-control: loop devices unavailable here"
if [ -z "$model" ]; then
    . "$src/bench/common.sh"
    model=$build/tests/stress/model_stress
fi
[ -x "$model" ] || { echo "no model_stress at $model" >&2; exit 1; }
seed=${seed:-$(((RANDOM << 15) | RANDOM))}

work=$(mktemp -d /var/tmp/granule-long-stress.XXXXXX)
loop=""
cleanup() {
    [ -n "$loop" ] && losetup -d "$loop" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
truncate -s "${size_mib}M" "$work/backing.img"
loop=$(losetup -f --show --sector-size 4096 --direct-io=on "$work/backing.img") ||
    skip "losetup cannot attach a loop device"
command -v udevadm >/dev/null && udevadm settle -t 5 2>/dev/null || true

rows=()
run() {  # name model_stress-args...
    local name=$1 out s e line
    shift
    echo "== $name: model_stress $*" >&2
    s=$(date +%s.%N)
    out="$work/$name.out"
    if ! "$model" "$@" --seed "$seed" --ops "$ops" --depth 64 --check-every 20000 >"$out" 2>&1; then
        cat "$out" >&2
        echo "FAIL: $name (seed $seed)" >&2
        exit 1
    fi
    e=$(date +%s.%N)
    cat "$out"
    line=$(grep '^model_stress: PASS' "$out")
    rows+=("$(awk -v n="$name" -v l="$line" -v s="$s" -v e="$e" 'BEGIN {
        match(l, /requests [0-9]+/); req = substr(l, RSTART + 9, RLENGTH - 9)
        match(l, /bytes written [0-9]+/); w = substr(l, RSTART + 14, RLENGTH - 14)
        match(l, /bytes checked [0-9]+/); c = substr(l, RSTART + 14, RLENGTH - 14)
        match(l, /serialisation_waits [0-9]+/); sw = substr(l, RSTART + 20, RLENGTH - 20)
        match(l, /rmw_cycles [0-9]+/); rmw = substr(l, RSTART + 11, RLENGTH - 11)
        match(l, /breakpoint rounds [0-9]+/); bp = substr(l, RSTART + 18, RLENGTH - 18)
        printf "| %s | %s | %.1f | %.1f | 0 | %s | %s | %s | %.0f |", n, req, w / 1048576, c / 1048576, sw, rmw, bp, e - s
    }')")
}
run "loop4k-odirect" --spec "driver=raw-posix,filename=$loop,cache.direct=on"
run "memory-blkdebug" --backend memory --size $((size_mib << 20))

echo
echo "seed $seed, $ops ops each, depth <= 64, ${size_mib} MiB, loop device $(blockdev --getss "$loop")-byte sectors"
echo "| run | requests | MiB written | MiB checked | mismatches | serialisation waits | RMW cycles | breakpoint rounds | seconds |"
echo "|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
