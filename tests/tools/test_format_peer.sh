#!/usr/bin/env bash
# Format safety against the peer: real images made by qemu-img (qcow, qcow2,
# qed, vmdk sparse and its text descriptor, vhdx, vdi, vpc dynamic and
# fixed). For each, granule-img info's format is the one `qemu-img info`
# reports (a fixed VHD is raw to both); every container refuses granule-io's
# writes with a message naming it and stays byte-identical, while reads work
# and -f raw writes. `granule-img convert t.qcow2 out.raw` fails and creates
# nothing; with format=raw in SRC it copies the container's bytes (which
# qemu-img then calls qcow2: what format=raw asked for). A write that would
# complete a qcow2 magic in a probed raw image is refused by qemu-io and by
# granule-io alike.
#
#   test_format_peer.sh GRANULE_IMG GRANULE_IO
# Without qemu-img: exit 77 (skip); a failure with GRANULE_NO_SKIP=1 (CI,
# where tools/deps.sh installs qemu-utils).
set -uo pipefail
GI=${1:?usage: $0 GRANULE_IMG GRANULE_IO}
IO=${2:?usage: $0 GRANULE_IMG GRANULE_IO}
if ! command -v qemu-img >/dev/null || ! command -v qemu-io >/dev/null; then
    echo "qemu-img/qemu-io not found (Debian package qemu-utils)"
    [ "${GRANULE_NO_SKIP:-}" = 1 ] && exit 1
    exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
ok() { echo "  ok: $*" >&2; }
qemu_format() { qemu-img info "$1" | sed -n 's/^file format: //p'; }
granule_format() { "$GI" info "$1" | sed -n 's/^format: \([a-z0-9]*\) .*/\1/p'; }

# name  qemu-img create arguments
images=(
    "t.qcow|-f qcow"
    "t.qcow2|-f qcow2"
    "t.qed|-f qed"
    "t.vmdk|-f vmdk"
    "desc.vmdk|-f vmdk -o subformat=monolithicFlat"
    "t.vhdx|-f vhdx"
    "t.vdi|-f vdi"
    "t.vhd|-f vpc"
    "fixed.vhd|-f vpc -o subformat=fixed"
)
for entry in "${images[@]}"; do
    name=${entry%%|*}
    # shellcheck disable=SC2086  # the arguments are words
    qemu-img create -q ${entry#*|} "$name" 4M || { fail "qemu-img create ${entry#*|}"; continue; }
    want=$(qemu_format "$name")
    got=$(granule_format "$name")
    [ "$got" = "$want" ] || { fail "$name: granule-img info says '$got', qemu-img info '$want'"; continue; }
    sum=$(md5sum <"$name")
    if [ "$want" = raw ]; then
        # A fixed VHD: raw data then its footer, raw to qemu too.
        "$IO" --error-detail -c 'write -P 0x55 0 512' "$name" >out 2>&1 || fail "$name (raw to qemu): write refused: $(cat out)"
        ok "$name: raw for both, writable"
        continue
    fi
    if "$IO" --error-detail -c 'write -P 0x55 16 16' "$name" >out 2>&1; then
        fail "$name: granule-io's write was not refused"
    else
        grep -q "^write failed: Operation not permitted$" out &&
            grep -q "^granule-io: write at offset 16, length 16: '$name' looks like a $want image (" out ||
            { sed 's/^/   | /' out >&2; fail "$name: no message naming $want"; }
    fi
    [ "$(md5sum <"$name")" = "$sum" ] || fail "$name changed by a refused write"
    "$IO" --error-detail -c 'read 0 64' "$name" >out 2>&1 || fail "$name: read failed: $(cat out)"
    cp "$name" copy
    "$IO" --error-detail -f raw -c 'write -P 0x55 16 16' copy >out 2>&1 || fail "$name: -f raw write failed: $(cat out)"
    ok "$name: $want for both, writes refused, reads and -f raw work"
done

# convert: a qcow2 SRC only with format=raw.
if "$GI" convert t.qcow2 out.raw >out 2>&1; then
    fail "convert t.qcow2 out.raw succeeded"
else
    grep -q "SRC 't.qcow2' looks like a qcow2 image .*give format=raw in SRC" out ||
        { sed 's/^/   | /' out >&2; fail "convert: no message naming qcow2 and format=raw"; }
    [ ! -e out.raw ] || fail "convert created out.raw although SRC was refused"
fi
if "$GI" convert filename=t.qcow2,format=raw out.raw >out 2>&1; then
    cmp t.qcow2 out.raw >&2 || fail "out.raw differs from t.qcow2"
    [ "$(qemu_format out.raw)" = qcow2 ] || fail "qemu-img does not see the copied qcow2 header"
    ok "convert with format=raw copies the container's bytes"
else
    fail "convert filename=t.qcow2,format=raw: $(cat out)"
fi
# The disk in it, converted by qemu-img, is raw to Granule.
qemu-img convert -f qcow2 -O raw t.qcow2 disk.raw && [ "$(granule_format disk.raw)" = raw ] ||
    fail "qemu-img's raw conversion is not raw to granule-img info"

# Block 0 of a probed raw image: "QFI" and version 3 are there; the write of
# the fourth magic byte is refused by both (qemu-io: EPERM).
truncate -s 1M almost.img
printf 'QFI\0\0\0\0\3' | dd of=almost.img conv=notrunc status=none
cp almost.img almost2.img
qemu-io -c 'write -P 0xfb 3 1' almost.img >qout 2>&1 && fail "qemu-io wrote the magic: $(cat qout)"
grep -q "Operation not permitted" qout || fail "qemu-io: $(cat qout)"
"$IO" --error-detail -c 'write -P 0xfb 3 1' almost2.img >out 2>&1 && fail "granule-io wrote the magic"
grep -q "refused: 'almost2.img' would then look like a qcow2 image" out ||
    { sed 's/^/   | /' out >&2; fail "granule-io: no refusal naming qcow2"; }
cmp almost.img almost2.img >&2 || fail "the images differ after the refused writes"
[ "$(qemu_format almost.img)" = raw ] || fail "almost.img is no longer raw to qemu-img"

[ "$failures" -eq 0 ] || { echo "$failures check(s) failed" >&2; exit 1; }
echo "format peer checks passed" >&2
