# Sourced by every test_*.sh here: granule-nbd against NBD clients nobody on
# this project wrote (qemu-io, qemu-img, nbdinfo, nbdcopy), each test with
# its own servers on Unix sockets in a private temp dir.
#
#   . fixture.sh GRANULE_NBD          checks the peers, makes $WORK, sets the trap
#   serve NAME ARGS...                starts granule-nbd ARGS on $WORK/NAME.sock,
#                                     waits until it listens; URI in $REPLY,
#                                     pid in SERVER_PID[NAME]
#   stop_server NAME                  SIGTERM, waits; fails unless it exits 0
#   uri NAME [EXPORT]                 nbd+unix URI of a running server, in $REPLY
#
# Servers are always killed at exit. Without qemu-utils, libnbd-bin or python3
# a test exits 77 (SKIP), or fails with GRANULE_NO_SKIP=1.
set -euo pipefail

GRANULE_NBD=${1:?usage: $0 GRANULE_NBD}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
declare -A SERVER_PID=()

# skip, fail, note
. "$(dirname "${BASH_SOURCE[0]}")/../../lib/test_verdicts.sh"

for tool in qemu-io qemu-img nbdinfo nbdcopy python3; do
    command -v "$tool" >/dev/null || skip "$tool not found (apt-get install qemu-utils libnbd-bin python3)"
done
[ -x "$GRANULE_NBD" ] || fail "granule-nbd not found at $GRANULE_NBD"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/granule-nbd-server.XXXXXX")
nbd_cleanup() {
    local rc=$? name
    if declare -F test_cleanup >/dev/null; then test_cleanup || true; fi
    for name in "${!SERVER_PID[@]}"; do
        kill -KILL "${SERVER_PID[$name]}" 2>/dev/null || true
    done
    if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then
        for log in "$WORK"/*.log; do
            [ -f "$log" ] && { echo "=== $log"; tail -n 30 "$log"; }
        done
    fi
    rm -rf "$WORK"
    exit $rc
}
trap nbd_cleanup EXIT INT TERM HUP

uri() {  # name [export]
    REPLY="nbd+unix:///${2:-}?socket=$WORK/$1.sock"
}

serve() {  # name granule-nbd-args...
    local name=$1 i
    shift
    rm -f "$WORK/$name.sock" "$WORK/$name.pid"
    "$GRANULE_NBD" -k "$WORK/$name.sock" --pid-file "$WORK/$name.pid" "$@" 2>"$WORK/$name.log" &
    SERVER_PID[$name]=$!
    # The pid file appears once the socket listens.
    for i in $(seq 100); do
        [ -s "$WORK/$name.pid" ] && break
        kill -0 "${SERVER_PID[$name]}" 2>/dev/null || fail "granule-nbd $* exited: $(cat "$WORK/$name.log")"
        sleep 0.05
    done
    [ -s "$WORK/$name.pid" ] || fail "granule-nbd $* did not listen within 5 s"
    uri "$name"
}

stop_server() {  # name
    local pid=${SERVER_PID[$1]} rc=0
    kill -TERM "$pid"
    wait "$pid" || rc=$?
    unset "SERVER_PID[$1]"
    [ "$rc" -eq 0 ] || fail "granule-nbd ($1) exited $rc after SIGTERM: $(cat "$WORK/$1.log")"
    [ ! -e "$WORK/$1.sock" ] || fail "granule-nbd ($1) left its socket behind"
    [ ! -e "$WORK/$1.pid" ] || fail "granule-nbd ($1) left its pid file behind"
}

# What nbdinfo --json says of URI's export, into INFO[key] (one python run:
# python's start-up is the slow part of a test).
export_info() {  # uri
    local k v json
    json=$(nbdinfo --json "$1") || fail "nbdinfo $1"
    declare -gA INFO=()
    while IFS='=' read -r k v; do INFO[$k]=$v; done < <(python3 -c '
import json, sys
for k, v in json.loads(sys.argv[1])["exports"][0].items():
    print("%s=%s" % (k, v))' "$json")
    INFO[json]=$json
}
