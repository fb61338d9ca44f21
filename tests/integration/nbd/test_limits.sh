#!/usr/bin/env bash
# Limits and their sources, as `granule-img info` shows them, against what
# the server advertises (nbdinfo, libnbd's own client, is the reference):
#  A. nbdkit memory + blocksize-policy 4096 / 64 KiB / 32 MiB: the three
#     values come from NBD_INFO_BLOCK_SIZE; a 40 MB unaligned write reaches
#     the server as aligned requests of at most 32 MiB (nbdkit's log filter;
#     the policy would fail anything else with EINVAL);
#  B. nbdkit memory without block sizes: the protocol's defaults (1, no
#     preference, 32 MiB), each with the source saying so;
#  C. a 128 MiB maximum: capped at libnbd's 64 MiB, the source saying why;
#  D. qemu-nbd over a raw file: its own 1 / 4096 / 32 MiB;
# and in each case the driver's info lines repeat the advertised sizes and
# the transmission flags exactly as nbdinfo reports them.
. "$(dirname "$0")/fixture.sh" || exit 1
[ -x "$GRANULE_IMG" ] || fail "granule-img not found at '$GRANULE_IMG'"
command -v python3 >/dev/null || skip "python3 not found (it parses granule-img --output=json)"

# Expects "  NAME: VALUE (SOURCE)" in the limits of $WORK/info.txt.
expect_limit() {
    local name=$1 value=$2 source=$3 line
    line=$(grep "^  $name: " "$WORK/info.txt") || { cat "$WORK/info.txt" >&2; fail "no $name line"; }
    [ "$line" = "  $name: $value ($source)" ] ||
        fail "$name: got '$line', expected '  $name: $value ($source)'"
}

# The info line of transmission flags must say what nbdinfo says.
expect_flags_as_nbdinfo() {
    local uri=$1 want got
    nbdinfo "$uri" >"$WORK/nbdinfo.txt"
    yn() { sed -n "s/^\t$1: //p" "$WORK/nbdinfo.txt" | sed 's/true/yes/;s/false/no/'; }
    want="transmission_flags: read-only $(yn is_read_only), flush $(yn can_flush), fua $(yn can_fua), trim $(yn can_trim), write-zeroes $(yn can_zero), fast-zero $(yn can_fast_zero), multi-conn $(yn can_multi_conn), cache $(yn can_cache), df $(yn can_df), rotational $(yn is_rotational)"
    got=$(sed -n 's/^  \(transmission_flags: .*\)$/\1/p' "$WORK/info.txt")
    [ "$got" = "$want" ] || fail "flags differ from nbdinfo:
  got:  $got
  want: $want"
}

# nbdinfo's advertised block sizes, "min pref max" (0 for none).
nbdinfo_sizes() {
    local m p x
    m=$(sed -n 's/^\tblock_size_minimum: //p' "$WORK/nbdinfo.txt")
    p=$(sed -n 's/^\tblock_size_preferred: //p' "$WORK/nbdinfo.txt")
    x=$(sed -n 's/^\tblock_size_maximum: //p' "$WORK/nbdinfo.txt")
    echo "${m:-0} ${p:-0} ${x:-0}"
}

note "A. nbdkit memory + blocksize-policy 4096 / 65536 / 33554432"
nbd_start_nbdkit a --filter=log --filter=blocksize-policy memory 64M "${BLOCKSIZE4K[@]}" \
    logfile="$WORK/a.nbdlog"
uri=$REPLY
"$GRANULE_IMG" info "$uri" >"$WORK/info.txt"
expect_limit request_alignment 4096 "nbd: NBD_INFO_BLOCK_SIZE minimum block size"
expect_limit max_transfer 33554432 "nbd: NBD_INFO_BLOCK_SIZE maximum block size"
expect_limit opt_transfer 65536 "nbd: NBD_INFO_BLOCK_SIZE preferred block size"
expect_limit min_mem_alignment 1 "nbd: any address: the data goes through a socket"
expect_limit pwrite_zeroes_alignment 4096 "core: request_alignment"
expect_grep "^length: 67108864$" "$WORK/info.txt" "A: length"
expect_grep "^read_only: no$" "$WORK/info.txt" "A: read_only"
expect_grep "^growable: no$" "$WORK/info.txt" "A: growable"
expect_grep "^  server: $uri$" "$WORK/info.txt" "A: server"
expect_grep "^  export: '', size 67108864$" "$WORK/info.txt" "A: export"
expect_flags_as_nbdinfo "$uri"
[ "$(nbdinfo_sizes)" = "4096 65536 33554432" ] || fail "nbdinfo sees $(nbdinfo_sizes)"
expect_grep "^  block_size: NBD_INFO_BLOCK_SIZE minimum 4096, preferred 65536, maximum 33554432$" \
    "$WORK/info.txt" "A: advertised sizes"
