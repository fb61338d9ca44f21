#!/usr/bin/env bash
# tests/stress over NBD: nbdkit memory whose blocksize-policy filter
# advertises minimum 4096 and refuses anything unaligned.
#  1. stress --spec driver=nbd,...: thousands of concurrent unaligned writes
#     sharing 4096-byte blocks, then every byte checked (one round, 16 MiB);
#     it must report request_alignment 4096 from the server and PASS;
#  2. model_stress over blkdebug (its breakpoint rounds) over nbd, at depth
#     64: overlapping reads and writes checked against an issue-order model;
#     once with the default queue-depth, once with queue-depth=4 (most
#     requests then wait in the driver's own queue);
# and the server refused nothing (its log filter: no request failed the
# blocksize policy) and still serves the whole export (nbdcopy reads it).
. "$(dirname "$0")/fixture.sh" || exit 1
[ -n "${GRANULE_STRESS:-}" ] && [ -n "${GRANULE_MODEL_STRESS:-}" ] ||
    skip "the stress programs were not built (tests/stress)"
[ -x "$GRANULE_STRESS" ] || fail "stress not found at $GRANULE_STRESS"
[ -x "$GRANULE_MODEL_STRESS" ] || fail "model_stress not found at $GRANULE_MODEL_STRESS"

nbd_start_nbdkit s --filter=log --filter=blocksize-policy memory 16M "${BLOCKSIZE4K[@]}" \
    logfile="$WORK/s.nbdlog"
uri=$REPLY

note "1. stress --spec driver=nbd"
rc=0
timeout -k 5 100 "$GRANULE_STRESS" --spec "driver=nbd,filename=$uri" --rounds 1 \
    >"$WORK/stress.out" 2>&1 || rc=$?
cat "$WORK/stress.out"
[ $rc -eq 0 ] || fail "stress exited $rc"
expect_grep "16777216 bytes, request_alignment 4096, min_mem_alignment 1$" "$WORK/stress.out" "stress's stack"
expect_grep "^PASS$" "$WORK/stress.out" "stress"

for qd in 32 4; do
    note "2. model_stress over blkdebug over nbd, queue-depth $qd"
    rc=0
    timeout -k 5 100 "$GRANULE_MODEL_STRESS" \
        --spec "driver=blkdebug,image.driver=nbd,image.filename=$uri,image.queue-depth=$qd" \
        --size 4194304 --ops 20000 --depth 64 >"$WORK/model.$qd.out" 2>&1 || rc=$?
    tail -n 3 "$WORK/model.$qd.out"
    [ $rc -eq 0 ] || { cat "$WORK/model.$qd.out" >&2; fail "model_stress (queue-depth $qd) exited $rc"; }
    expect_grep "^model_stress: PASS .* mismatches 0, .*breakpoint rounds [1-9]" "$WORK/model.$qd.out" \
        "model_stress (queue-depth $qd)"
done
grep -q "return=-1" "$WORK/s.nbdlog" && fail "the server refused a request: $(grep -m1 'return=-1' "$WORK/s.nbdlog")"
export_to_file "$uri" "$WORK/export.img" || fail "the export cannot be read after the stress"
echo "PASS"
