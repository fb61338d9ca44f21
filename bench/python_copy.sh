#!/usr/bin/env bash
# examples/python/copy.py (the granule Python package, asyncio) against
# `granule-img convert` (C++), on the same devices in one run, the two
# alternating for R rounds (default 5); medians and their ratio.
# Cases, with a 4096-sector loop device (--direct-io=on) opened with O_DIRECT
# (cache.direct=on) on the device side:
#   device -> new file   SRC the device (urandom data), DST a file created
#                        by the tool (holes where zero units are: none here)
#   file -> device (-n)  SRC a urandom file in the page cache
#   sparse -> new file   SRC a sparse file (1 MiB of data in every 8 MiB)
#   sparse -> device (-n) zero runs written as write-zeroes
# Throughput is each tool's own summary ("in X s": the copy and the final
# flush, not process start nor opening), in MB/s; the table also shows the
# median wall time of the whole process (Python starts in ~0.1 s).
#
#   sudo bench/python_copy.sh [--rounds R] [--size-mib M] [--markdown FILE | --update-docs]
set -euo pipefail

rounds=5
size_mib=512
markdown=""
while [ $# -gt 0 ]; do
    case $1 in
    --rounds) rounds=${2?}; shift 2 ;;
    --size-mib) size_mib=${2?}; shift 2 ;;
    --markdown) markdown=${2?}; shift 2 ;;
    --update-docs) markdown="$(cd "$(dirname "$0")/.." && pwd)/docs/benchmarks.md"; shift ;;
    *) echo "unknown argument $1 (see the header of $0)" >&2; exit 2 ;;
    esac
done

# shellcheck source=common.sh
. "$(dirname "$0")/common.sh" python3
[ -z "$markdown" ] || markdown_check "$markdown" python_copy.sh
python=/usr/bin/python3
copy_py="$GRANULE_SOURCE_DIR/examples/python/copy.py"
export PYTHONPATH="$build/python"
"$python" -c 'import granule' || { echo "granule not built in $build/python" >&2; exit 1; }
bench_loop "$size_mib" python-copy
dev="driver=raw-posix,filename=$loop,cache.direct=on"
echo "filling $loop ($size_mib MiB) and the sources" >&2
dd if=/dev/urandom of="$loop" bs=1M count="$size_mib" oflag=direct status=none
head -c "$((size_mib << 20))" /dev/urandom >"$work/data.raw"
truncate -s "${size_mib}M" "$work/sparse.raw"
for ((m = 0; m < size_mib; m += 8)); do
    dd if=/dev/urandom of="$work/sparse.raw" bs=1M seek=$m count=1 conv=notrunc status=none
done
cat "$work/data.raw" "$work/sparse.raw" >/dev/null  # both tools read them from the page cache

# case name | SRC | DST | -n or -
cases=("device -> new file|$dev|$work/out.raw|-"
    "file -> device (-n)|$work/data.raw|$dev|-n"
    "sparse -> new file|$work/sparse.raw|$work/out.raw|-"
    "sparse -> device (-n)|$work/sparse.raw|$dev|-n")

# One run: prints "MBPS WALL_SECONDS", or "error: ..." with the tool's output.
measure() {  # tool src dst flag
    local out t0 t1 flag=()
    [ "$4" = - ] || flag=("$4")
    rm -f "$work/out.raw"
    t0=$(date +%s%N)
    case $1 in
    convert) out=$("$img_tool" convert "${flag[@]}" "$2" "$3" 2>&1) || { echo "error: $out"; return; } ;;
    copy.py) out=$("$python" "$copy_py" "${flag[@]}" "$2" "$3" 2>&1) || { echo "error: $out"; return; } ;;
    esac
    t1=$(date +%s%N)
    # "... in 0.123 s (2183.4 MB/s)"
    echo "$(sed -n 's/.* in [0-9.]* s (\([0-9.]*\) MB\/s)$/\1/p' <<<"$out") $(awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.3f", ns / 1e9 }')"
}

tools=(convert copy.py)
declare -A mbps wall
for c in "${cases[@]}"; do
    IFS='|' read -r name src dst flag <<<"$c"
    declare -A runs=() walls=()
    for r in $(seq "$rounds"); do
        for t in "${tools[@]}"; do
            v=$(measure "$t" "$src" "$dst" "$flag")
            echo "$name round $r $t: $v" >&2
            [[ $v == error* ]] && { echo "$t failed on $name: $v" >&2; exit 1; }
            runs[$t]="${runs[$t]:-} ${v% *}"
            walls[$t]="${walls[$t]:-} ${v#* }"
        done
        # Both tools leave the same bytes: check the last round's output.
        if [ "$r" = "$rounds" ]; then
            if [ "$flag" = -n ]; then
                cmp -n "$((size_mib << 20))" "$src" "$loop" || { echo "$name: device differs" >&2; exit 1; }
            else
                cmp "$work/out.raw" "${src/#$dev/$loop}" || { echo "$name: output differs" >&2; exit 1; }
            fi
        fi
    done
    for t in "${tools[@]}"; do
        # shellcheck disable=SC2086
        mbps[$t,$name]=$(stats ${runs[$t]})
        # shellcheck disable=SC2086
        wall[$t,$name]=$(printf '%s\n' ${walls[$t]} | sort -g | awk '{ v[NR] = $1 } END {
            printf "%.3f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
    done
done

block=$work/block.md
{
    echo "Run $(date -u +%Y-%m-%d), $(uname -r), $(nproc) CPUs, $size_mib MiB, $rounds rounds alternating;"
    echo "MB/s from each tool's own summary (copy and flush), median (min-max); wall: median"
    echo "seconds of the whole process. Ratio: copy.py's median MB/s over convert's."
    echo
    echo "| case | granule-img convert MB/s | copy.py MB/s | ratio | wall convert / copy.py s |"
    echo "|---|---|---|---|---|"
    for c in "${cases[@]}"; do
        IFS='|' read -r name _ <<<"$c"
        read -r gm gl gh <<<"${mbps[convert,$name]}"
        read -r pm pl ph <<<"${mbps[copy.py,$name]}"
        echo "| $name | $gm ($gl-$gh) | $pm ($pl-$ph) | $(ratio "$pm" "$gm") | ${wall[convert,$name]} / ${wall[copy.py,$name]} |"
    done
} >"$block"
cat "$block"
[ -z "$markdown" ] || markdown_replace "$markdown" python_copy.sh "$block"
