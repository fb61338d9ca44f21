#!/usr/bin/env bash
# --version and -V of every tool: one line, "TOOL version V (Granule library
# V, driver ABI M.m)", exit 0, nothing on stderr; V is CMake's project
# version, M.m the driver ABI header's; --help mentions it.
#
#   test_version.sh VERSION DRIVER_ABI_H TOOL...
set -uo pipefail
version=${1:?usage: $0 VERSION DRIVER_ABI_H TOOL...}
abi_h=${2:?}
shift 2
major=$(sed -n 's/^#define GRANULE_DRIVER_ABI_MAJOR \([0-9]*\)$/\1/p' "$abi_h")
minor=$(sed -n 's/^#define GRANULE_DRIVER_ABI_MINOR \([0-9]*\)$/\1/p' "$abi_h")
[ -n "$major" ] && [ -n "$minor" ] || { echo "FAIL: no ABI version in $abi_h"; exit 1; }
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
for tool in "$@"; do
    name=$(basename "$tool")
    want="$name version $version (Granule library $version, driver ABI $major.$minor)"
    for opt in --version -V; do
        out=$("$tool" "$opt" 2>"${TMPDIR:-/tmp}/version-err.$$")
        rc=$?
        err=$(cat "${TMPDIR:-/tmp}/version-err.$$"); rm -f "${TMPDIR:-/tmp}/version-err.$$"
        [ "$rc" = 0 ] || fail "$name $opt: exit $rc"
        [ "$out" = "$want" ] || fail "$name $opt: '$out', expected '$want'"
        [ -z "$err" ] || fail "$name $opt wrote to stderr: $err"
    done
    help=$("$tool" --help 2>&1) || fail "$name --help: exit $?"
    grep -qE -- '-V, --version|-V\|--version' <<<"$help" || fail "$name --help does not mention -V/--version"
done
[ "$failures" -eq 0 ] || exit 1
echo "version checks passed: $*"
