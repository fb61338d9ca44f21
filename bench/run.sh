#!/usr/bin/env bash
# The benchmark matrix: qemu-img bench (-f raw -t none -i io_uring), fio
# (io_uring, direct=1) and granule-img bench (raw-posix, cache.direct=on) on
# ONE 1 GiB loop device with 4096-byte sectors and --direct-io=on, dd-filled
# first so that reads read data. Prints a markdown table (docs/benchmarks.md
# shows it) and the issue's target checks; a progress log goes to stderr.
#
#   sudo bench/run.sh [--rounds R] [--seconds T | --count N] [--quick] [--only REGEX]
#                     [--markdown FILE | --update-docs] [--note TEXT]
#                     [--size-mib M]
#
# Rows are generated, not typed, so no case can drop out unnoticed:
#   sequential: size 512 B, 4k, 64k x start offset 0, 100, 512 x QD1, QD32
#               x read, write (36 rows); request i is at start + i*size;
#   random:     4k and 64k aligned (offsets multiples of the size, as fio
#               picks them) and 512 B at 512 within a 4096-byte block
#               (granule -r -g 4096 -o 512) x read, write x QD1, QD32.
# A tool that cannot do a row shows `-` and the reason is given once under
# the table: qemu-img bench has no random mode; fio cannot issue a request
# whose size or offset is not a multiple of 4096 on this device (O_DIRECT,
# EINVAL). A run that fails shows `error` and its message under the table.
#
# Each row runs its tools alternately, qemu-img fio granule, qemu-img fio
# granule, ... for R rounds (default 3).
# A cell is the median ops/s of the R runs with the spread of the runs
# around it (-a/+b %); ratios are of medians.
#
# Counts are calibrated per row and tool (--seconds T, default 0.5): before
# its rounds, each tool runs 200 requests (QD1) or 1000 (QD32), and again
# with enough for ~0.15 s (up to twice) while that took under 0.1 s; the
# rate measured gives the count for T seconds (rounded to 2 digits, at
# least 500). So every run takes about T s whatever the tool's speed (the
# tools of a row differ by up to ~6x, so one count per row would give the
# fast tool a run too short to measure). The calibration runs double as
# warm-up and are not counted; the table's last column gives the counts.
# --count N skips the calibration and uses N for every run; --quick is 1
# round of 1000 requests (smoke test).
#
# --markdown FILE replaces the lines between `<!-- bench/run.sh begin -->`
# and `<!-- bench/run.sh end -->` in FILE with the output (date, kernel,
# device, rounds, counts, load, table, notes, targets); --update-docs is
# --markdown docs/benchmarks.md. --only REGEX runs the rows whose label
# (`seq write 4k +100 QD32`) matches the extended regex. The exit status is
# 0 when the run completed, whatever the targets say: MISSED is reported,
# not judged.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

usage() { awk 'NR == 1 || /^# shellcheck/ { next } !/^#/ { exit } { sub(/^# ?/, ""); print }' "$0"; }

rounds=3
seconds=0.5
count_override=""
quick=0
only=""
markdown=""
note=""
size_mib=1024
while [ $# -gt 0 ]; do
    case $1 in
    --rounds) rounds=${2?"$1 needs a value"}; shift 2 ;;
    --count) count_override=${2?"$1 needs a value"}; shift 2 ;;
    --seconds) seconds=${2?"$1 needs a value"}; shift 2 ;;
    --quick) quick=1; shift ;;
    --only) only=${2?"$1 needs a value"}; shift 2 ;;
    --markdown) markdown=${2?"$1 needs a value"}; shift 2 ;;
    --update-docs) markdown="$(cd "$(dirname "$0")/.." && pwd)/docs/benchmarks.md"; shift ;;
    --note) note=${2?"$1 needs a value"}; shift 2 ;;
    --size-mib) size_mib=${2?"$1 needs a value"}; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "unknown argument $1 (--help lists them)" >&2; exit 2 ;;
    esac
done
case $rounds in '' | *[!0-9]* | 0) echo "--rounds wants a positive integer, not '$rounds'" >&2; exit 2 ;; esac
case $count_override in *[!0-9]* | 0) echo "--count wants a positive integer, not '$count_override'" >&2; exit 2 ;; esac
awk -v t="$seconds" 'BEGIN { exit !(t + 0 > 0) }' || { echo "--seconds wants a positive number, not '$seconds'" >&2; exit 2; }
if [ "$quick" = 1 ]; then
    rounds=1
    count_override=${count_override:-1000}
fi

# shellcheck source=common.sh
. "$(dirname "$0")/common.sh" fio qemu-utils jq
[ -z "$markdown" ] || markdown_check "$markdown" run.sh

# The rows: "access op size start depth".
rows=()
for op in read write; do
    for size in 512 4096 65536; do
        for start in 0 100 512; do
            for depth in 1 32; do rows+=("seq $op $size $start $depth"); done
        done
    done
