#!/usr/bin/env bash
# Unaligned read/write/readv/writev/aio_write matrix through granule-io over
# nbdkit memory whose blocksize-policy filter advertises minimum 4096 and
# refuses (EINVAL) anything unaligned: every case succeeds only if the core
# padded it (read-modify-write above the network). Each case writes into its
# own 64 KiB region of an export pre-filled with random bytes (nbdcopy), reads
# it back with -P, and afterwards
#  (1) the export, copied out by nbdcopy (libnbd, not Granule), equals a
#      reference file that got the same writes with dd, and
#  (2) unaligned read -v / readv -v windows around every case return exactly
#      the reference's bytes.
. "$(dirname "$0")/fixture.sh" || exit 1

size=$((16 * 1024 * 1024))
nbd_start_nbdkit m --filter=log --filter=blocksize-policy memory $size "${BLOCKSIZE4K[@]}" \
    logfile="$WORK/m.nbdlog"
uri=$REPLY
ref=$WORK/reference.img
head -c $size /dev/urandom >"$ref"
file_to_export "$ref" "$uri"

offsets=(0 1 100 511 512 4095 4096 4097 6000 8191)
lengths=(1 100 511 512 1000 4095 4096 4097 8192 12289 20000)
misaligns=(0 1 511 4095 8)
region=65536

# Splits a length into up to three iovec elements.
parts() {
    local len=$1
    if [ "$len" -lt 3 ]; then echo "$len"; return; fi
    local a=$((len / 3))
    echo "$a $a $((len - 2 * a))"
}

script=$WORK/matrix.io
verify=$WORK/verify.io
: >"$script"
: >"$verify"
windows=()
case_no=0
for off in "${offsets[@]}"; do
    for len in "${lengths[@]}"; do
        base=$((case_no * region))
        at=$((base + off))
        pat=$((case_no % 250 + 1))
        m=${misaligns[$((case_no % ${#misaligns[@]}))]}
        case $((case_no % 3)) in
        0)
            echo "write -q -P $pat -m $m $at $len" >>"$script"
            echo "read -q -P $pat -m $((m / 2)) $at $len" >>"$script"
            ;;
        1)
            echo "writev -q -P $pat -m $m $at $(parts "$len")" >>"$script"
            echo "readv -q -P $pat -m $m $at $(parts "$len")" >>"$script"
            ;;
        2)  # asynchronous: the read waits for aio_flush
            echo "aio_write -q -P $pat -m $m $at $len" >>"$script"
            echo "aio_flush" >>"$script"
            echo "aio_read -q -P $pat $at $len" >>"$script"
            echo "aio_flush" >>"$script"
            ;;
        esac
        model_write "$ref" $at "$len" $pat
        # A window reaching 3 bytes into the random data on either side.
        wstart=$((at >= 3 ? at - 3 : 0))
        wlen=$((at + len + 3 - wstart))
        if [ $((case_no % 2)) -eq 0 ]; then
            echo "readv -v -m $m $wstart $(parts "$wlen")" >>"$verify"
        else
            echo "read -v -m $m $wstart $wlen" >>"$verify"
        fi
        windows+=("$wstart $wlen")
        case_no=$((case_no + 1))
    done
done
echo "flush" >>"$script"

note "$case_no cases: writes with read-back -P"
if ! gio "$uri" <"$script" >"$WORK/matrix.out" 2>&1; then
    grep -m5 -i "fail\|error" "$WORK/matrix.out" >&2 || true
    fail "granule-io reported failures in the matrix (see above)"
fi
# Every command is quiet (-q): any line is a complaint.
[ ! -s "$WORK/matrix.out" ] || fail "granule-io said: $(head -n 5 "$WORK/matrix.out")"
grep -q "return=-1" "$WORK/m.nbdlog" && fail "the server refused a request: $(grep -m1 'return=-1' "$WORK/m.nbdlog")"

note "the export, read by nbdcopy, equals the reference"
export_to_file "$uri" "$WORK/export.img"
cmp "$WORK/export.img" "$ref" || fail "the export differs from the reference (first difference above)"

note "unaligned read -v / readv -v windows equal the reference"
gio -r "$uri" <"$verify" >"$WORK/verify.out" 2>&1 || fail "verification reads failed"
dump_bytes "$WORK/verify.out" >"$WORK/got.hex"
: >"$WORK/want.hex"
for w in "${windows[@]}"; do
    set -- $w
    file_bytes "$ref" "$1" "$2" >>"$WORK/want.hex"
done
if ! cmp "$WORK/got.hex" "$WORK/want.hex"; then
    line=$(cmp "$WORK/got.hex" "$WORK/want.hex" | sed -n 's/.*line \([0-9]*\).*/\1/p')
    fail "byte $((line - 1)) of the concatenated read windows differs from the reference"
fi
echo "PASS ($case_no cases, $(wc -l <"$WORK/want.hex") bytes verified by read -v)"
