#!/usr/bin/env bash
# granule-img bench refuses bad numbers at parse time, naming the option and
# the value, exit 2 (a usage error), before opening anything (issue 9: validate every
# numeric option where it is parsed).
#
#   test_bench_args.sh GRANULE_IMG
set -uo pipefail
GI=${1:?usage: $0 GRANULE_IMG}
failures=0
spec="driver=memory,size=1M"
refused() {  # regex args...
    local want=$1 out rc=0
    shift
    out=$("$GI" bench "$@" 2>&1) || rc=$?
    if [ "$rc" -ne 2 ] || ! grep -qE -- "$want" <<<"$out"; then
        echo "FAIL: bench $*: exit $rc, output: $out (wanted exit 2 and '$want')" >&2
        failures=$((failures + 1))
    fi
}
refused "-P \(pattern\): 256 is not a byte" -P 256 --image-opts "$spec"
refused "-P \(pattern\): 0x1a5 is not a byte" -P 0x1a5 --image-opts "$spec"
refused "-s \(size\): 2147483648 is larger than 1G" -s 2G --image-opts "$spec"
refused "-d \(depth\): 0 is not between 1 and 65536" -d 0 --image-opts "$spec"
refused "-s and -c must be > 0" -c 0 --image-opts "$spec"
refused "-c \(count\).*12x" -c 12x --image-opts "$spec"
# And a good run still works: a byte pattern at the top of the range.
"$GI" bench -c 4 -s 4k -w -P 255 --image-opts "$spec" >/dev/null 2>&1 ||
    { echo "FAIL: bench -P 255 refused" >&2; failures=$((failures + 1)); }
[ "$failures" -eq 0 ] || exit 1
echo "bench argument checks passed" >&2
