# Checks shared by every backing (sourced by run.sh). Each prints what it
# does and returns non-zero (failing the test under set -e) with the reason.
# Needs $GRANULE_IO, $GRANULE_IMG, $REOPEN_CHECK and $FIXTURE_DIR.

CHECK_FAILURES=0

fail_check() {
    log "FAIL: $*"
    CHECK_FAILURES=$((CHECK_FAILURES + 1))
}

expect_eq() {  # what actual expected
    if [ "$2" = "$3" ]; then
        log "  ok: $1 = $2"
    else
        fail_check "$1 is '$2', expected '$3'"
    fi
}

. "$(dirname "${BASH_SOURCE[0]}")/../lib/io_matrix.sh"  # model_write, matrix_commands

# granule-img probe: exit 0 and "chosen values agree with the trial truth".
# Sets TRUTH_OFFSET, TRUTH_READ, TRUTH_MEMORY (from the truth line).
probe_agrees() {  # target [granule-img probe args...]
    local target=$1 out rc=0
    shift
    log "-- granule-img probe $* $target"
    out=$("$GRANULE_IMG" probe "$@" "$target" 2>&1) || rc=$?
    printf '%s\n' "$out" | sed 's/^/   | /' >&2
    TRUTH_OFFSET=$(printf '%s\n' "$out" | sed -n 's/^truth: offset \([0-9]*\) .*/\1/p' | head -n1)
    TRUTH_READ=$(printf '%s\n' "$out" | sed -n 's/^truth: .*read offset \([0-9]*\).*/\1/p' | head -n1)
    TRUTH_MEMORY=$(printf '%s\n' "$out" | sed -n 's/^truth: .*memory \([0-9]*\).*/\1/p' | head -n1)
    expect_eq "granule-img probe exit status" "$rc" 0
    printf '%s\n' "$out" | grep -q '^verdict: chosen values agree with the trial truth' ||
        fail_check "granule-img probe $target: no agreement verdict"
}

# The limits the driver chose, from granule-img info: DRV_REQ, DRV_MEM and
# their sources DRV_REQ_SRC, DRV_MEM_SRC.
driver_limits() {  # spec [-r]
    local out
    out=$("$GRANULE_IMG" info "${@:2}" --image-opts "$1" 2>&1) || { fail_check "granule-img info $1: $out"; return 0; }
    printf '%s\n' "$out" | sed 's/^/   | /' >&2
    DRV_REQ=$(printf '%s\n' "$out" | sed -n '/^limits:$/,$s/^  request_alignment: \([0-9]*\) .*/\1/p')
    DRV_MEM=$(printf '%s\n' "$out" | sed -n '/^limits:$/,$s/^  min_mem_alignment: \([0-9]*\) .*/\1/p')
    DRV_REQ_SRC=$(printf '%s\n' "$out" | sed -n '/^limits:$/,$s/^  request_alignment: [0-9]* (\(.*\))$/\1/p')
    DRV_MEM_SRC=$(printf '%s\n' "$out" | sed -n '/^limits:$/,$s/^  min_mem_alignment: [0-9]* (\(.*\))$/\1/p')
}

# The probe's truth equals what the driver chose when opening with O_DIRECT.
driver_matches_truth() {  # target [-r]
    local spec="driver=raw-posix,filename=$1,cache.direct=on"
    log "-- driver limits of $spec ${2:-}"
    driver_limits "$spec" ${2:+"$2"}
    local truth_req=${TRUTH_OFFSET:-$TRUTH_READ}
    [ -n "${2:-}" ] && truth_req=$TRUTH_READ
    expect_eq "request_alignment of $1 vs trial truth" "$DRV_REQ" "$truth_req"
    expect_eq "min_mem_alignment of $1 vs trial truth" "$DRV_MEM" "$TRUTH_MEMORY"
}

# Runs granule-io (-r: read-only) on spec with the given commands; a failed
# command or -P verification (exit 1) fails the check.
gio() {  # [-r] spec cmds...
    local out rc=0 args=()
    if [ "$1" = -r ]; then
        args+=(-r)
        shift
    fi
    local spec=$1
    shift
    for c in "$@"; do args+=(-c "$c"); done
    out=$("$GRANULE_IO" --no-timing "${args[@]}" --image-opts "$spec" 2>&1) || rc=$?
    GIO_OUT=$out
    if [ "$rc" -ne 0 ]; then
        printf '%s\n' "$out" | sed 's/^/   | /' >&2
        fail_check "granule-io $spec exited $rc"
    fi
}

# The unaligned read/write/readv/writev matrix through O_DIRECT, byte-exact:
# every write also goes into a model file, reads verify their pattern with -P,
# and afterwards the target's bytes (read without O_DIRECT) must equal the model.
io_matrix() {  # target extra-options pattern-base
    local target=$1 opts=$2 base=$3 region=131072
    local spec="driver=raw-posix,filename=$target,cache.direct=on${opts:+,$opts}"
    local model="$FIXTURE_DIR/model"
    log "-- unaligned matrix on $spec (patterns from $base)"
    dd if="$target" of="$model" bs=$region count=1 status=none
    matrix_commands "$model" 0 "$base"
    gio "$spec" "${MATRIX_CMDS[@]}"
    if ! dd if="$target" bs=$region count=1 status=none | cmp - "$model" >&2; then
        fail_check "$target differs from the model after the matrix (cmp above: byte offset 1-based)"
    else
        log "  ok: $region bytes of $target equal the model (read back without O_DIRECT)"
    fi
}

