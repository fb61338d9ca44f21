# Integration test fixture (sourced by run.sh): sparse backing files, loop
# devices, XFS/ext4/tmpfs mounts, all inside one private temp dir, and ALWAYS
# torn down again (EXIT/INT/TERM/HUP trap). A run killed with SIGKILL (e.g. a
# ctest timeout) cannot clean up: the next run removes what a dead run left,
# recognised by the owner pid recorded in its directory, and nothing else.
#
#   fixture_init                        checks root, loop devices, tools; makes $FIXTURE_DIR
#   fixture_loop FILE SIZE SECTOR [ro]  attaches FILE (created sparse): REPLY=/dev/loopN
#   fixture_mount DEV TYPE [mkfs args]  mkfs + mount under $FIXTURE_DIR: REPLY=mountpoint
#   fixture_tmpfs                       a private tmpfs: REPLY=mountpoint
#   skip REASON                         exit 77 (SKIP), or fail when GRANULE_NO_SKIP=1
#
# The functions answer in REPLY, not on stdout: a $(...) subshell would lose
# what they record for the cleanup (and a skip there would not end the test).
# Bash only; needs util-linux (losetup, mount), e2fsprogs, xfsprogs (tools/deps.sh).

FIXTURE_PREFIX=${TMPDIR:-/tmp}/granule-integ
FIXTURE_DIR=
FIXTURE_LOOPS=()
FIXTURE_MOUNTS=()

log() { printf '%s\n' "$*" >&2; }

skip() {
    if [ "${GRANULE_NO_SKIP:-}" = 1 ]; then
        log "FAIL (GRANULE_NO_SKIP=1, would skip): $*"
        exit 1
    fi
    log "SKIP: $*"
    exit 77
}

# Undoes everything this run set up, in reverse order. Safe to call twice.
fixture_cleanup() {
    local i
    for ((i = ${#FIXTURE_MOUNTS[@]} - 1; i >= 0; i--)); do
        umount "${FIXTURE_MOUNTS[i]}" 2>/dev/null || { sleep 0.2; umount "${FIXTURE_MOUNTS[i]}" 2>/dev/null; } ||
            umount -l "${FIXTURE_MOUNTS[i]}" 2>/dev/null || log "warning: cannot unmount ${FIXTURE_MOUNTS[i]}"
    done
    FIXTURE_MOUNTS=()
    for ((i = ${#FIXTURE_LOOPS[@]} - 1; i >= 0; i--)); do
        losetup -d "${FIXTURE_LOOPS[i]}" 2>/dev/null || log "warning: cannot detach ${FIXTURE_LOOPS[i]}"
    done
    FIXTURE_LOOPS=()
    if [ -n "$FIXTURE_DIR" ] && [ -d "$FIXTURE_DIR" ]; then
        rm -rf --one-file-system "$FIXTURE_DIR"
    fi
    FIXTURE_DIR=
}

# Leftovers of runs that were killed: only directories of ours whose owner is dead.
fixture_sweep() {
    local d pid mnt lo
    for d in "$FIXTURE_PREFIX".*; do
        [ -f "$d/owner.pid" ] || continue
        pid=$(cat "$d/owner.pid" 2>/dev/null) || continue
        [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && continue
        log "removing leftovers of dead run $pid: $d"
        # Deepest mounts first.
        while read -r mnt; do
            umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null
        done < <(awk -v p="$d/" 'index($2, p) == 1 { print $2 }' /proc/self/mounts | sort -r)
        while read -r lo; do
            losetup -d "$lo" 2>/dev/null
        done < <(losetup -n -O NAME,BACK-FILE 2>/dev/null | awk -v p="$d/" 'index($2, p) == 1 { print $1 }')
        rm -rf --one-file-system "$d"
    done
}

fixture_init() {
    [ "$(id -u)" -eq 0 ] || skip "needs root (losetup, mkfs, mount)"
    local tool
    for tool in losetup mount umount findmnt mkfs.ext4 dd cmp stat truncate fallocate; do
        command -v "$tool" >/dev/null || skip "'$tool' not found (util-linux/e2fsprogs/coreutils)"
    done
    [ -e /dev/loop-control ] || skip "no /dev/loop-control: loop devices unavailable here"
    trap 'fixture_cleanup' EXIT
    trap 'fixture_cleanup; exit 130' INT
    trap 'fixture_cleanup; exit 143' TERM
    trap 'fixture_cleanup; exit 129' HUP
    fixture_sweep
    FIXTURE_DIR=$(mktemp -d "$FIXTURE_PREFIX.XXXXXX") || skip "cannot create a temp dir under ${TMPDIR:-/tmp}"
    echo $$ >"$FIXTURE_DIR/owner.pid"
}

# losetup -f can lose a race with another attach (EBUSY) and then may or may
# not have attached the file: look it up by backing file before retrying.
fixture_loop() {
    local file=$1 size=$2 sector=$3 ro=${4:-} dev try args=()
    [ -e "$file" ] || truncate -s "$size" "$file" || return 1
    args=(-f --show --sector-size "$sector" --direct-io=on)
    [ "$ro" = ro ] && args+=(-r)
    for try in 1 2 3 4 5; do
        dev=$(losetup "${args[@]}" "$file" 2>"$FIXTURE_DIR/losetup.err")
        [ -n "$dev" ] || dev=$(losetup -n -O NAME -j "$file" 2>/dev/null | head -n1)
        if [ -n "$dev" ]; then
            FIXTURE_LOOPS+=("$dev")
            # udev may still be probing the new device: wait for its sysfs to settle.
            command -v udevadm >/dev/null && udevadm settle -t 5 2>/dev/null
            REPLY=$dev
            return 0
        fi
        grep -qiE 'permission|not permitted|no such device' "$FIXTURE_DIR/losetup.err" &&
            skip "losetup cannot attach loop devices here: $(cat "$FIXTURE_DIR/losetup.err")"
        sleep 0.3
    done
    log "losetup failed: $(cat "$FIXTURE_DIR/losetup.err")"
    return 1
}

fixture_mount() {
    local dev=$1 type=$2
    shift 2
    local mnt
    mnt=$(mktemp -d "$FIXTURE_DIR/mnt-$type.XXXX")
    case $type in
    xfs)
        command -v mkfs.xfs >/dev/null || skip "mkfs.xfs not found: install xfsprogs (tools/deps.sh GRANULE_TEST_PACKAGES)"
        mkfs.xfs -f -q "$@" "$dev" >&2 || return 1
        ;;
    ext4) mkfs.ext4 -F -q "$@" "$dev" >&2 || return 1 ;;
    *) log "fixture_mount: unknown type $type"; return 1 ;;
    esac
    mount -t "$type" "$dev" "$mnt" || return 1
    FIXTURE_MOUNTS+=("$mnt")
    REPLY=$mnt
}

fixture_tmpfs() {
    local mnt
    mnt=$(mktemp -d "$FIXTURE_DIR/mnt-tmpfs.XXXX")
    mount -t tmpfs -o size=64m granule-integ "$mnt" || return 1
    FIXTURE_MOUNTS+=("$mnt")
    REPLY=$mnt
}
