#!/usr/bin/env bash
# raw-win32 with cache.direct=on (FILE_FLAG_NO_BUFFERING), byte for byte,
# judged from the Linux side: granule-io.exe writes and reads a file through
# Wine (drive Z: maps /), and this script checks the same file with dd/cmp/od
# against a model it keeps itself.
#
#   test_matrix.sh GRANULE_IO_EXE        (WINEPREFIX and WINE_SH set)
#
# Wine does not enforce NO_BUFFERING alignment (docs/drivers/raw-win32.md), so
# every stack is run twice: raw-win32 alone (its probed limits: 512 from
# GetDiskFreeSpaceW here) and below blkdebug forcing 4096 (and mem-align 4096,
# which makes the core bounce), where blkdebug fails any request the core did
# not align. Checks: the unaligned write/writev/aio_write matrix (reads -P
# right after), the file equal to the model after each stack, unaligned reads
# of Linux-written random data equal to the model (hexdump vs od), reads
# across the unaligned end of file, growth to the exact byte, truncate, and
# write -z (FSCTL_SET_ZERO_DATA, or the core's zero buffers when unsupported).
set -uo pipefail

exe=${1:?usage: $0 GRANULE_IO_EXE}
wine_sh=${WINE_SH:-$(dirname "$0")/wine.sh}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
img=$tmp/t.img
model=$tmp/model
failures=0

log() { printf '%s\n' "$*" >&2; }
fail() {
    log "FAIL: $*"
    failures=$((failures + 1))
}

. "$(dirname "$0")/../lib/io_matrix.sh"  # model_write MODEL ..., matrix_commands

# granule-io.exe on spec with the commands; a failed command fails the check.
gio() {  # spec cmds...
    local spec=$1 args=() rc=0
    shift
    for c in "$@"; do args+=(-c "$c"); done
    GIO_OUT=$(bash "$wine_sh" "$exe" --no-timing --image-opts "$spec" "${args[@]}") || rc=$?
    if [ "$rc" -ne 0 ]; then
        printf '%s\n' "$GIO_OUT" | sed 's/^/   | /' >&2
        fail "granule-io $spec exited $rc"
    fi
}

same_as_model() {  # what
    if cmp "$img" "$model" >&2; then
        log "  ok: $1: $(stat -c %s "$img") bytes equal the model"
    else
        fail "$1: the file differs from the model (cmp above, 1-based)"
    fi
}

# Every hex byte granule-io's `read -v` dumped, one per line. Fields 2..NF-1
# of a dump line are the bytes (the last one is the character column, which
# never holds a space).
dumped_bytes() { awk '/^[0-9a-f][0-9a-f]*:  /{for (i = 2; i < NF; i++) print $i}'; }
model_bytes() {  # off len
    od -An -v -t x1 -j "$1" -N "$2" "$model" | tr -s ' \n' '\n\n' | sed '/^$/d'
}

# The matrix at base (no two writes overlap, several share blocks), then
# writes over earlier ones (RMW of written blocks), then every read again.
matrix() {  # spec base pattern-base
    local spec=$1
    log "-- matrix on $spec at $2"
    matrix_commands "$model" "$2" "$3"
    gio "$spec" "${MATRIX_CMDS[@]}"
    same_as_model "matrix on $spec"
}

# Unaligned reads of bytes Linux wrote, compared with the model.
reads_of_linux_data() {  # spec
    local spec=$1 r off len cmds=() want=$tmp/want got=$tmp/got
    local ranges=("700000 1" "700511 2" "701001 4097" "712345 333" "720895 8194")
    : >"$want"
    for r in "${ranges[@]}"; do
        read -r off len <<<"$r"
        cmds+=("read -v -m 1 $off $len")
        model_bytes "$off" "$len" >>"$want"
    done
    gio "$spec" "${cmds[@]}"
    printf '%s\n' "$GIO_OUT" | dumped_bytes >"$got"
    if diff -q "$want" "$got" >/dev/null; then
        log "  ok: $(wc -l <"$got") bytes read through $spec equal what Linux wrote"
    else
        fail "reads through $spec differ from the file's bytes ($(diff "$want" "$got" | head -n 4 | tr '\n' ' '))"
    fi
}

# Linux writes random data; the model is a copy. The size is not a multiple
# of 4096 (nor 512), so the last block is partial.
size=$((1048576 + 1000))
head -c $size /dev/urandom >"$img"
cp "$img" "$model"

direct="driver=raw-win32,filename=$img,cache.direct=on"
forced="driver=blkdebug,align=4096,image.driver=raw-win32,image.filename=$img,image.cache.direct=on"
bounced="driver=blkdebug,align=4096,mem-align=4096,image.driver=raw-win32,image.filename=$img,image.cache.direct=on"
wt="driver=raw-win32,filename=$img,cache.direct=on,cache.writethrough=on"

gio "$direct" info
printf '%s\n' "$GIO_OUT" | grep -q '^  cache.direct: on$' || fail "info does not say cache.direct: on"
printf '%s\n' "$GIO_OUT" | grep -E '^  (request|min_mem)_alignment|^  probe: ' | sed 's/^/   | /' >&2

matrix "$direct" 0 0x10
matrix "$forced" 131072 0x30
matrix "$bounced" 262144 0x50
matrix "$wt" 393216 0x70
reads_of_linux_data "$direct"
reads_of_linux_data "$forced"
reads_of_linux_data "$bounced"

log "-- end of file ($size bytes)"
# Growth (and zeroes past the end) only with growable=on: by default an
# image is fixed-size, as qemu's raw.
growing="driver=blkdebug,align=4096,image.driver=raw-win32,image.filename=$img,image.cache.direct=on,image.growable=on"
tail_want=$(model_bytes $((size - 76)) 76 | tr '\n' ' ')
zeros=$(printf '00 %.0s' $(seq 124))
gio "$growing" "read -v $((size - 76)) 200"
got=$(printf '%s\n' "$GIO_OUT" | dumped_bytes | tr '\n' ' ')
[ "$got" = "$tail_want$zeros" ] || fail "read across the end of file: got '$got'"
gio "$forced" "write -P 0x61 $((size - 10)) 5" "length"
model_write "$model" $((size - 10)) 5 0x61
same_as_model "write into the partial last block (size unchanged)"
gio "$growing" "write -P 0x62 $((size + 24)) 100"
head -c 24 /dev/zero >>"$model"
head -c 100 /dev/zero | tr '\0' 'b' >>"$model"
same_as_model "growing write, 24 bytes past the end (padded, then truncated back)"
gio "$forced" "truncate $size"
truncate -s $size "$model"
same_as_model "truncate back"
gio "$forced" "write -z 1000001 30000" "read -P 0 1000001 30000"
model_write "$model" 1000001 30000 0
same_as_model "write -z 1000001+30000"

if [ "$failures" -ne 0 ]; then
    log "$failures check(s) failed"
    exit 1
fi
log "all raw-win32 matrix checks passed"
