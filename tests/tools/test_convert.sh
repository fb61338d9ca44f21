#!/usr/bin/env bash
# granule-img convert on files: the result is byte-identical to the source
# (any length, through blkdebug stacks), zero runs become holes in a created
# target and zeroes over an existing one's old data (whose tail past the
# source is kept), and every refusal changes nothing.
#
#   test_convert.sh GRANULE_IMG
set -uo pipefail
GI=${1:?usage: $0 GRANULE_IMG}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
ok() { echo "  ok: $*" >&2; }

# 6 MiB + 777 bytes: random blocks, an unaligned random run, holes between,
# random bytes in the partial last block.
len=$((6 * 1024 * 1024 + 777))
truncate -s $len src.img
dd if=/dev/urandom of=src.img bs=4096 seek=1 count=3 conv=notrunc status=none
dd if=/dev/urandom of=src.img bs=1 seek=$((2 * 1024 * 1024 + 4000)) count=9000 conv=notrunc status=none
dd if=/dev/urandom of=src.img bs=1 seek=$((len - 500)) count=300 conv=notrunc status=none
data_blocks=$(( 3 * 4096 + 4 * 4096 + 4096 ))  # the 4 KiB blocks holding data

expect_rc() {  # what want-rc out-file cmd...
    local what=$1 want=$2 out=$3 rc=0
    shift 3
    "$@" >"$out" 2>&1 || rc=$?
    if [ "$rc" -ne "$want" ]; then
        sed 's/^/   | /' "$out" >&2
        fail "$what: exit $rc, wanted $want"
        return 1
    fi
    return 0
}
expect_text() {  # what file regex
    grep -qE "$3" "$2" || { sed 's/^/   | /' "$2" >&2; fail "$1: no line matching '$3'"; return 1; }
    return 0
}

# 1. A created target: identical, sparse, exact length.
if expect_rc "convert to a new file" 0 out1 "$GI" convert src.img new.img; then
    cmp src.img new.img >&2 || fail "new.img differs from src.img"
    expect_text "summary" out1 "^converted $len bytes: [0-9]+ data, [0-9]+ zero \(left as holes\)"
    allocated=$(( $(stat -c %b new.img) * 512 ))
    [ "$allocated" -le "$data_blocks" ] || fail "new.img not sparse: $allocated bytes allocated"
    ok "new file identical, $allocated bytes allocated of $len"
fi

# 2. -n over old data: zero runs overwrite it, the tail past SRC is kept.
head -c $((len + 5000)) /dev/zero | tr '\0' '\377' >old.img
if expect_rc "convert -n over old data" 0 out2 "$GI" convert -n src.img old.img; then
    cmp -n $len src.img old.img >&2 || fail "old.img's first $len bytes differ from src.img"
    tail_bytes=$(tail -c 5000 old.img | tr -d '\377' | wc -c)
    [ "$tail_bytes" -eq 0 ] || fail "old.img's 5000 bytes past SRC were changed"
    expect_text "summary -n" out2 "\(written as zeroes\)"
    ok "-n: zero runs written over old data, the tail kept"
fi

# 3. blkdebug align=4096 on both sides, odd chunk and sparse sizes.
cp src.img mid.img
truncate -s 0 mid.img
if expect_rc "convert through blkdebug stacks" 0 out3 "$GI" convert -n -c 100000 -S 3000 \
    "driver=blkdebug,align=4096,image.filename=src.img" \
    "driver=blkdebug,align=4096,image.growable=on,image.filename=mid.img"; then
    cmp src.img mid.img >&2 || fail "mid.img (through blkdebug) differs from src.img"
    ok "through blkdebug align=4096, chunk 100000, sparse 3000"
fi

# 4. -S 0: every byte is data.
if expect_rc "convert -S 0" 0 out4 "$GI" convert -S 0 src.img full.img; then
    cmp src.img full.img >&2 || fail "full.img differs"
    expect_text "summary -S 0" out4 "^converted $len bytes: $len data, 0 zero"
    ok "-S 0 copies every byte as data"
