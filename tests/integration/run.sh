#!/usr/bin/env bash
# raw-posix on real devices, one backing per ctest entry:
#   run.sh BACKING GRANULE_IO GRANULE_IMG REOPEN_CHECK [STRESS]
# BACKING: loop4k loop512 xfs-sect4096-loop512 xfs-loop4k ext4-loop4k rootfs
#          tmpfs readonly stress-loop4k
# Exit 0 pass, 1 fail, 77 skip (no root / loop devices / tools; a failure
# with GRANULE_NO_SKIP=1). Everything is created in a private temp dir and
# removed again, also on failure or signal (fixture.sh).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 4 ] || { echo "usage: run.sh BACKING GRANULE_IO GRANULE_IMG REOPEN_CHECK [STRESS]" >&2; exit 2; }
BACKING=$1 GRANULE_IO=$2 GRANULE_IMG=$3 REOPEN_CHECK=$4 STRESS=${5:-}
. "$HERE/fixture.sh"
. "$HERE/checks.sh"

# Written data whose length is no multiple of any alignment (1 MiB + 1000).
make_data_file() {
    dd if=/dev/urandom of="$1" bs=1049576 count=1 iflag=fullblock conv=fsync status=none
}

# Sparse, fallocated and empty files: the trials must refuse to run (a read
# over a hole succeeds at any alignment), the driver must still choose the
# truth measured on a scratch file of the same filesystem (statx), or the
# documented fallback where the kernel cannot tell (tmpfs).
unwritten_files() {  # dir expect-fallback(yes/no)
    local f out rc scratch_req scratch_mem
    truncate -s 4M "$1/sparse.img"
    fallocate -l 4M "$1/falloc.img"
    : >"$1/empty.img"
    for f in "$1/sparse.img" "$1/falloc.img" "$1/empty.img"; do
        log "-- granule-img probe --write-test $f"
        rc=0
        out=$("$GRANULE_IMG" probe --write-test "$f" 2>&1) || rc=$?
        printf '%s\n' "$out" | sed 's/^/   | /' >&2
        expect_eq "probe exit status" "$rc" 0
        printf '%s\n' "$out" | sed -n '1,/^-- scratch/p' | grep -q '^trial-read: n/a: no written data' ||
            fail_check "$f: trial-read ran although there is no written data"
        printf '%s\n' "$out" | sed -n '/^-- scratch/,$p' | grep -q '^verdict: chosen values agree' ||
            fail_check "$f: scratch file verdict is not agreement"
        scratch_req=$(printf '%s\n' "$out" | sed -n '/^-- scratch/,$s/^truth: offset \([0-9]*\) .*/\1/p')
        scratch_mem=$(printf '%s\n' "$out" | sed -n '/^-- scratch/,$s/^truth: .*memory \([0-9]*\).*/\1/p')
        driver_limits "driver=raw-posix,filename=$f,cache.direct=on"
        if [ "$2" = yes ]; then
            expect_eq "request_alignment of $(basename "$f")" "$DRV_REQ ($DRV_REQ_SRC)" \
                "$(getconf PAGE_SIZE | awk '{ print ($1 > 4096 ? $1 : 4096) }') (raw-posix: fallback (undetectable))"
        else
            expect_eq "request_alignment of $(basename "$f") vs scratch truth" "$DRV_REQ" "$scratch_req"
            expect_eq "min_mem_alignment of $(basename "$f") vs scratch truth" "$DRV_MEM" "$scratch_mem"
        fi
    done
}

# A filesystem-backed directory: probe a written file, the unwritten ones,
# the matrix, growth, reopen.
filesystem_checks() {  # dir fallback-for-unwritten(yes/no)
    local dir=$1 data="$1/data.img"
    log "== $(findmnt -no FSTYPE -T "$dir" | head -n1) at $dir"
    make_data_file "$data"
    probe_agrees "$data"
    driver_matches_truth "$data"
    DATA_LIMITS="$DRV_REQ ($DRV_REQ_SRC) / $DRV_MEM ($DRV_MEM_SRC)"
    local req=$DRV_REQ mem=$DRV_MEM
    unwritten_files "$dir" "$2"
    io_matrix "$data" "" 0x11
    io_matrix "$data" aio=threads 0x41
    eof_check "$data"
    grow_check "$dir"
    reopen_check "$data" "$req" "$mem"
}