done
for op in read write; do
    for size_start in "4096 0" "65536 0" "512 512"; do
        for depth in 1 32; do rows+=("rand $op $size_start $depth"); done
    done
done

human_size() { case $1 in 512) echo "512 B" ;; 4096) echo 4k ;; 65536) echo 64k ;; *) echo "$1 B" ;; esac; }
label_of() {  # access op size start depth
    local s; s=$(human_size "$3")
    echo "$1 $2 ${s/ B/B} +$4 QD$5"
}

# Which tools can run a row; the reasons are printed under the table.
qemu_reason="qemu-img bench has no random mode"
fio_reason="fio cannot issue a request whose size or offset is not a multiple of 4096 on a 4096-sector device with O_DIRECT (EINVAL)"
can_run() {  # tool access op size start depth
    case $1 in
    qemu-img) [ "$2" = seq ] ;;
    fio) [ $(($4 % 4096)) -eq 0 ] && [ $(($5 % 4096)) -eq 0 ] ;;
    granule) true ;;
    esac
}
tools=(qemu-img fio granule)

if [ -n "$only" ]; then
    selected=()
    for r in "${rows[@]}"; do
        # shellcheck disable=SC2086
        label_of $r | grep -qE -- "$only" && selected+=("$r")
    done
    [ ${#selected[@]} -gt 0 ] || { echo "--only '$only' matches no row" >&2; exit 2; }
    rows=("${selected[@]}")
fi

if [ -n "$count_override" ]; then
    counts_text="$count_override requests per run"
else
    counts_text="requests per run calibrated for ~$seconds s per tool (last column)"
fi
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
bench_loop "$size_mib" bench
dev_bytes=$((size_mib << 20))
# Written data everywhere: reads of holes would measure nothing.
dd if=/dev/zero of="$loop" bs=1M count="$size_mib" oflag=direct status=none
spec="driver=raw-posix,filename=$loop,cache.direct=on,format=raw"
echo "device: $loop ($(blockdev --getss "$loop")-byte logical sectors, ${size_mib} MiB, direct-io), ${#rows[@]} rows, $rounds round(s)" >&2

# One run; prints ops/s, or fails with the reason in $work/err.
run_one() {  # tool access op size start depth count
    local tool=$1 access=$2 op=$3 size=$4 start=$5 depth=$6 count=$7 out
    case $tool in
    qemu-img)
        local w=(); [ "$op" = write ] && w=(-w)
        out=$(qemu-img bench -f raw -t none -i io_uring -c "$count" -d "$depth" -s "$size" \
            -S "$size" -o "$start" "${w[@]}" "$loop" 2>"$work/err") || return 1
        # qemu-img has no machine-readable output: "Run completed in S seconds."
        awk -v c="$count" '/^Run completed in/ { if ($4 > 0) { printf "%.0f\n", c / $4; ok = 1 } }
            END { exit !ok }' <<<"$out" || { echo "no 'Run completed' line: $out" >"$work/err"; return 1; }
        ;;
    fio)
        local rw=$op; [ "$access" = rand ] && rw=rand$op
        out=$(fio --name=b --filename="$loop" --ioengine=io_uring --direct=1 --rw="$rw" \
            --bs="$size" --iodepth="$depth" --offset="$start" --size=$((dev_bytes - start)) \
            --io_size=$((count * size)) --randrepeat=0 --output-format=json 2>"$work/err") || return 1
        jq -e --arg op "$op" '.jobs[0] | select(.error == 0) | .[$op].iops | floor' <<<"$out" \
            2>>"$work/err" || { echo "fio: $(jq -c '.jobs[0].error' <<<"$out" 2>&1)" >>"$work/err"; return 1; }
        ;;
    granule)
        local args=(-c "$count" -d "$depth" -s "$size" -S "$size" -o "$start")
        [ "$op" = write ] && args+=(-w)
        if [ "$access" = rand ]; then
            local grain=$size; [ "$size" -lt 4096 ] && grain=4096
            args+=(-r -g "$grain")
        fi
        out=$("$img_tool" bench "${args[@]}" --output=json --image-opts "$spec" 2>"$work/err") || return 1
        jq -e '.ops_per_second | floor' <<<"$out" 2>>"$work/err" || return 1
        ;;
    esac
}

# The failed run's message on one line.
err_text() { head -c 300 "$work/err" | tr -s '\n\t' '  ' | sed 's/ *$//'; }

