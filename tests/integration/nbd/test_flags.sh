#!/usr/bin/env bash
# Node flags follow what the server advertises, and requests go out as the
# flags say: nbdkit's log filter records every NBD command the server got.
#  A. nbdkit memory (flush, FUA, trim, write-zeroes, fast-zero, base:allocation):
#     write -f is one Write with fua=1 and no Flush; write -z is one Zero with
#     trim=0 (NO_HOLE), write -z -u one with trim=1 (may punch), write -z -n one
#     with fast=1; discard is a Trim; flush a Flush; block status an Extents
#     with req_one=1; info names each method;
#  B. --filter=fua, --filter=nozero (their defaults: none advertised),
#     --no-sr (no structured replies, hence no base:allocation): write -f is a Write with fua=0 followed by a Flush;
#     write -z becomes zero buffers (a Write of zeroes, no Zero command) and
#     reads back as zeroes; write -z -n fails with ENOTSUP before anything is
#     sent; no Extents command ever; info says why for each;
#  C. nozero zeromode=plugin fastzeromode=none: write -z is a Zero, write -z -n
#     is refused by the core (no fast zero advertised), nothing sent;
#  D. a 5 GiB write -z -n (the protocol's lengths are 32 bits): five Zero
#     commands of 1 GiB, one after the other, and the bytes around stay.
# Every request is 4096-aligned here (blocksize-policy), so one command each.
. "$(dirname "$0")/fixture.sh" || exit 1

# Log lines of the data commands since the last mark, without ids/timestamps:
# "Write offset=0x0 count=0x1000 fua=1", "Flush", ...
mark() { wc -l <"$1"; }
commands_since() {  # log mark
    tail -n +$(($2 + 1)) "$1" |
        sed -n 's/^.* connection=[0-9]* \(Write\|Read\|Zero\|Trim\|Flush\|Extents\|Cache\) id=[0-9]* \?\(.*\)$/\1 \2/p' |
        sed 's/ \.\.\.$//; s/ $//'
}
# Runs granule-io commands on URI; the commands' output goes to $WORK/out.
# format=raw: no probing read of the first 512 bytes, so each run's
# commands are exactly the ones expected.
run() {  # uri command...
    local uri=$1
    shift
    local args=()
    for c in "$@"; do args+=(-c "$c"); done
    gio "${args[@]}" --image-opts "driver=nbd,filename=$uri,format=raw" >"$WORK/out" 2>&1 || true
}
expect_commands() {  # log mark expected-lines what
    local got
    got=$(commands_since "$1" "$2")
    [ "$got" = "$3" ] || fail "$4: the server got
$got
expected
$3"
}

note "A. everything advertised"
nbd_start_nbdkit a --filter=log --filter=blocksize-policy memory 64M "${BLOCKSIZE4K[@]}" \
    logfile="$WORK/a.nbdlog"
uri=$REPLY
log=$WORK/a.nbdlog
gio -c info "$uri" >"$WORK/info.txt"
expect_grep "^  fua: NBD_CMD_FLAG_FUA on writes and write-zeroes$" "$WORK/info.txt" "A: fua"
expect_grep "^  discard: NBD_CMD_TRIM$" "$WORK/info.txt" "A: discard"
expect_grep "^  write_zeroes: NBD_CMD_WRITE_ZEROES, with NBD_CMD_FLAG_NO_HOLE unless the request may unmap; no_fallback requests with NBD_CMD_FLAG_FAST_ZERO$" "$WORK/info.txt" "A: write_zeroes"
expect_grep "^  block_status: base:allocation (NBD_CMD_BLOCK_STATUS)$" "$WORK/info.txt" "A: block_status"
m=$(mark "$log"); run "$uri" "write -f -P 1 0 4096"
expect_commands "$log" "$m" "Write offset=0x0 count=0x1000 fua=1" "A: write -f"
m=$(mark "$log"); run "$uri" "write -z 8192 8192"
expect_commands "$log" "$m" "Zero offset=0x2000 count=0x2000 trim=0 fua=0 fast=0" "A: write -z"
m=$(mark "$log"); run "$uri" "write -z -u 8192 8192"
expect_commands "$log" "$m" "Zero offset=0x2000 count=0x2000 trim=1 fua=0 fast=0" "A: write -z -u"
m=$(mark "$log"); run "$uri" "write -z -n 8192 8192"
expect_commands "$log" "$m" "Zero offset=0x2000 count=0x2000 trim=0 fua=0 fast=1" "A: write -z -n"
m=$(mark "$log"); run "$uri" "write -z -f 8192 8192"
expect_commands "$log" "$m" "Zero offset=0x2000 count=0x2000 trim=0 fua=1 fast=0" "A: write -z -f"
m=$(mark "$log"); run "$uri" "discard 16384 8192"
expect_commands "$log" "$m" "Trim offset=0x4000 count=0x2000 fua=0" "A: discard"
m=$(mark "$log"); run "$uri" "flush"
expect_commands "$log" "$m" "Flush" "A: flush"
m=$(mark "$log"); run "$uri" "alloc 0 4096"
expect_commands "$log" "$m" "Extents offset=0x0 count=0x1000 req_one=1" "A: block status"
nbd_stop a

