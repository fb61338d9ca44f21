#!/usr/bin/env bash
# Driver plugins as DLLs, the Windows side of tests/unit/tst_loader.cpp:
# each refusal names the DLL by its full path, good drivers survive bad ones,
# GRANULE_DRIVER_PATH is a ';' list of Windows paths, a plain-C driver and
# the filename shorthand (raw-win32 claims plain filenames) work.
#
#   test_loader.sh OPEN_SPEC_EXE BUILD_DRIVER_DIR BAD_DRIVERS_DIR
#
# open_spec prints "ok length N" (exit 0) or "error CODE: MESSAGE" (exit 1);
# every case runs in a fresh process, since the registry scans once.
set -uo pipefail

exe=${1:?usage: $0 OPEN_SPEC_EXE BUILD_DRIVER_DIR BAD_DRIVERS_DIR}
drivers=${2:?}
bad=${3:?}
wine_sh=${WINE_SH:-$(dirname "$0")/wine.sh}
failures=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

log() { printf '%s\n' "$*" >&2; }
fail() {
    log "FAIL: $*"
    failures=$((failures + 1))
}
# The Windows name of a Linux path: drive Z: maps /.
winpath() { local p; p=$(realpath "$1"); printf 'Z:%s' "${p//\//\\}"; }

# open_spec with GRANULE_DRIVER_PATH=$1 (empty: unset); sets OUT and RC.
open_with() {  # driver-path spec
    if [ -n "$1" ]; then
        OUT=$(GRANULE_DRIVER_PATH=$1 bash "$wine_sh" "$exe" "$2")
    else
        OUT=$(env -u GRANULE_DRIVER_PATH bash "$wine_sh" "$exe" "$2")
    fi
    RC=$?
}

expect() {  # what want-rc want-substring
    if [ "$RC" = "$2" ] && [[ "$OUT" == *"$3"* ]]; then
        log "  ok: $1: $OUT"
    else
        fail "$1: exit $RC (want $2), output '$OUT' (want it to contain '$3')"
    fi
}

# Refusals: the message, the full path of every DLL involved, ENOENT (2).
for c in "abi wrongabi 1 built for driver ABI 2.0; this Granule speaks driver ABI 1.1" \
         "prefreeze prefreeze 1 built for driver ABI 0.1 (a development ABI from before the 1.0 freeze)" \
         "small small 1 driver table too small (80 bytes; the mandatory members of ABI 1.0 take 88)" \
         "notadriver notadriver 1 not a Granule driver (no symbol granule_driver_entry)" \
         "missingsym missingsym 1 cannot load" \
         "dup dup 2 duplicate driver name 'dup'"; do
    read -r dir name files message <<<"$c"
    dlls=("$bad/$dir"/granule-driver-*.dll)
    if [ "${#dlls[@]}" -ne "$files" ] || [ ! -f "${dlls[0]}" ]; then
        fail "case $dir: expected $files DLL(s) in $bad/$dir"
        continue
    fi
    open_with "$(winpath "$bad/$dir")" "driver=$name"
    expect "refusal $dir" 1 "$message"
    [[ "$OUT" == "error 2: "* ]] || fail "refusal $dir: not ENOENT: $OUT"
    for f in "${dlls[@]}"; do
        [[ "$OUT" == *"$(winpath "$f")"* ]] || fail "refusal $dir: '$(winpath "$f")' not named"
    done
    # A refused DLL must not take the good drivers down with it.
    open_with "$(winpath "$bad/$dir")" "driver=memory,size=64k"
    expect "memory next to $dir" 0 "ok length 65536"
done

# ';' separates the list (':' is part of a drive letter): each entry of
# "notadriver;abi" is scanned, the DLLs in either are reachable only that way.
list="$(winpath "$bad/notadriver");$(winpath "$bad/abi")"
open_with "$list" "driver=notadriver"
expect "';' list, first entry" 1 "not a Granule driver"
open_with "$list" "driver=wrongabi"
expect "';' list, second entry" 1 "built for driver ABI 2.0"

# The plain-C driver, as a DLL.
open_with "" "driver=null-c,size=4096"
expect "null-c (plain C)" 0 "ok length 4096"

# Unknown drivers list what is there, raw-win32 included.
open_with "" "driver=nope"
expect "unknown driver" 1 "unknown driver 'nope' (available: blkdebug memory null-c raw-win32)"

# A plain filename selects raw-win32, the driver that claims them.
head -c 12345 /dev/zero >"$tmp/plain.img"
open_with "" "$tmp/plain.img"
expect "filename shorthand" 0 "ok length 12345"
open_with "" "$(winpath "$tmp/plain.img")"
expect "filename shorthand, Windows path" 0 "ok length 12345"

if [ "$failures" -ne 0 ]; then
    log "$failures loader check(s) failed"
    exit 1
fi
log "all loader checks passed"
