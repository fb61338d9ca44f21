#!/usr/bin/env bash
# The cost of each API layer per request: requests/s through the C++ API,
# the C API (granule.h) and Python's granule package, side by side in one
# run on the null-c driver (no I/O: what is left is the layers' own cost).
# Every request is a 4096-byte read of aligned memory at an aligned offset
# (no padding, no bounce).
#
#   bench/api_overhead.sh [--rounds R] [--count N] [--markdown FILE | --update-docs]
#
# Rows, each run alternately for R rounds (default 5), median ops/s:
#   sync QD1:    C++ device::pread; C granule_pread; Python pread_into
#   async QD32:  C++ async_preadv resubmitted from its handler; C
#                granule_submit_pread resubmitted from its callback; C
#                without callbacks, resubmitted by the caller's thread from
#                granule_poll_completions; Python asyncio (32 tasks awaiting
#                aread_into, through the completion fd)
# Ratios are to the C++ API's row of the same mode. --markdown FILE replaces
# the `<!-- bench/api_overhead.sh begin/end -->` block of FILE;
# --update-docs is --markdown docs/benchmarks.md.
set -euo pipefail
rounds=5
count=200000
markdown=""
while [ $# -gt 0 ]; do
    case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --count) count=$2; shift 2 ;;
    --markdown) markdown=$2; shift 2 ;;
    --update-docs) markdown=docs/benchmarks.md; shift ;;
    *) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
    esac
done
. "$(dirname "$0")/common.sh" python3-dev
[ -z "$markdown" ] || { markdown=$GRANULE_SOURCE_DIR/${markdown#"$GRANULE_SOURCE_DIR"/}; markdown_check "$markdown" api_overhead.sh; }
progs=$build/bench/api_overhead
python=/usr/bin/python3
export PYTHONPATH=$build/python
"$python" -c 'import granule' || { echo "api_overhead.sh: the granule module is not built in $build/python" >&2; exit 1; }
spec=driver=null-c,size=1G
# Python is ~10x slower per request: a tenth of the count keeps its runs as long.
pycount=$((count / 10))

# label|command...   (one per row; a row's commands run alternately)
rows=(
    "sync QD1|C++ device::pread|$progs/api_overhead_cpp $spec sync $count"
    "sync QD1|C granule_pread|$progs/api_overhead_c $spec sync $count"
    "sync QD1|Python pread_into|$python $GRANULE_SOURCE_DIR/bench/api_overhead/api_overhead.py $spec sync $pycount"
    "async QD32|C++ async_preadv, handler resubmits|$progs/api_overhead_cpp $spec async $count 32"
    "async QD32|C submit, callback resubmits|$progs/api_overhead_c $spec callback $count 32"
    "async QD32|C submit, caller polls the queue|$progs/api_overhead_c $spec poll $count 32"
    "async QD32|Python asyncio aread_into|$python $GRANULE_SOURCE_DIR/bench/api_overhead/api_overhead.py $spec asyncio $pycount 32"
)
declare -A results
for ((r = 1; r <= rounds; r++)); do
    for i in "${!rows[@]}"; do
        IFS='|' read -r _ _ cmd <<<"${rows[i]}"
        # shellcheck disable=SC2086
        results[$i]+=" $($cmd)"
    done
    echo "round $r of $rounds done" >&2
done

table=$(
    echo "| mode | layer | ops/s (median, min-max) | µs per request | vs C++ |"
    echo "|---|---|---|---|---|"
    base=""
    for i in "${!rows[@]}"; do
        IFS='|' read -r mode layer _ <<<"${rows[i]}"
        # shellcheck disable=SC2086
        read -r med lo hi <<<"$(stats ${results[$i]})"
        [[ $layer == C++* ]] && base=$med
        us=$(awk -v m="$med" 'BEGIN { printf "%.2f", 1e6 / m }')
        echo "| $mode | $layer | $med ($lo-$hi) | $us | $(ratio "$med" "$base") |"
    done
)
block=$(mktemp)
trap 'rm -f "$block"' EXIT
{
    echo "Run $(date -u +%Y-%m-%d) on $(uname -r), $(nproc) CPUs, $rounds rounds alternating, $count requests per C/C++ run and $pycount per Python run, \`$spec\`:"
    echo
    echo "$table"
} >"$block"
cat "$block"
[ -z "$markdown" ] || markdown_replace "$markdown" api_overhead.sh "$block"