fixture_init
case $BACKING in
loop4k)
    fixture_loop "$FIXTURE_DIR/b4k.img" 64M 4096
    dev=$REPLY
    log "== raw loop device $dev, 4096-byte sectors"
    probe_agrees "$dev"
    expect_eq "trial truth offset" "$TRUTH_OFFSET" 4096
    expect_eq "trial truth memory" "$TRUTH_MEMORY" 512
    driver_matches_truth "$dev"
    expect_eq "driver request_alignment" "$DRV_REQ ($DRV_REQ_SRC)" "4096 (raw-posix: statx)"
    expect_eq "driver min_mem_alignment" "$DRV_MEM ($DRV_MEM_SRC)" "512 (raw-posix: statx)"
    io_matrix "$dev" "" 0x11
    io_matrix "$dev" aio=threads 0x41
    # 1024 bytes at 512 from 4096-aligned buffers: head 512 + tail 2560 padding.
    bounce_check "$dev" "writev -P 0x21 512 1024" 3072
    bounce_check "$dev" "writev -P 0x22 512 512 512" 3072
    # A buffer misaligned by 1 byte: the whole padded block is bounced.
    bounce_check "$dev" "writev -m 1 -P 0x23 512 1024" 4096
    zero_discard_check "$dev"
    convert_check "$dev"
    reopen_check "$dev" 4096 512
    ;;
loop512)
    fixture_loop "$FIXTURE_DIR/b512.img" 64M 512
    dev=$REPLY
    log "== raw loop device $dev, 512-byte sectors"
    probe_agrees "$dev"
    expect_eq "trial truth offset" "$TRUTH_OFFSET" 512
    driver_matches_truth "$dev"
    io_matrix "$dev" "" 0x11
    io_matrix "$dev" aio=threads 0x41
    bounce_check "$dev" "writev -P 0x21 1024 512 1024" 0
    # 256 bytes of padding is not a multiple of the 512 memory rule: bounce all.
    bounce_check "$dev" "writev -P 0x22 256 512" 1024
    zero_discard_check "$dev"
    reopen_check "$dev" 512 512
    ;;
xfs-sect4096-loop512)
    # XFS with 4096-byte sectors on a 512-byte device: O_DIRECT follows the
    # device (512), not the filesystem's sector size (measured on 6.18).
    fixture_loop "$FIXTURE_DIR/xfs.img" 512M 512
    fixture_mount "$REPLY" xfs -s size=4096
    filesystem_checks "$REPLY" no
    ;;
xfs-loop4k)
    fixture_loop "$FIXTURE_DIR/xfs.img" 512M 4096
    fixture_mount "$REPLY" xfs
    mnt=$REPLY
    filesystem_checks "$mnt" no
    expect_eq "XFS on a 4096 device: data file limits" "$DATA_LIMITS" \
        "4096 (raw-posix: statx) / 512 (raw-posix: statx)"
    ;;
ext4-loop4k)
    fixture_loop "$FIXTURE_DIR/ext4.img" 256M 4096
    fixture_mount "$REPLY" ext4
    mnt=$REPLY
    filesystem_checks "$mnt" no
    expect_eq "ext4 on a 4096 device: data file limits" "$DATA_LIMITS" \
        "4096 (raw-posix: statx) / 512 (raw-posix: statx)"
    bounce_check "$mnt/data.img" "writev -P 0x21 512 1024" 3072
    ;;
