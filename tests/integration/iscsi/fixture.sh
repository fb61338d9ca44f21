# Sourced by every test_*.sh here: a private tgtd on 127.0.0.1 for one test.
#
#   . fixture.sh GRANULE_IO          (checks prerequisites, sets traps)
#   iscsi_start_target [PORT]        (starts tgtd, creates the LUNs, waits for logins)
#   iscsi_stop_target                (deletes the target and the system, SIGTERM, SIGKILL)
#
# The target is $IQN on 127.0.0.1:$PORT (control socket number $CTL, random),
# with LUNs backed by files in $WORK:
#   1  lun1.img  3 GiB (sparse), 512-byte blocks, 512e (lbppbe=3), optimal_xfer_gran=8,
#      optimal_xfer_len=256, thin_provisioning=1 (UNMAP, WRITE SAME, LBPRZ)
#   2  lun2.img 32 MiB, 4096-byte blocks, defaults
#   3  lun3.img  8 MiB, 512-byte blocks, lbppbe=3, la_lba=1 (misaligned 512e)
#   4  lun4.img  8 MiB, 4096-byte blocks, --bstype aio: that backing store's
#      opcode map lacks WRITE SAME, so tgtd refuses it (ILLEGAL REQUEST,
#      INVALID COMMAND OPERATION CODE)
# tgtd is always stopped by the pid this script started: at exit (trap), and
# by a watchdog if the test itself is killed. Without root or tgt/libiscsi-bin
# the test exits 77 (SKIP) with the reason; GRANULE_NO_SKIP=1 makes that a failure.
set -euo pipefail

GRANULE_IO=${1:?usage: $0 GRANULE_IO}
IQN=iqn.2026-11.org.granule:test
TGTD_PID=""
WATCHDOG_PID=""
PORT=""
CTL=""

# skip, fail, note
. "$(dirname "${BASH_SOURCE[0]}")/../../lib/test_verdicts.sh"

[ -z "${GRANULE_ISCSI_MISSING:-}" ] || skip "$GRANULE_ISCSI_MISSING"
[ "$(id -u)" -eq 0 ] || skip "tgtd needs root (running as uid $(id -u))"
for tool in tgtd tgtadm iscsi-inq iscsi-readcapacity16; do
    command -v "$tool" >/dev/null || skip "$tool not found (apt-get install tgt libiscsi-bin)"
done
[ -x "$GRANULE_IO" ] || fail "granule-io not found at $GRANULE_IO"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/granule-iscsi.XXXXXX")

iscsi_cleanup() {
    local rc=$?
    # A test may define test_cleanup (e.g. to stop its granule-io by pid).
    if declare -F test_cleanup >/dev/null; then test_cleanup || true; fi
    iscsi_stop_target
    if [ -n "$WATCHDOG_PID" ]; then
        kill "$WATCHDOG_PID" 2>/dev/null || true
        wait "$WATCHDOG_PID" 2>/dev/null || true
    fi
    if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then
        for log in "$WORK"/tgtd.*.log; do
            [ -f "$log" ] && { echo "--- $log (tail)"; tail -n 20 "$log"; }
        done
    fi
    rm -rf "$WORK"
    exit $rc
}
trap iscsi_cleanup EXIT
trap 'exit 130' INT TERM HUP

tgtadm_() { tgtadm -C "$CTL" --lld iscsi "$@"; }

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A port nothing listens on (for "connection refused").
free_port() {
    local p
    while :; do
        p=$((20000 + RANDOM % 40000))
        port_in_use "$p" || { echo "$p"; return; }
    done
}

# Polls "$@" every 0.1 s until it succeeds; fails after $1 seconds.
retry_for() {
    local secs=$1; shift
    local end=$((SECONDS + secs))
    until "$@" >/dev/null 2>&1; do
        [ -n "$TGTD_PID" ] && ! kill -0 "$TGTD_PID" 2>/dev/null && return 1
        [ $SECONDS -ge $end ] && return 1
        sleep 0.1
    done
}

make_backing_files() {
    [ -f "$WORK/lun1.img" ] && return
    truncate -s 3G "$WORK/lun1.img"  # sparse: room for multi-command WRITE SAME / UNMAP
    truncate -s 32M "$WORK/lun2.img"
    truncate -s 8M "$WORK/lun3.img"
    truncate -s 8M "$WORK/lun4.img"
}

configure_target() {
    tgtadm_ --op new --mode target --tid 1 -T "$IQN" &&
    tgtadm_ --op new --mode logicalunit --tid 1 --lun 1 -b "$WORK/lun1.img" &&
    tgtadm_ --op update --mode logicalunit --tid 1 --lun 1 \
        --params lbppbe=3,optimal_xfer_gran=8,optimal_xfer_len=256,thin_provisioning=1 &&
    tgtadm_ --op new --mode logicalunit --tid 1 --lun 2 -b "$WORK/lun2.img" --blocksize 4096 &&
    tgtadm_ --op new --mode logicalunit --tid 1 --lun 3 -b "$WORK/lun3.img" &&
    tgtadm_ --op update --mode logicalunit --tid 1 --lun 3 --params lbppbe=3,la_lba=1 &&
    tgtadm_ --op new --mode logicalunit --tid 1 --lun 4 -b "$WORK/lun4.img" --blocksize 4096 \
        --bstype aio &&
    tgtadm_ --op bind --mode target --tid 1 -I ALL
}

