# Sourced by every test_*.sh here: private NBD servers on Unix sockets in a
# temp dir of this test, never on the network.
#
#   . fixture.sh GRANULE_IO                (checks prerequisites, sets traps)
#   nbd_start_nbdkit NAME [nbdkit args...] (nbdkit on $WORK/NAME.sock; REPLY = its URI)
#   nbd_start_qemu_nbd NAME [qemu-nbd args...] FILE   (qemu-nbd likewise)
#   nbd_stop NAME                          (SIGTERM, then SIGKILL, by pid)
#   nbd_kill NAME                          (SIGKILL, as a crash)
#
# $BLOCKSIZE4K holds the parameters of nbdkit's blocksize-policy filter
# (--filter=blocksize-policy before the plugin, these after it) that make a
# server advertise minimum 4096 / preferred 64 KiB / maximum 32 MiB and refuse
# (EINVAL) any request that breaks them: the core's RMW then runs above a
# network backend, and a request the core failed to align fails.
# Servers are stopped by the pid this script started: at exit (trap); nbdkit
# also dies with this shell (--exit-with-parent) and qemu-nbd through a
# watchdog, should the test be SIGKILLed (a ctest timeout). Without nbdkit,
# nbdinfo/nbdcopy or the built driver the test exits 77 (SKIP) with the
# reason; GRANULE_NO_SKIP=1 makes that a failure.
set -euo pipefail

GRANULE_IO=${1:?usage: $0 GRANULE_IO}
GRANULE_IMG=${GRANULE_IMG:-}
declare -A SERVER_PID=()
WATCHDOG_PID=""

# skip, fail, note
. "$(dirname "${BASH_SOURCE[0]}")/../../lib/test_verdicts.sh"

[ -z "${GRANULE_NBD_MISSING:-}" ] || skip "$GRANULE_NBD_MISSING"
for tool in nbdkit nbdinfo nbdcopy timeout; do
    command -v "$tool" >/dev/null || skip "$tool not found (apt-get install nbdkit libnbd-bin)"
done
[ -x "$GRANULE_IO" ] || fail "granule-io not found at $GRANULE_IO"

BLOCKSIZE4K=(blocksize-minimum=4096 blocksize-preferred=65536 blocksize-maximum=33554432
    blocksize-error-policy=error)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/granule-nbd.XXXXXX")

nbd_cleanup() {
    local rc=$?
    if declare -F test_cleanup >/dev/null; then test_cleanup || true; fi
    local name
    for name in "${!SERVER_PID[@]}"; do nbd_stop "$name"; done
    if [ -n "$WATCHDOG_PID" ]; then
        kill "$WATCHDOG_PID" 2>/dev/null || true
        wait "$WATCHDOG_PID" 2>/dev/null || true
    fi
    if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then
        for log in "$WORK"/*.log; do
            [ -f "$log" ] && { echo "--- $log (tail)"; tail -n 20 "$log"; }
        done
    fi
    rm -rf "$WORK"
    exit $rc
}
trap nbd_cleanup EXIT
trap 'exit 130' INT TERM HUP

nbd_uri() { echo "nbd+unix:///${2:-}?socket=$WORK/$1.sock"; }

# Waits until the server answers a handshake; fails after 10 s or when it died.
wait_for_server() {
    local name=$1 end=$((SECONDS + 10))
    until nbdinfo --list "$(nbd_uri "$name")" >/dev/null 2>&1; do
        kill -0 "${SERVER_PID[$name]}" 2>/dev/null ||
            fail "server $name exited: $(tail -n 5 "$WORK/$name.log" 2>/dev/null)"
        [ $SECONDS -lt $end ] || fail "server $name did not answer within 10 s"
        sleep 0.05
    done
}

# nbd_start_nbdkit NAME [args...]: nbdkit -U $WORK/NAME.sock in the
# foreground of a background job; REPLY is its URI.
nbd_start_nbdkit() {
    local name=$1
    shift
    rm -f "$WORK/$name.sock"
    nbdkit -U "$WORK/$name.sock" -f --exit-with-parent "$@" >"$WORK/$name.log" 2>&1 &
    SERVER_PID[$name]=$!
    wait_for_server "$name"
    REPLY=$(nbd_uri "$name")
}

# nbd_start_qemu_nbd NAME [args...] FILE: qemu-nbd -k $WORK/NAME.sock,
# persistent (-t), up to 4 clients at once; REPLY is its URI.
nbd_start_qemu_nbd() {
    local name=$1
    shift
    command -v qemu-nbd >/dev/null || skip "qemu-nbd not found (apt-get install qemu-utils)"
    rm -f "$WORK/$name.sock"
    qemu-nbd -k "$WORK/$name.sock" -t --shared=4 "$@" >"$WORK/$name.log" 2>&1 &
    SERVER_PID[$name]=$!
    echo "${SERVER_PID[$name]}" >"$WORK/$name.pid"
    if [ -z "$WATCHDOG_PID" ]; then
        # qemu-nbd has no --exit-with-parent: stop ours if this script dies
        # without running its trap.
        local me=$$
        ( while kill -0 "$me" 2>/dev/null; do sleep 1; done
          for f in "$WORK"/*.pid; do [ -f "$f" ] && kill -KILL "$(cat "$f")"; done
          rm -rf "$WORK" ) >/dev/null 2>&1 &
        WATCHDOG_PID=$!
    fi
    wait_for_server "$name"
    REPLY=$(nbd_uri "$name")
}

nbd_stop() {
    local name=$1 pid=${SERVER_PID[$1]:-}
    [ -n "$pid" ] || return 0
    if kill -0 "$pid" 2>/dev/null; then
        kill -CONT "$pid" 2>/dev/null || true
        kill -TERM "$pid" 2>/dev/null || true
        local end=$((SECONDS + 3))
        while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $end ]; do sleep 0.05; done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
    unset "SERVER_PID[$name]"
    rm -f "$WORK/$name.pid" "$WORK/$name.sock"
}

# SIGKILL, as a crash: the kernel closes its sockets.
nbd_kill() {
    local name=$1 pid=${SERVER_PID[$1]}
    kill -KILL "$pid"
    wait "$pid" 2>/dev/null || true
    unset "SERVER_PID[$name]"
    rm -f "$WORK/$name.pid"
}

# The whole export as a file (nbdcopy: libnbd, not Granule, reads it).
export_to_file() { nbdcopy "$1" "$2"; }
# A file into the whole export (nbdcopy writes, obeying the block sizes).
file_to_export() { nbdcopy "$1" "$2"; }

# Bytes [off, off+len) of a file as hex, one byte per line.
file_bytes() { od -An -v -tx1 -j "$2" -N "$3" "$1" | tr -s ' \n' '\n' | sed '/^$/d'; }

# The data bytes of granule-io's `read -v` / `readv -v` dumps, one per line.
dump_bytes() { awk '/^[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]:  / { for (i = 2; i < NF; i++) print $i }' "$@"; }

# model_write FILE OFF LEN BYTE: the reference file's bytes, as granule-io write -P.
. "$(dirname "${BASH_SOURCE[0]}")/../../lib/io_matrix.sh"

# granule-io with the options every test wants; a hang fails the test.
gio() { timeout -k 5 60 "$GRANULE_IO" --no-timing --line-buffered --error-detail "$@"; }

expect_grep() {  # pattern file what
    grep -q -- "$1" "$2" || { cat "$2" >&2; fail "$3: no line matching '$1'"; }
}