note "B. no FUA, no write-zeroes, no base:allocation"
nbd_start_nbdkit b --no-sr --filter=log --filter=fua --filter=nozero \
    --filter=blocksize-policy memory 64M "${BLOCKSIZE4K[@]}" logfile="$WORK/b.nbdlog"
uri=$REPLY
log=$WORK/b.nbdlog
nbdinfo "$uri" | grep -q "can_fua: false" || fail "B: nbdkit still advertises FUA"
gio -c info "$uri" >"$WORK/info.txt"
expect_grep "^  fua: the core flushes after the write (NBD_FLAG_SEND_FUA not advertised)$" "$WORK/info.txt" "B: fua"
expect_grep "^  write_zeroes: zero buffers, written by the core (NBD_FLAG_SEND_WRITE_ZEROES not advertised)$" "$WORK/info.txt" "B: write_zeroes"
expect_grep "^  block_status: base:allocation not negotiated: every range reads as data$" "$WORK/info.txt" "B: block_status"
expect_grep "^  protocol: newstyle-fixed, simple replies only, no TLS$" "$WORK/info.txt" "B: protocol"
m=$(mark "$log"); run "$uri" "write -f -P 1 0 4096"
expect_commands "$log" "$m" "Write offset=0x0 count=0x1000 fua=0
Flush" "B: write -f"
m=$(mark "$log"); run "$uri" "write -P 0x77 8192 8192" "write -z 8192 8192" "read -P 0 8192 8192"
expect_grep "^read 8192/8192 bytes at offset 8192$" "$WORK/out" "B: zeroes read back"
expect_commands "$log" "$m" "Write offset=0x2000 count=0x2000 fua=0
Write offset=0x2000 count=0x2000 fua=0
Read offset=0x2000 count=0x2000" "B: write -z as zero buffers"
m=$(mark "$log"); run "$uri" "write -z -n 8192 8192"
expect_grep "^write failed: Operation not supported$" "$WORK/out" "B: write -z -n"
expect_commands "$log" "$m" "" "B: write -z -n sends nothing"
m=$(mark "$log"); run "$uri" "alloc 0 4096" "map"
expect_commands "$log" "$m" "" "B: no block status without base:allocation"
expect_grep "^4096/4096 bytes allocated at offset 0 bytes$" "$WORK/out" "B: alloc says data"
nbd_stop b

note "C. write-zeroes without fast zero"
nbd_start_nbdkit c --filter=log --filter=nozero --filter=blocksize-policy memory 64M \
    "${BLOCKSIZE4K[@]}" zeromode=plugin fastzeromode=none logfile="$WORK/c.nbdlog"
uri=$REPLY
log=$WORK/c.nbdlog
gio -c info "$uri" >"$WORK/info.txt"
expect_grep "no_fallback requests refused by the core (NBD_FLAG_SEND_FAST_ZERO not advertised)$" "$WORK/info.txt" "C: info"
m=$(mark "$log"); run "$uri" "write -z 8192 8192"
expect_commands "$log" "$m" "Zero offset=0x2000 count=0x2000 trim=0 fua=0 fast=0" "C: write -z"
m=$(mark "$log"); run "$uri" "write -z -n 8192 8192"
expect_grep "^write failed: Operation not supported$" "$WORK/out" "C: write -z -n"
expect_commands "$log" "$m" "" "C: write -z -n sends nothing"
nbd_stop c

note "D. 5 GiB of zeroes in 1 GiB commands"
nbd_start_nbdkit d --filter=log memory 8G logfile="$WORK/d.nbdlog"
uri=$REPLY
log=$WORK/d.nbdlog
m=$(mark "$log"); run "$uri" "write -P 0x66 0 8192" "write -z -n 4096 5G" "read -P 0x66 0 4096" \
    "read -P 0 4096 4096" "read -P 0 5368709120 4096"
expect_commands "$log" "$m" "Write offset=0x0 count=0x2000 fua=0
Zero offset=0x1000 count=0x40000000 trim=0 fua=0 fast=1
Zero offset=0x40001000 count=0x40000000 trim=0 fua=0 fast=1
Zero offset=0x80001000 count=0x40000000 trim=0 fua=0 fast=1
Zero offset=0xc0001000 count=0x40000000 trim=0 fua=0 fast=1
Zero offset=0x100001000 count=0x40000000 trim=0 fua=0 fast=1
Read offset=0x0 count=0x1000
Read offset=0x1000 count=0x1000
Read offset=0x140000000 count=0x1000" "D: 5 GiB write -z -n"
[ "$(grep -c "^read 4096/4096" "$WORK/out")" = 3 ] || { cat "$WORK/out" >&2; fail "D: read-back"; }
echo "PASS"