# Zero-copy: only the padding passes through Granule's buffers.
bounce_check() {  # target "writev args" expected-bytes_bounced
    local spec="driver=raw-posix,filename=$1,cache.direct=on"
    gio "$spec" "stats -r" "$2" stats
    local bounced
    bounced=$(printf '%s\n' "$GIO_OUT" | sed -n 's/^bytes_bounced: //p' | tail -n1)
    expect_eq "bytes_bounced after '$2' on $1" "$bounced" "$3"
}

# The unaligned end of a file whose length is no multiple of the alignment:
# writes and reads of the partial last block keep the exact length.
eof_check() {  # file
    local f=$1 size spec="driver=raw-posix,filename=$1,cache.direct=on"
    size=$(stat -c %s "$f")
    log "-- unaligned end of $f ($size bytes)"
    gio "$spec" "write -P 0x51 $((size - 700)) 700" "read -P 0x51 $((size - 700)) 700" \
        "readv -m 7 -P 0x51 $((size - 300)) 100 200" "write -P 0x52 $((size - 1)) 1" \
        "read -P 0x52 $((size - 1)) 1"
    expect_eq "length after writes ending at the unaligned end" "$(stat -c %s "$f")" "$size"
    model_write "$FIXTURE_DIR/eof.model" 0 699 0x51
    model_write "$FIXTURE_DIR/eof.model" 699 1 0x52
    tail -c 700 "$f" | cmp - "$FIXTURE_DIR/eof.model" >&2 ||
        fail_check "the last 700 bytes of $f differ from the model"
}

# Unaligned write-zeroes and discard on a block device, buffered and O_DIRECT:
# BLKZEROOUT/BLKDISCARD refuse partial logical blocks, so the driver's
# pwrite_zeroes/pdiscard alignment must make the core keep them whole.
zero_discard_check() {  # device
    local d before
    for d in off on; do
        log "-- write zeroes and discard on $1, cache.direct=$d"
        before=$CHECK_FAILURES
        gio "driver=raw-posix,filename=$1,cache.direct=$d" "write -P 0x61 0 32768" \
            "write -z 1000 9000" "read -P 0x61 0 1000" "read -P 0 1000 9000" \
            "read -P 0x61 10000 22768" "discard 3000 20000" "read -P 0x61 0 1000" \
            "read -P 0x61 24000 8768"
        if [ "$CHECK_FAILURES" -eq "$before" ]; then
            log "  ok: zeroes exact, discard left the edges alone"
        fi
    done
}

# Growing a file through O_DIRECT with unaligned ends keeps the exact length.
grow_check() {  # dir
    local f="$1/grow.img" model="$FIXTURE_DIR/grow.model" spec
    spec="driver=raw-posix,filename=$f,cache.direct=on,growable=on"
    log "-- growing $f through O_DIRECT"
    : >"$f"
    : >"$model"
    gio "$spec" "write -P 0x31 0 5000" length
    expect_eq "length after write 0+5000" "$(stat -c %s "$f")" 5000
    gio "$spec" "write -P 0x32 10000 3" "read -P 0x31 0 5000" "read -P 0 5000 5000" length
    expect_eq "length after write 10000+3" "$(stat -c %s "$f")" 10003
    gio "$spec" "writev -P 0x33 10003 1 4096" "read -P 0x32 10000 3"
    expect_eq "length after writev 10003+4097" "$(stat -c %s "$f")" 14100
    model_write "$model" 0 5000 0x31
    model_write "$model" 5000 5000 0
    model_write "$model" 10000 3 0x32
    model_write "$model" 10003 4097 0x33
    cmp "$f" "$model" >&2 || fail_check "$f differs from the model after growing"
}

# granule-img convert through O_DIRECT both ways: a file with holes and an
# unaligned length onto the device's old data (zero runs must overwrite it,
# the device's bytes past the file stay), then the device into a new file.
convert_check() {  # device
    local dev=$1 src="$FIXTURE_DIR/convert-src.img" back="$FIXTURE_DIR/convert-back.img"
    local spec="driver=raw-posix,filename=$dev,cache.direct=on" len=$((3 * 1024 * 1024 + 777)) out
    local before=$CHECK_FAILURES
    log "-- granule-img convert to and from $dev with O_DIRECT"
    truncate -s $len "$src"
    dd if=/dev/urandom of="$src" bs=1 seek=5000 count=70000 conv=notrunc status=none
    dd if=/dev/urandom of="$src" bs=1 seek=$((len - 300)) count=300 conv=notrunc status=none
    gio "$spec" "write -P 0x5a 0 $((4 * 1024 * 1024))"
    out=$("$GRANULE_IMG" convert -n -p "$src" "$spec" 2>&1) || fail_check "convert to $dev: $out"
    cmp -n $len "$src" "$dev" >&2 || fail_check "$dev differs from $src after convert"
    gio "$spec" "read -P 0x5a $len $((4 * 1024 * 1024 - len))"
    rm -f "$back"
    out=$("$GRANULE_IMG" convert "$spec" "$back" 2>&1) || fail_check "convert from $dev: $out"
    cmp "$dev" "$back" >&2 || fail_check "$back differs from $dev after convert"
    [ "$CHECK_FAILURES" -eq "$before" ] && log "  ok: file -> device -> file byte-exact, the device's tail kept"
    rm -f "$src" "$back"
}

# Reopen toggling cache.direct re-probes (buffered 1/1 -> O_DIRECT -> 1/1).
reopen_check() {  # target request memory
    log "-- reopen toggling cache.direct on $1"
    "$REOPEN_CHECK" "$1" "$2" "$3" >&2 || fail_check "reopen check on $1"
}

check_result() {
    if [ "$CHECK_FAILURES" -ne 0 ]; then
        log "$CHECK_FAILURES check(s) failed"
        exit 1
    fi
    log "all checks passed"
}
