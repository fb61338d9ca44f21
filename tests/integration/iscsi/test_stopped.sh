#!/usr/bin/env bash
# A stopped target (SIGSTOP: the kernel still accepts connections, nobody
# answers) under a stream of synchronous requests, timeout=2 (issue 9): the
# first request waits its timeout, the reconnect it triggers waits one
# login timeout, and after that timed-out reconnect the requests queued or
# arriving within the retry interval fail at once with the reason, instead
# of each waiting a full timeout of its own (20 aio_flush took 20 timeouts,
# and a quit after ~80 of them over two minutes). After SIGCONT, and once
# the retry interval passed, the next request reconnects and succeeds.
. "$(dirname "$0")/fixture.sh"

lun=2
iscsi_start_target
url=$(lun_url $lun)
now_ms() { date +%s%3N; }

note "20 aio_flush and quit on a stopped target, timeout=2"
GIO_PID=""
test_cleanup() {
    exec 3>&- 2>/dev/null || true
    [ -z "$GIO_PID" ] || kill -KILL "$GIO_PID" 2>/dev/null || true
}
mkfifo "$WORK/cmd"
"$GRANULE_IO" --no-timing --line-buffered --error-detail --image-opts "driver=iscsi,filename=$url,timeout=2" \
    <"$WORK/cmd" >"$WORK/out" 2>&1 &
GIO_PID=$!
exec 3>"$WORK/cmd"
echo "write -P 0x11 0 4096" >&3
end=$((SECONDS + 10))
until grep -q "^wrote" "$WORK/out"; do
    [ $SECONDS -lt $end ] || { cat "$WORK/out" >&2; fail "the first write did not complete"; }
    sleep 0.05
done
kill -STOP "$TGTD_PID"
t0=$(now_ms)
for _ in $(seq 20); do echo "aio_flush" >&3; done
echo "quit" >&3
exec 3>&-
rc=0
end=$((SECONDS + 60))
while kill -0 "$GIO_PID" 2>/dev/null; do
    [ $SECONDS -lt $end ] || { kill -CONT "$TGTD_PID"; fail "granule-io still running 60 s after quit"; }
    sleep 0.05
done
elapsed=$(($(now_ms) - t0))
wait "$GIO_PID" || rc=$?
GIO_PID=""
kill -CONT "$TGTD_PID"
# head first: `sed | head` dies of SIGPIPE under pipefail when the output is long.
head -n 6 "$WORK/out" | sed 's/^/   | /'
# Every check below shows the whole output when it fails.
check() { "$@" || { sed 's/^/   | /' "$WORK/out" >&2; return 1; }; }
check [ $rc -eq 1 ] || fail "granule-io exited $rc, expected 1 (the flushes failed)"
failed=$(grep -c "^aio_flush failed" "$WORK/out" || true)
check [ "$failed" -eq 20 ] || fail "$failed of 20 aio_flush failed, expected all"
check grep -q "no answer within 2 s" "$WORK/out" || fail "no timeout message"
check grep -q "not connected" "$WORK/out" || fail "no message saying the node is not connected"
note "   took $elapsed ms (two timeouts are 4000)"
# The first flush's timeout, one login timeout, margin: 4 timeouts would
# be 8 s; 20 timeouts 40 s.
check [ $elapsed -lt 7500 ] || fail "20 flushes on a stopped target took $elapsed ms"

note "after SIGCONT the next request reconnects"
sleep 1.2  # past the retry interval
"$GRANULE_IO" --no-timing --line-buffered --error-detail --image-opts "driver=iscsi,filename=$url,timeout=2" \
    -c "write -P 0x12 4096 4096" -c "read -P 0x12 4096 4096" -c aio_flush >"$WORK/out2" 2>&1 ||
    { cat "$WORK/out2" >&2; fail "a request after SIGCONT failed"; }
echo "PASS"
