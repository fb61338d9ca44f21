#!/usr/bin/env bash
# Crash consistency through raw-posix O_DIRECT on a 4096-sector loop device:
#   test_crash.sh CRASH_WRITER
# Each round starts `crash_writer write` (it fills the device, then runs
# concurrent unaligned overlapping writes with flushes, logging every event),
# kills it with SIGKILL at a random moment once it logged its start, and runs
# `crash_writer check` on the device (O_DIRECT: what reached the loop
# device, not a page cache): every byte must be the last acknowledged write's
# over it, or a byte of a later write that was still in flight (see
# crash_writer.cpp for the rules). After the last round the loop device is
# detached and its backing file checked once more, also with O_DIRECT.
# GRANULE_CRASH_ROUNDS (12), GRANULE_CRASH_SEED (random; printed) override.
# Exit 0 pass, 1 fail, 77 skip (no root / loop devices / raw-posix driver; a
# failure with GRANULE_NO_SKIP=1). Everything goes at exit (fixture.sh).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
[ $# -eq 1 ] || { echo "usage: test_crash.sh CRASH_WRITER" >&2; exit 2; }
WRITER=$1
ROUNDS=${GRANULE_CRASH_ROUNDS:-12}
. "$HERE/../fixture.sh"

fail() { log "FAIL: $*"; exit 1; }

fixture_init
fixture_loop "$FIXTURE_DIR/crash.img" 8M 4096
dev=$REPLY
spec="driver=raw-posix,filename=$dev,cache.direct=on"
base=${GRANULE_CRASH_SEED:-$(((RANDOM << 15) | RANDOM))}
log "== crash consistency on $dev ($(blockdev --getss "$dev")-byte sectors, O_DIRECT), $ROUNDS rounds, seed $base (GRANULE_CRASH_SEED=$base reruns it)"

crashes=0
for ((round = 1; round <= ROUNDS; round++)); do
    seed=$((base + round))
    events="$FIXTURE_DIR/round$round.log"
    rm -f "$events"
    "$WRITER" write "$spec" "$events" --seed "$seed" --depth 32 &
    pid=$!
    # The kill clock starts once the device is filled and flushed.
    for ((i = 0; i < 400; i++)); do
        grep -q '^S ' "$events" 2>/dev/null && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.025
    done
    if ! grep -q '^S ' "$events" 2>/dev/null; then
        rc=0
        wait "$pid" || rc=$?
        [ "$rc" -eq 77 ] && skip "crash_writer cannot open $spec (see above)"
        fail "round $round: the writer did not start (exit status $rc)"
    fi
    delay_ms=$((50 + RANDOM % 1500))
    sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
    if ! kill -0 "$pid" 2>/dev/null; then
        rc=0
        wait "$pid" || rc=$?
        crashes=$((crashes + 1))
        tail -n 3 "$events" >&2
        fail "round $round: the writer died by itself before the kill (exit status $rc)"
    fi
    kill -KILL "$pid"
    rc=0
    wait "$pid" 2>/dev/null || rc=$?  # without bash's "Killed" notice
    [ "$rc" -eq 137 ] || { crashes=$((crashes + 1)); fail "round $round: the writer ended with status $rc, not by SIGKILL"; }
    "$WRITER" check "$spec" "$events" --label "round $round (seed $seed, killed after $delay_ms ms)" ||
        fail "round $round: the device does not match the log (seed $seed)"
done

# What reached the backing file itself, without the loop device in between.
losetup -d "$dev"
FIXTURE_LOOPS=()
"$WRITER" check "driver=raw-posix,filename=$FIXTURE_DIR/crash.img,cache.direct=on" "$events" \
    --label "round $ROUNDS again, backing file after detaching $dev" ||
    fail "the backing file does not match the last round's log"
log "PASS: $ROUNDS rounds killed with SIGKILL, crashes $crashes, mismatches 0"
