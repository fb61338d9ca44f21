#!/usr/bin/env bash
# Fails when one module (DLL or EXE) contains both of Asio's Windows thread
# classes, win_thread and posix_thread: its translation units then disagreed
# on BOOST_ASIO_HAS_PTHREADS (include order decides it under MinGW's posix
# thread model), an ODR violation that let io_context shutdown skip joining
# the timer thread. CMakeLists.txt defines the macro once for everyone.
#
#   check_asio_thread_class.sh NM MODULE...
set -uo pipefail
if [ $# -lt 2 ]; then
    echo "usage: $0 NM MODULE..." >&2
    exit 2
fi
nm=$1
shift
rc=0
for module in "$@"; do
    symbols=$("$nm" -C "$module") || { echo "FAIL: $nm cannot read $module"; rc=1; continue; }
    posix=$(grep -c 'asio::detail::posix_thread' <<<"$symbols")
    win=$(grep -c 'asio::detail::win_thread' <<<"$symbols")
    if [ "$posix" -gt 0 ] && [ "$win" -gt 0 ]; then
        echo "FAIL: $(basename "$module") has both asio::detail::posix_thread ($posix symbols)" \
             "and asio::detail::win_thread ($win symbols)"
        rc=1
    else
        echo "ok: $(basename "$module") (posix_thread $posix, win_thread $win)"
    fi
done
exit $rc