# The count for about $seconds s of one tool on one row (header comment).
calibrate() {  # tool access op size start depth
    local c=200 v=0 try
    [ "$6" -gt 1 ] && c=1000
    for try in 1 2 3; do
        v=$(run_one "$@" "$c") || return 1
        awk -v c="$c" -v v="$v" 'BEGIN { exit !(v > 0 && c / v >= 0.1) }' && break
        [ "$try" = 3 ] || c=$(awk -v c="$c" -v v="$v" 'BEGIN { n = 0.15 * v; if (n < 2 * c) n = 2 * c; printf "%d", n }')
    done
    awk -v t="$seconds" -v v="$v" 'BEGIN { n = t * v; if (n < 500) n = 500
        e = 10 ^ (int(log(n) / log(10)) - 1); printf "%d\n", int(n / e + 0.5) * e }'
}

declare -A median cell errors counts
notes=()  # error messages, printed under the table
started=$SECONDS
n=0
for r in "${rows[@]}"; do
    n=$((n + 1))
    # shellcheck disable=SC2086
    set -- $r
    label=$(label_of "$@")
    echo "[$n/${#rows[@]}] $label" >&2
    row_started=$EPOCHREALTIME
    declare -A runs=()
    for t in "${tools[@]}"; do
        can_run "$t" "$@" || continue
        if [ -n "$count_override" ]; then
            counts[$label,$t]=$count_override
        elif c=$(calibrate "$t" "$@"); then
            counts[$label,$t]=$c
        else
            errors[$label,$t]=1
            notes+=("$label, $t (calibration): $(err_text)")
            echo "    $t failed: $(err_text)" >&2
        fi
    done
    for round in $(seq "$rounds"); do
        for t in "${tools[@]}"; do
            can_run "$t" "$@" || continue
            [ -n "${errors[$label,$t]:-}" ] && continue  # failed once: not again
            if v=$(run_one "$t" "$@" "${counts[$label,$t]}"); then
                runs[$t]="${runs[$t]:-} $v"
            else
                errors[$label,$t]=1
                notes+=("$label, $t (round $round): $(err_text)")
                echo "    $t failed: $(err_text)" >&2
            fi
        done
    done
    line=""
    for t in "${tools[@]}"; do
        if ! can_run "$t" "$@"; then
            cell[$label,$t]="-"
        elif [ -n "${errors[$label,$t]:-}" ]; then
            cell[$label,$t]="error"
        else
            # shellcheck disable=SC2086
            read -r med lo hi <<<"$(stats ${runs[$t]})"
            median[$label,$t]=$med
            if [ "$rounds" -gt 1 ]; then
                cell[$label,$t]="$med ($(awk -v m="$med" -v l="$lo" -v h="$hi" \
                    'BEGIN { if (m > 0) printf "-%.0f/+%.0f%%", (m - l) * 100 / m, (h - m) * 100 / m }'))"
            else
                cell[$label,$t]=$med
            fi
        fi
        if [ -n "${median[$label,$t]:-}" ]; then
            line+=" $t ${cell[$label,$t]} x${counts[$label,$t]} ($(awk -v c="${counts[$label,$t]}" \
                -v m="${median[$label,$t]}" 'BEGIN { printf "%.2f", c / m }') s/run);"
        else
            line+=" $t ${cell[$label,$t]};"
        fi
    done
    unset runs
    echo "    ${line# } row: $(awk -v a="$row_started" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s" >&2
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
echo "all rows: $((SECONDS - started)) s" >&2

# Target checks (issue 12), in four groups; every (row, comparison) is
# checked once. A row's mark is MISSED if any of its checks missed.
groups=("unaligned writes (start 100 or 512): granule >= 1.5x qemu-img"
    "every other row: granule >= 1.0x qemu-img and fio"
    "sequential writes at start 100, 4k and 64k, QD32: granule >= 0.7x granule's own start-0 write"
    "aligned 4k random QD1, read and write: granule >= 1.0x fio")