# Starts tgtd on PORT (or a random free one, retried on collisions).
iscsi_start_target() {
    local want=${1:-} tries=0
    make_backing_files
    while :; do
        tries=$((tries + 1))
        [ $tries -le 5 ] || fail "tgtd did not come up after 5 attempts (logs in $WORK)"
        PORT=${want:-$((20000 + RANDOM % 40000))}
        CTL=$((1000 + RANDOM % 30000))  # tgtd refuses -C values above ~32k
        if [ -z "$want" ] && port_in_use "$PORT"; then continue; fi
        if [ -e "/var/run/tgtd/socket.$CTL" ]; then continue; fi
        tgtd -f --iscsi "portal=127.0.0.1:$PORT" -C "$CTL" >"$WORK/tgtd.$PORT.log" 2>&1 &
        TGTD_PID=$!
        if [ -z "$WATCHDOG_PID" ]; then
            # Stops our tgtd if this script dies without running its trap (ctest timeout).
            local me=$$
            ( while kill -0 "$me" 2>/dev/null; do sleep 1; done
              if [ -f "$WORK/tgtd.pid" ]; then
                  read -r pid ctl <"$WORK/tgtd.pid"
                  kill -KILL "$pid"
                  rm -f "/var/run/tgtd/socket.$ctl" "/var/run/tgtd/socket.$ctl.lock"
              fi
              rm -rf "$WORK" ) >/dev/null 2>&1 &
            WATCHDOG_PID=$!
        fi
        echo "$TGTD_PID $CTL" >"$WORK/tgtd.pid"
        if retry_for 10 tgtadm_ --op show --mode sys && configure_target &&
            retry_for 10 iscsi-inq "iscsi://127.0.0.1:$PORT/$IQN/1"; then
            note "tgtd pid $TGTD_PID on 127.0.0.1:$PORT (control $CTL)"
            return 0
        fi
        echo "tgtd on port $PORT did not come up:" >&2
        tail -n 5 "$WORK/tgtd.$PORT.log" >&2 || true
        iscsi_stop_target
        [ -z "$want" ] || sleep 1
    done
}

# Stops the tgtd we started, by its pid. tgt 1.0.85 catches and ignores
# SIGTERM (also without targets, measured here): it exits on
# `tgtadm --op delete --mode system` once its targets are gone. SIGTERM and,
# after a 3 s grace period, SIGKILL follow in case it does not.
iscsi_stop_target() {
    [ -n "$TGTD_PID" ] || return 0
    if kill -0 "$TGTD_PID" 2>/dev/null; then
        kill -CONT "$TGTD_PID" 2>/dev/null || true
        timeout 5 tgtadm -C "$CTL" --lld iscsi --op delete --force --mode target --tid 1 \
            >/dev/null 2>&1 || true
        timeout 5 tgtadm -C "$CTL" --op delete --mode system >/dev/null 2>&1 || true
        local end=$((SECONDS + 2))
        while kill -0 "$TGTD_PID" 2>/dev/null && [ $SECONDS -lt $end ]; do sleep 0.1; done
        kill -TERM "$TGTD_PID" 2>/dev/null || true
        end=$((SECONDS + 3))
        while kill -0 "$TGTD_PID" 2>/dev/null && [ $SECONDS -lt $end ]; do sleep 0.1; done
        kill -KILL "$TGTD_PID" 2>/dev/null || true
    fi
    wait "$TGTD_PID" 2>/dev/null || true
    rm -f "/var/run/tgtd/socket.$CTL" "/var/run/tgtd/socket.$CTL.lock" "$WORK/tgtd.pid"
    TGTD_PID=""
}

# SIGKILL, as a crash: no cleanup of the target, sockets reset by the kernel.
iscsi_kill_target() {
    kill -KILL "$TGTD_PID"
    wait "$TGTD_PID" 2>/dev/null || true
    rm -f "/var/run/tgtd/socket.$CTL" "/var/run/tgtd/socket.$CTL.lock" "$WORK/tgtd.pid"
    TGTD_PID=""
}

lun_url() { echo "iscsi://127.0.0.1:$PORT/$IQN/$1"; }

# Bytes [off, off+len) of a file as hex, one byte per line.
file_bytes() { od -An -v -tx1 -j "$2" -N "$3" "$1" | tr -s ' \n' '\n' | sed '/^$/d'; }

# tgtd's own counters of one LUN, summed over its sessions (tgtadm --op stat;
# a session's line goes when it logs out): "write_commands write_bytes errors",
# as submitted to tgtd. Errors count every answer other than GOOD.
lun_stats() {
    tgtadm_ --op stat --mode logicalunit --tid 1 --lun "$1" |
        awk 'NR > 1 { c += $9; b += $8; e += $12 } END { printf "%d %d %d\n", c, b, e }'
}

# The data bytes of granule-io's `read -v` / `readv -v` dumps, one per line.
dump_bytes() { awk '/^[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]:  / { for (i = 2; i < NF; i++) print $i }' "$@"; }

# Writes LEN bytes of byte value PAT at OFF into FILE (like granule-io write -P).
fill_file() {
    local file=$1 pat=$2 off=$3 len=$4
    head -c "$len" /dev/zero | tr '\0' "\\$(printf %03o "$pat")" |
        dd of="$file" bs=64k oflag=seek_bytes seek="$off" conv=notrunc status=none
}