fi

# 4a. Every depth, from 1 (no read-ahead): the same bytes, the same summary.
before=$failures
for m in 1 2 3 64; do
    rm -f depth.img
    if expect_rc "convert -m $m" 0 out4m "$GI" convert -m "$m" -c 64k src.img depth.img; then
        cmp src.img depth.img >&2 || fail "-m $m: depth.img differs from src.img"
        expect_text "summary -m $m" out4m "^converted $len bytes: $(sed -n 's/^converted [0-9]* bytes: \([0-9]* data\).*/\1/p' out1), "
    fi
done
[ "$failures" = "$before" ] && ok "-m 1, 2, 3, 64: identical copies"

# 4b. SRC over a backing node: the empty overlay's holes are the backing's
# data (block status asks the backing), so the copy equals the backing.
: >ov.img
if expect_rc "convert from an overlay over a backing" 0 out14 "$GI" convert \
    "driver=raw-posix,filename=ov.img,backing.filename=src.img" bk.img; then
    cmp src.img bk.img >&2 || fail "bk.img (overlay over src.img) differs from src.img"
    ok "an empty overlay over src.img converts to src.img"
fi

# 5. Refusals change nothing.
sum_before=$(md5sum <old.img)
if expect_rc "existing DST without -n" 1 out5 "$GI" convert src.img old.img; then
    expect_text "existing DST" out5 "DST 'old.img' exists; pass -n"
    [ "$(md5sum <old.img)" = "$sum_before" ] || fail "refused convert changed old.img"
fi
expect_rc "-n with a missing DST" 1 out6 "$GI" convert -n src.img missing.img &&
    expect_text "missing DST" out6 "DST 'missing.img' does not exist" &&
    { [ ! -e missing.img ] || fail "-n created missing.img"; }
expect_rc "fixed-size DST too small" 1 out7 "$GI" convert src.img "driver=memory,size=1M" &&
    expect_text "too small" out7 "DST holds 1048576 bytes, SRC has $len and DST cannot grow: nothing was written"
# A symbolic link at DST, dangling or not, is refused like an existing DST:
# never followed to create its target (O_EXCL, no check-then-create window).
ln -s "$tmp/made-by-link.img" dangling.img
expect_rc "dangling symlink DST" 1 out15 "$GI" convert src.img dangling.img &&
    expect_text "dangling symlink DST" out15 "DST 'dangling.img' exists; pass -n" &&
    { [ ! -e made-by-link.img ] || fail "convert created the target of a dangling DST symlink"; }
expect_rc "-n with a dangling symlink DST" 1 out16 "$GI" convert -n src.img dangling.img &&
    expect_text "dangling -n" out16 "DST 'dangling.img' does not exist" &&
    { [ ! -e made-by-link.img ] || fail "-n created the target of a dangling DST symlink"; }
mkdir -p ro-dir && chmod 555 ro-dir
if [ "$(id -u)" -ne 0 ]; then
    expect_rc "DST in a read-only directory" 1 out17 "$GI" convert src.img ro-dir/x.img &&
        expect_text "read-only dir" out17 "can't create DST 'ro-dir/x.img': Permission denied"
fi
expect_rc "missing SRC" 1 out8 "$GI" convert nosuch.img x.img &&
    expect_text "missing SRC" out8 "can't open SRC nosuch.img: .*No such file" &&
    { [ ! -e x.img ] || fail "x.img created although SRC is missing"; }
expect_rc "bad -S" 2 out9 "$GI" convert -S 12q src.img y.img &&
    expect_text "bad -S" out9 "option '-S'.*12q"
expect_rc "sparse above chunk" 2 out10 "$GI" convert -S 8k -c 4k src.img y.img &&
    expect_text "sparse above chunk" out10 "sparse size 8192 is larger than the chunk 4096"