declare -A mark
targets=()    # "group|line"
unchecked=()  # rows or checks that could not be made
met=0
missed=0
check() {  # group label what value wanted
    local verdict=MISSED
    [ "$4" != error ] && awk -v v="$4" -v w="$5" 'BEGIN { exit !(v >= w) }' && verdict=MET
    if [ $verdict = MET ]; then
        met=$((met + 1))
        mark[$2]=${mark[$2]:-MET}
    else
        missed=$((missed + 1))
        mark[$2]=MISSED
    fi
    targets+=("$1|$verdict: $2: $3 = $4 (>= $5)")
}
ratio_of() {  # label tool: granule / tool from medians, or "error"
    local g=${median[$1,granule]:-} o=${median[$1,$2]:-}
    if [ -z "$g" ] || [ -z "$o" ]; then echo error; else ratio "$g" "$o"; fi
}
for r in "${rows[@]}"; do
    # shellcheck disable=SC2086
    set -- $r
    label=$(label_of "$@")
    access=$1 op=$2 size=$3 start=$4 depth=$5
    if [ "$op" = write ] && [ "$start" != 0 ]; then
        if can_run qemu-img "$@"; then
            check 0 "$label" granule/qemu-img "$(ratio_of "$label" qemu-img)" 1.5
        else
            unchecked+=("$label: ${groups[0]}: no qemu-img ($qemu_reason)")
        fi
    elif [ "$access" = rand ] && [ "$size" = 4096 ] && [ "$depth" = 1 ]; then
        check 3 "$label" granule/fio "$(ratio_of "$label" fio)" 1.0
    else
        can_run qemu-img "$@" && check 1 "$label" granule/qemu-img "$(ratio_of "$label" qemu-img)" 1.0
        can_run fio "$@" && check 1 "$label" granule/fio "$(ratio_of "$label" fio)" 1.0
        can_run qemu-img "$@" || can_run fio "$@" ||
            unchecked+=("$label: ${groups[1]}: neither qemu-img nor fio can run it")
    fi
    if [ "$access" = seq ] && [ "$op" = write ] && [ "$start" = 100 ] && [ "$depth" = 32 ] &&
        [ "$size" != 512 ]; then
        aligned=$(label_of seq write "$size" 0 32)
        if [ -z "${cell[$aligned,granule]:-}" ]; then
            unchecked+=("$label: ${groups[2]}: '$aligned' was not run (--only)")
        elif [ -n "${median[$aligned,granule]:-}" ] && [ -n "${median[$label,granule]:-}" ]; then
            check 2 "$label" "granule / granule's '$aligned'" \
                "$(ratio "${median[$label,granule]}" "${median[$aligned,granule]}")" 0.7
        else
            check 2 "$label" "granule / granule's '$aligned'" error 0.7
        fi
    fi
done

# The block docs/benchmarks.md shows.
block=$work/block.md
{
    echo "Run $(date -u '+%Y-%m-%d %H:%M UTC') on $(uname -sr), $(nproc) CPUs;" \
        "device: ${size_mib} MiB loop device, $(blockdev --getss "$loop")-byte sectors, direct-io, dd-filled;" \
        "$rounds round(s), $counts_text."
    echo "Tools: $(fio --version), $(qemu-img --version | head -n1), $("$img_tool" --version)" \
        "(source $(git -C "$GRANULE_SOURCE_DIR" describe --always --dirty 2>/dev/null || echo unknown))."
    echo "Load average (1/5/15 min) before the run: $load_before; after: $load_after" \
        "(the run itself loads 1-2 CPUs)${note:+; note: $note}."
    echo
    echo "| row | qemu-img ops/s | fio ops/s | granule ops/s | granule/qemu-img | granule/fio | targets | requests per run (q/f/g) |"
    echo "|---|---|---|---|---|---|---|---|"
    for r in "${rows[@]}"; do
        # shellcheck disable=SC2086
        label=$(label_of $r)
        rq=-; rf=-
        [ "${cell[$label,qemu-img]}" != - ] && rq=$(ratio_of "$label" qemu-img)
        [ "${cell[$label,fio]}" != - ] && rf=$(ratio_of "$label" fio)
        m=${mark[$label]:-none}
        [ "$m" = MISSED ] && m="**MISSED**"
        echo "| $label | ${cell[$label,qemu-img]} | ${cell[$label,fio]} | ${cell[$label,granule]} | $rq | $rf | $m |" \
            "${counts[$label,qemu-img]:--}/${counts[$label,fio]:--}/${counts[$label,granule]:--} |"
    done
    echo
    used_q=0; used_f=0
    for r in "${rows[@]}"; do
        # shellcheck disable=SC2086
        label=$(label_of $r)
        [ "${cell[$label,qemu-img]}" = - ] && used_q=1
        [ "${cell[$label,fio]}" = - ] && used_f=1
    done
    [ $used_q = 1 ] && echo "- \`-\` under qemu-img: $qemu_reason."
    [ $used_f = 1 ] && echo "- \`-\` under fio: $fio_reason."
    for e in "${notes[@]}"; do echo "- error: $e"; done
    [ "$rounds" -gt 1 ] && echo "- A cell is the median of $rounds runs, (-a/+b%) the slowest and fastest run around it."
    echo
    echo "Targets (issue 12): $met MET, $missed MISSED."
    for g in "${!groups[@]}"; do
        echo
        echo "${groups[$g]}:"
        any=0
        for t in "${targets[@]}"; do
            [ "${t%%|*}" = "$g" ] || continue
            t=${t#*|}
            echo "- ${t/#MISSED/**MISSED**}"
            any=1
        done
        [ $any = 1 ] || echo "- (no row of this target was run)"
    done
    if [ ${#unchecked[@]} -gt 0 ]; then
        echo
        echo "Not checked:"
        for t in "${unchecked[@]}"; do echo "- $t"; done
    fi
} >"$block"
cat "$block"

[ -z "$markdown" ] || markdown_replace "$markdown" run.sh "$block"
