#!/usr/bin/env bash
# The golden scenarios again on a real device: a 1 MiB loop device with
# 4096-byte sectors (the size of the memory node the scenarios declare),
# opened with O_DIRECT under blkdebug WITHOUT align= (the 4096 alignment now
# comes from the device; blkdebug is only there for the breakpoints):
#   driver=blkdebug,image.driver=raw-posix,image.filename=/dev/loopN,image.cache.direct=on
# Each scenario runs through tests/scenarios/run_scenario.sh with
# GRANULE_SCENARIO_SPEC and must print exactly its usual .out.
#
#   scenarios_loop4k.sh GRANULE_IO [NNN-name ...]   (default: the subset below)
#
# Exit 0 pass, 1 fail, 77 skip (no root / loop devices; a failure with
# GRANULE_NO_SKIP=1). The loop device is always detached (fixture.sh).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SCENARIO_DIR=$(cd "$HERE/../scenarios" && pwd)
[ $# -ge 1 ] || { echo "usage: scenarios_loop4k.sh GRANULE_IO [NNN-name ...]" >&2; exit 2; }
GRANULE_IO=$1
shift
. "$HERE/fixture.sh"

# Scenarios whose output does not depend on the stack below the core. Not
# run here, because their golden output legitimately differs on the device:
#  003, 005, 017  print `info` (the node tree and driver-specific lines, and
#                 min_mem_alignment 1 / opt_mem_alignment 1 / max_transfer 0
#                 of the memory node; the device says 512 / 4096 / its queue)
#  003, 004, 005, 006, 019
#                 bytes_bounced: with the device's min_mem_alignment 512 the
#                 head/tail paddings (0x100...) are no multiple of it, so
#                 whole requests bounce instead of only the padding
#  002, 007, 008, 010, 014
#                 work on the file $IMG (file length, growth, reopening $IMG
#                 by name, which is not the device)
#  009            its error injection lives in the spec that is replaced
#  011, 012       test failing opens of their own spec
#  015            a 5000-byte node (partial last block; prints its length):
#                 a device with 4096-byte sectors has no partial block
#  018            opens memory nodes (open -o) before its first command:
#                 nothing of it would run on the device
# (`#! known-bug:` scenarios pass on any difference and are refused.)
# 013 reopens memory nodes for its last two sections (open -o); its first
# part (zero-copy vs bounce under a 512 memory rule) runs on the device.
SUBSET=(001-unaligned-edges 013-stats-zero-copy 016-write-zeroes-issue-order)
[ $# -eq 0 ] || SUBSET=("$@")

fixture_init
command -v timeout >/dev/null || skip "'timeout' not found (coreutils)"
fixture_loop "$FIXTURE_DIR/scenarios4k.img" 1M 4096
dev=$REPLY
sysdir=/sys/class/block/$(basename "$dev")
sectors=$(cat "$sysdir/size")
lbs=$(cat "$sysdir/queue/logical_block_size")
log "== scenarios on $dev: $((sectors * 512)) bytes, logical block size $lbs"
failures=0
if [ "$((sectors * 512))" != 1048576 ] || [ "$lbs" != 4096 ]; then
    log "FAIL: $dev is not a 1 MiB device with 4096-byte sectors"
    exit 1
fi

spec="driver=blkdebug,image.driver=raw-posix,image.filename=$dev,image.cache.direct=on"
# The stack really is the device's O_DIRECT limits (and no blkdebug align).
limits=$("$GRANULE_IO" --no-timing -c info --image-opts "$spec" 2>&1) || {
    printf '%s\n' "$limits" >&2
    log "FAIL: granule-io cannot open $spec"
    exit 1
}
for want in "^  blkdebug: align inherited," "^request_alignment: 4096$" "^min_mem_alignment: 512$"; do
    grep -q "$want" <<<"$limits" || {
        printf '%s\n' "$limits" >&2
        log "FAIL: info of $spec lacks '$want'"
        exit 1
    }
done

for name in "${SUBSET[@]}"; do
    script=$SCENARIO_DIR/$name.io
    [ -f "$script" ] || { log "FAIL: no scenario $script"; failures=$((failures + 1)); continue; }
    # Every scenario starts from a zeroed device, like from a fresh memory node.
    if ! dd if=/dev/zero of="$dev" bs=64K count=16 oflag=direct conv=fsync status=none ||
        ! cmp -s -n 1048576 "$dev" /dev/zero; then
        log "FAIL: cannot zero $dev before $name"
        failures=$((failures + 1))
        continue
    fi
    log "-- $name"
    rc=0
    # A hang (a request that never completes) fails the scenario, not the whole
    # ctest entry: timeout signals granule-io too, and the fixture still detaches.
    GRANULE_SCENARIO_SPEC=$spec timeout -k 5 30 \
        bash "$SCENARIO_DIR/run_scenario.sh" "$GRANULE_IO" "$script" >&2 || rc=$?
    case $rc in
    0) log "  ok: $name" ;;
    124|137) log "FAIL: $name did not finish within 30 s"; failures=$((failures + 1)) ;;
    *) log "FAIL: $name (exit $rc)"; failures=$((failures + 1)) ;;
    esac
done
if [ "$failures" -ne 0 ]; then
    log "$failures of ${#SUBSET[@]} scenario(s) failed on $dev"
    exit 1
fi
log "all ${#SUBSET[@]} scenarios match their golden output on $dev"