# A read error: named with its offset, the created file removed.
expect_rc "read error in SRC" 1 out11 "$GI" convert \
    "driver=blkdebug,inject-error.0.event=read_aio,inject-error.0.errno=5,inject-error.0.offset=8k,image.filename=src.img" \
    z.img &&
    expect_text "read error" out11 "SRC: blkdebug: injected error 5 .* 1048576 bytes at offset 0 " &&
    expect_text "removed" out11 "removed the incomplete 'z.img'" &&
    { [ ! -e z.img ] || fail "z.img left behind after a failed convert"; }
# Holes of SRC are not read at all (block status): an error injected into
# one never fires.
if expect_rc "holes not read" 0 out13 "$GI" convert \
    "driver=blkdebug,inject-error.0.event=read_aio,inject-error.0.offset=3M,image.filename=src.img" \
    holes.img; then
    cmp src.img holes.img >&2 || fail "holes.img differs from src.img"
    ok "a hole of SRC (with an error injected) was not read"
fi
# A write error on an existing DST: named with its offset; what was
# written before it stays (nothing can undo it), nothing after it.
cp old.img keep.img
expect_rc "write error in DST" 1 out12 "$GI" convert -n src.img \
    "driver=blkdebug,inject-error.0.event=write_aio,inject-error.0.errno=28,inject-error.0.offset=2M,image.filename=keep.img" &&
    expect_text "write error" out12 "DST: blkdebug: injected error 28 .* 16384 bytes at offset 2097152 " &&
    { [ -e keep.img ] || fail "keep.img (an existing DST) was removed"; }
[ -e y.img ] && fail "y.img created by a usage error"

# 6. Container signatures (issue 11 item 3): a SRC whose first bytes are a
# qcow2 header is refused unless it says format=raw, and nothing is created;
# with format=raw its bytes are copied as they are, signature included (a
# created DST is raw by construction). An existing DST holding a signature
# is not overwritten without format=raw; a probed raw one refuses to receive
# one. tests/tools/test_format_peer.sh does the same with qemu-img's images.
cp src.img qc.img
printf 'QFI\373\0\0\0\3' | dd of=qc.img conv=notrunc status=none
if expect_rc "qcow2 signature in SRC" 1 out18 "$GI" convert qc.img qc1.img; then
    expect_text "SRC signature" out18 "SRC 'qc.img' looks like a qcow2 image \(magic 'QFI.xfb' at offset 0, version 3\)"
    expect_text "SRC way out" out18 "give format=raw in SRC"
    [ ! -e qc1.img ] || fail "qc1.img created although SRC was refused"
fi
if expect_rc "SRC with format=raw" 0 out19 "$GI" convert "filename=qc.img,format=raw" qc2.img; then
    cmp qc.img qc2.img >&2 || fail "qc2.img differs from qc.img"
    ok "format=raw in SRC copies the signature too"
fi
sum_before=$(md5sum <qc2.img)
expect_rc "signature in an existing DST" 1 out20 "$GI" convert -n src.img qc2.img &&
    expect_text "DST signature" out20 "DST 'qc2.img' looks like a qcow2 image .*give format=raw in DST" &&
    { [ "$(md5sum <qc2.img)" = "$sum_before" ] || fail "a refused DST with a signature was changed"; }
if expect_rc "DST with format=raw" 0 out21 "$GI" convert -n src.img "filename=qc2.img,format=raw"; then
    cmp src.img qc2.img >&2 || fail "qc2.img (format=raw DST) differs from src.img"
fi
cp src.img plain.img
expect_rc "signature into a probed raw DST" 1 out22 "$GI" convert -n "filename=qc.img,format=raw" plain.img &&
    expect_text "DST guard" out22 "DST: write at offset 0, length [0-9]+: refused: 'plain.img' would then look like a qcow2 image"

[ "$failures" -eq 0 ] || { echo "$failures check(s) failed" >&2; exit 1; }
echo "convert checks passed" >&2