# --output=json carries the same values and sources.
"$GRANULE_IMG" info --output=json "$uri" >"$WORK/info.json"
python3 - "$WORK/info.json" <<'EOF' || fail "A: JSON limits differ"
import json, sys
d = json.load(open(sys.argv[1]))
def find(o):
    if isinstance(o, dict):
        if "request_alignment" in o:
            return o
        for v in o.values():
            r = find(v)
            if r: return r
    if isinstance(o, list):
        for v in o:
            r = find(v)
            if r: return r
l = find(d)
ra = l["request_alignment"]
assert (ra["value"], ra["source"]) == (4096, "nbd: NBD_INFO_BLOCK_SIZE minimum block size"), ra
mt = l["max_transfer"]
assert (mt["value"], mt["source"]) == (33554432, "nbd: NBD_INFO_BLOCK_SIZE maximum block size"), mt
EOF
# 40,000,000 bytes at 4097: padded to [4096, 40005632), sent in pieces of at
# most 32 MiB, every offset and length a multiple of 4096.
gio -c "write -q -P 0x5a 4097 40000000" -c "read -q -P 0x5a 4097 40000000" "$uri" >"$WORK/a.out" 2>&1 ||
    { cat "$WORK/a.out" >&2; fail "A: the 40 MB unaligned write failed"; }
# nbdkit logs "Write id=N offset=0x... count=0x..." per request.
nwrites=0 maxw=0 bad=0 total=0
while read -r o c; do
    nwrites=$((nwrites + 1)) total=$((total + c))
    [ $((c)) -le "$maxw" ] || maxw=$((c))
    [ $((o % 4096)) = 0 ] && [ $((c % 4096)) = 0 ] || bad=$((bad + 1))
done < <(sed -n 's/.* Write id=[0-9]* offset=\(0x[0-9a-f]*\) count=\(0x[0-9a-f]*\) .*/\1 \2/p' "$WORK/a.nbdlog")
note "   40 MB write: $nwrites NBD writes, largest $maxw, $total bytes, $bad unaligned"
[ "$bad" = 0 ] || fail "A: $bad unaligned writes reached the server"
[ "$maxw" = 33554432 ] || fail "A: largest write $maxw, expected 33554432 (max_transfer)"
[ "$total" = 40001536 ] || fail "A: $total bytes written, expected the padded 40001536"
grep -q "return=-1" "$WORK/a.nbdlog" && fail "A: the server refused a request"
nbd_stop a

note "B. nbdkit memory without block sizes: the protocol's defaults"
nbd_start_nbdkit b memory 1M
uri=$REPLY
"$GRANULE_IMG" info "$uri" >"$WORK/info.txt"
expect_limit request_alignment 1 "nbd: NBD protocol default minimum block size 1 (the server advertised none)"
expect_limit max_transfer 33554432 "nbd: NBD protocol: 32 MiB, the largest read or write a client should send when the server advertises no maximum block size"
expect_grep "^  opt_transfer: 0 " "$WORK/info.txt" "B: no preference"
expect_grep "^  block_size: not advertised " "$WORK/info.txt" "B: info"
expect_flags_as_nbdinfo "$uri"
[ "$(nbdinfo_sizes)" = "0 0 0" ] || fail "B: nbdinfo sees $(nbdinfo_sizes)"
nbd_stop b

note "C. a 128 MiB maximum: libnbd's 64 MiB"
nbd_start_nbdkit c --filter=blocksize-policy memory 1M blocksize-minimum=512 \
    blocksize-maximum=134217728
uri=$REPLY
"$GRANULE_IMG" info "$uri" >"$WORK/info.txt"
expect_limit request_alignment 512 "nbd: NBD_INFO_BLOCK_SIZE minimum block size"
expect_limit max_transfer 67108864 "nbd: libnbd's 64 MiB request limit (NBD_INFO_BLOCK_SIZE maximum block size is larger)"
nbd_stop c

note "D. qemu-nbd over a raw file"
truncate -s 10M "$WORK/d.raw"
nbd_start_qemu_nbd d -f raw "$WORK/d.raw"
uri=$REPLY
"$GRANULE_IMG" info "$uri" >"$WORK/info.txt"
expect_flags_as_nbdinfo "$uri"
read -r m p x < <(nbdinfo_sizes)
[ "$m $p $x" = "1 4096 33554432" ] || fail "D: qemu-nbd advertises $m $p $x (expected 1 4096 33554432)"
expect_limit request_alignment "$m" "nbd: NBD_INFO_BLOCK_SIZE minimum block size"
expect_limit opt_transfer "$p" "nbd: NBD_INFO_BLOCK_SIZE preferred block size"
expect_limit max_transfer "$x" "nbd: NBD_INFO_BLOCK_SIZE maximum block size"
expect_grep "^length: 10485760$" "$WORK/info.txt" "D: length"
echo "PASS"
