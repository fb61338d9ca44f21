#!/usr/bin/env bash
# Runs a Windows program of the cross build under Wine, the way a Linux test
# would run a native one:
#
#   WINEPREFIX=<build-win>/wineprefix wine.sh PROGRAM.exe [ARGS...] [<stdin]
#
# - stdout and stderr are merged (as run_scenario.sh does anyway), with the
#   CRLF line ends of Windows text mode turned into LF;
# - the output goes through a temp file, not a pipe: Wine's helper processes
#   (services.exe, winedevice.exe...) inherit the first program's stdio and
#   live on for a few seconds, and a pipe held open by them makes every
#   reader (ctest, `| tr`) wait for them — measured 2.4 s per call;
# - GRANULE_WINE_FILTER=strip removes " (Windows error N: text)" suffixes, so
#   the Linux golden outputs of tests/scenarios apply unchanged; =code keeps
#   the code and drops the text, which differs between Wine and Windows.
# The exit status is the program's.
set -uo pipefail

if [ $# -lt 1 ]; then
    echo "usage: $0 PROGRAM.exe [ARGS...]" >&2
    exit 2
fi
if [ -z "${WINEPREFIX:-}" ]; then
    echo "wine.sh: WINEPREFIX is not set (tests/windows/run.sh sets it)" >&2
    exit 2
fi
export WINEDEBUG=${WINEDEBUG:--all}

out=$(mktemp)
trap 'rm -f "$out"' EXIT
wine "$@" >"$out" 2>&1
status=$?
# Once in a few hundred runs under load, Wine fails to start the program: no
# output at all and a failure status (CI of 0e59866: a scenario's output
# empty). Every Granule program prints something when it fails, so that is
# Wine's, not the program's: said on stderr, and run once more.
if [ $status -ne 0 ] && [ ! -s "$out" ]; then
    echo "wine.sh: $1 exited $status without any output; running it once more (Wine start-up)" >&2
    if [ -f /dev/stdin ]; then
        # A script on stdin (run_scenario.sh): opened anew, from its start.
        wine "$@" </dev/stdin >"$out" 2>&1
    else
        wine "$@" >"$out" 2>&1
    fi
    status=$?
fi
case "${GRANULE_WINE_FILTER:-}" in
    strip) sed -e 's/\r$//' -e 's/ (Windows error [0-9]*: [^)]*)//g' "$out" ;;
    code) sed -e 's/\r$//' -e 's/(Windows error \([0-9]*\): [^)]*)/(Windows error \1)/g' "$out" ;;
    *) sed -e 's/\r$//' "$out" ;;
esac
exit $status