rootfs)
    # The filesystem of $TMPDIR (the root filesystem here); should that be a
    # tmpfs, unwritten files get the fallback like on the tmpfs backing.
    mkdir "$FIXTURE_DIR/rootfs"
    fs=$(findmnt -no FSTYPE -T "$FIXTURE_DIR/rootfs" | head -n1)
    filesystem_checks "$FIXTURE_DIR/rootfs" "$([ "$fs" = tmpfs ] && echo yes || echo no)"
    ;;
tmpfs)
    fixture_tmpfs
    mnt=$REPLY
    # tmpfs on 6.18: O_DIRECT opens, statx has no DIOALIGN, trials over
    # written data say 1/1; with no written data the fallback decides.
    filesystem_checks "$mnt" yes
    expect_eq "tmpfs data file limits" "$DATA_LIMITS" "1 (raw-posix: trial) / 1 (raw-posix: trial)"
    ;;
readonly)
    fixture_loop "$FIXTURE_DIR/ro4k.img" 64M 4096 ro
    dev=$REPLY
    log "== read-only loop device $dev, 4096-byte sectors"
    probe_agrees "$dev"
    expect_eq "trial truth read offset" "$TRUTH_READ" 4096
    expect_eq "trial truth memory" "$TRUTH_MEMORY" 512
    driver_matches_truth "$dev" -r
    gio -r "driver=raw-posix,filename=$dev,cache.direct=on" \
        "read -P 0 1 100" "readv -m 3 -P 0 4095 2 4096"
    # A read-write open of it is a read-only node (BLKROGET), said by info,
    # and writes are refused with EROFS before reaching the kernel (issue 9:
    # it said read_only: no, then every write failed with EPERM).
    rc=0
    out=$("$GRANULE_IO" --image-opts "driver=raw-posix,filename=$dev,cache.direct=on" \
        -c info -c "write 0 1" -c "read -P 0 0 512" 2>&1) || rc=$?
    printf '%s\n' "$out" | sed 's/^/   | /' >&2
    [ "$rc" -eq 1 ] || fail_check "write on a read-only loop device: exit $rc, wanted 1"
    grep -q "^read_only: yes" <<<"$out" || fail_check "info of a read-only loop device opened read-write: no 'read_only: yes'"
    grep -q "read-only: the block device is read-only (BLKROGET)" <<<"$out" || fail_check "info does not say why it is read-only"
    grep -q "Block node is read-only" <<<"$out" || fail_check "the write was not refused as read-only"
    grep -q "^read 512/512 bytes at offset 0" <<<"$out" || fail_check "reads of the read-only loop device failed"
    # A read-only file on a filesystem without statx answers: trial reads decide.
    fixture_tmpfs
    make_data_file "$REPLY/data.img"
    probe_agrees "$REPLY/data.img" -r
    driver_matches_truth "$REPLY/data.img" -r
    expect_eq "read-only tmpfs request_alignment" "$DRV_REQ ($DRV_REQ_SRC)" "1 (raw-posix: trial)"
    ;;
stress-loop4k)
    [ -n "$STRESS" ] || skip "no stress executable given"
    fixture_loop "$FIXTURE_DIR/stress.img" 64M 4096
    log "== stress on $REPLY with cache.direct=on"
    rc=0
    "$STRESS" --spec "driver=raw-posix,filename=$REPLY,cache.direct=on" >"$FIXTURE_DIR/stress.out" 2>&1 || rc=$?
    cat "$FIXTURE_DIR/stress.out" >&2
    [ "$rc" -ne 77 ] || skip "stress: a driver is missing"
    expect_eq "stress exit status" "$rc" 0
    # It ran on the whole device, with the device's O_DIRECT limits.
    grep -q ' over 67108864 bytes, request_alignment 4096, min_mem_alignment 512$' \
        "$FIXTURE_DIR/stress.out" || fail_check "stress did not run on 64 MiB with limits 4096/512"
    ;;
*)
    log "unknown backing '$BACKING'"
    exit 2
    ;;
esac
check_result
