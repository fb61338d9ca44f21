#!/usr/bin/env bash
# Runs one golden scenario through granule-io.exe under Wine, with the Linux
# runner (tests/scenarios/run_scenario.sh: headers, $IMG, filters, diff).
#
#   run_scenario_wine.sh GRANULE_IO_EXE SCRIPT.io linux|windows
#
# linux   a tests/scenarios script and its golden .out, unchanged except that
#         raw-posix becomes raw-win32 and raw-posix's engine options (aio=,
#         aio-threads=; raw-win32 always uses its completion port) are
#         dropped, in the script and the golden alike. The golden knows errno texts only, so the " (Windows error N:
#         text)" that raw-win32 adds to its messages is removed from the output.
# windows a tests/windows/scenarios script: "(Windows error N)" codes stay in
#         the output, the system's text (Wine's differs from Windows') does not.
# $IMG is a Linux path (/tmp/...): Wine reads it as \tmp\... on drive Z:,
# which maps /, since the tests run with a current directory on Z:.
# Needs WINEPREFIX (and WINE_SH, set by tests/windows/CMakeLists.txt).
set -uo pipefail

if [ $# -ne 3 ]; then
    echo "usage: $0 GRANULE_IO_EXE SCRIPT.io linux|windows" >&2
    exit 2
fi
exe=$1
script=$2
mode=$3
here=$(cd "$(dirname "$0")" && pwd)
runner=$here/../scenarios/run_scenario.sh

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# run_scenario.sh wants one executable that behaves like granule-io.
cat >"$tmp/granule-io" <<WRAPPER
#!/usr/bin/env bash
exec bash "${WINE_SH:-$here/wine.sh}" "$exe" "\$@"
WRAPPER
chmod +x "$tmp/granule-io"

case "$mode" in
linux)
    name=$(basename "$script" .io)
    to_win32() { sed -E -e 's/raw-posix/raw-win32/g' -e 's/,([a-z]+\.)*aio(-threads)?=[a-z_0-9]+//g' "$1"; }
    to_win32 "$script" >"$tmp/$name.io"
    if [ -f "${script%.io}.out" ]; then
        to_win32 "${script%.io}.out" >"$tmp/$name.out"
    fi
    if [ "${GRANULE_UPDATE_GOLDEN:-}" = 1 ]; then
        echo "NOTE: Linux goldens are updated on Linux only; comparing" >&2
        unset GRANULE_UPDATE_GOLDEN
    fi
    GRANULE_WINE_FILTER=strip "$runner" "$tmp/granule-io" "$tmp/$name.io"
    ;;
windows)
    GRANULE_WINE_FILTER=code "$runner" "$tmp/granule-io" "$script"
    ;;
*)
    echo "$0: mode must be linux or windows, not '$mode'" >&2
    exit 2
    ;;
esac
