#!/usr/bin/env bash
# NBD servers side by side: granule-nbd, qemu-nbd and nbdkit's file plugin
# serving ONE 4096-sector loop device (--direct-io=on, urandom-filled), each
# on its own Unix socket, driven by the same clients:
#   fio's nbd engine (libnbd): randread / randwrite x 4k, 512 B x QD1, QD32
#     for --seconds T (default 2) each; 512 B requests land at any multiple
#     of 512, so 7 in 8 are not aligned to the device's 4096 bytes;
#   nbdcopy: the whole export to null: (read), a urandom file of half the
#     export's size from tmpfs onto it with --flush (write); MiB/s.
# Servers: granule-nbd (raw-posix, cache.direct=on: O_DIRECT, io_uring),
# qemu-nbd 7.2 (-f raw --cache=none --aio=io_uring -e 16), nbdkit 1.32 file
# plugin (its release has no O_DIRECT: it goes through the page cache, which
# the others bypass). Rows are generated (client x op x size x depth); each
# row runs the servers alternately for R rounds (default 3) and shows the
# median, ratios of medians. A server that refuses a row shows `error`, with
# its first message under the table.
#
#   bench/nbd.sh [--rounds R] [--seconds T] [--size-mib M] [--only REGEX]
#                [--markdown FILE | --update-docs]        (root: loop device)
set -euo pipefail

rounds=3
seconds=2
size_mib=512
only=""
markdown=""
while [ $# -gt 0 ]; do
    case $1 in
    --rounds) rounds=${2?}; shift 2 ;;
    --seconds) seconds=${2?}; shift 2 ;;
    --size-mib) size_mib=${2?}; shift 2 ;;
    --only) only=${2?}; shift 2 ;;
    --markdown) markdown=${2?}; shift 2 ;;
    --update-docs) markdown="$(cd "$(dirname "$0")/.." && pwd)/docs/benchmarks.md"; shift ;;
    *) echo "unknown argument $1 (see the header of $0)" >&2; exit 2 ;;
    esac
done

# shellcheck source=common.sh
. "$(dirname "$0")/common.sh" fio qemu-utils nbdkit libnbd-bin jq
[ -z "$markdown" ] || markdown_check "$markdown" nbd.sh
nbd_server="$build/tools/granule-nbd/granule-nbd"
bench_loop "$size_mib" nbd
echo "filling $loop ($size_mib MiB) from /dev/urandom" >&2
dd if=/dev/urandom of="$loop" bs=1M count="$size_mib" oflag=direct status=none
src=$(mktemp /dev/shm/granule-nbd-src.XXXXXX)
head -c $((size_mib / 2))M /dev/urandom >"$src"
servers=(granule qemu-nbd nbdkit)
declare -A pid

start() {  # server
    local sock=$work/$1.sock
    rm -f "$sock"
    case $1 in
    granule) "$nbd_server" -k "$sock" "driver=raw-posix,filename=$loop,cache.direct=on" 2>"$work/$1.log" & ;;
    qemu-nbd) qemu-nbd -f raw --cache=none --aio=io_uring -e 16 -t -k "$sock" "$loop" 2>"$work/$1.log" & ;;
    nbdkit) nbdkit -f -U "$sock" file "$loop" 2>"$work/$1.log" & ;;
    esac
    pid[$1]=$!
    for _ in $(seq 100); do [ -S "$sock" ] && return; sleep 0.05; done
    echo "$1 did not listen: $(cat "$work/$1.log")" >&2
    exit 1
}
stop_all() {
    local s
    for s in "${!pid[@]}"; do kill "${pid[$s]}" 2>/dev/null || true; wait "${pid[$s]}" 2>/dev/null || true; done
    rm -f "${src:-}"
    bench_cleanup
}
trap stop_all EXIT INT TERM
for s in "${servers[@]}"; do start "$s"; done

# One measurement: prints the number, or "error: MESSAGE".
measure() {  # server client op size depth
    local uri="nbd+unix:///?socket=$work/$1.sock" t0 t1
    case $2 in
    fio)
        if ! fio --name=b --ioengine=nbd --uri="$uri" --rw="$3" --bs="$4" --iodepth="$5" \
            --size="${size_mib}M" --time_based --runtime="$seconds" --output-format=json \
            --output="$work/fio.json" >"$work/fio.err" 2>&1; then
            echo "error: $(grep -m1 -v '^fio: connected' "$work/fio.err" || true)"
            return
        fi
        jq -r '(.jobs[0].read.iops + .jobs[0].write.iops) | floor' "$work/fio.json"
        ;;
    nbdcopy)
        t0=$(date +%s%N)
        if [ "$3" = read ]; then
            nbdcopy "$uri" null: 2>"$work/copy.err" || { echo "error: $(head -n1 "$work/copy.err")"; return; }
            t1=$(date +%s%N)
            awk -v b=$((size_mib << 20)) -v ns=$((t1 - t0)) 'BEGIN { printf "%d\n", b / 1048576 / (ns / 1e9) }'
        else
            nbdcopy --flush "$src" "$uri" 2>"$work/copy.err" || { echo "error: $(head -n1 "$work/copy.err")"; return; }
            t1=$(date +%s%N)
            awk -v b=$(((size_mib / 2) << 20)) -v ns=$((t1 - t0)) 'BEGIN { printf "%d\n", b / 1048576 / (ns / 1e9) }'
        fi
        ;;
    esac
}

rows=()
for op in randread randwrite; do
    for size in 4096 512; do
        for depth in 1 32; do rows+=("fio $op $size $depth"); done
    done
done
rows+=("nbdcopy read - -" "nbdcopy write - -")

declare -A median notes
for row in "${rows[@]}"; do
    read -r client op size depth <<<"$row"
    [ -z "$only" ] || grep -qE "$only" <<<"$row" || continue
    declare -A runs=()
    for r in $(seq "$rounds"); do
        for s in "${servers[@]}"; do
            v=$(measure "$s" "$client" "$op" "$size" "$depth")
            echo "$row round $r $s: $v" >&2
            if [[ $v == error* ]]; then
                notes[$s,$row]=$v
            else
                runs[$s]="${runs[$s]:-} $v"
            fi
        done
    done
    for s in "${servers[@]}"; do
        if [ -n "${notes[$s,$row]:-}" ]; then
            median[$s,$row]=error
        else
            # shellcheck disable=SC2086
            median[$s,$row]=$(stats ${runs[$s]} | cut -d' ' -f1)
        fi
    done
done

block=$work/block.md
{
    echo "Run $(date -u +%Y-%m-%d), $(uname -r), $(nproc) CPUs, $size_mib MiB loop device with 4096-byte"
    echo "sectors; $rounds rounds, servers alternating; fio rows ${seconds} s each (ops/s),"
    echo "nbdcopy rows MiB/s. Ratios are granule-nbd's median over the other server's."
    echo
    echo "| client | op | size | QD | granule-nbd | qemu-nbd | nbdkit file | granule/qemu-nbd | granule/nbdkit |"
    echo "|---|---|---|---|---|---|---|---|---|"
    for row in "${rows[@]}"; do
        [ -n "${median[granule,$row]:-}" ] || continue
        read -r client op size depth <<<"$row"
        g=${median[granule,$row]} q=${median[qemu-nbd,$row]} k=${median[nbdkit,$row]}
        echo "| $client | $op | $size | $depth | $g | $q | $k | $(ratio "$g" "$q") | $(ratio "$g" "$k") |"
    done
    echo
    for key in "${!notes[@]}"; do echo "- ${key%%,*} on \`${key#*,}\`: ${notes[$key]}"; done | sort
} >"$block"
cat "$block"
[ -z "$markdown" ] || markdown_replace "$markdown" nbd.sh "$block"
