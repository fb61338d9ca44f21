# Sourced by the bench/*.sh scripts: the build, the packages, and a
# 4096-sector loop device that is always detached again.
#
#   . "$(dirname "$0")/common.sh" EXTRA_PACKAGE...
#       -> GRANULE_SOURCE_DIR, build, img_tool (granule-img)
#   bench_loop SIZE_MIB NAME
#       -> work (a temporary directory), loop (the device); both go at exit
#   stats N...           -> "median min max"
#   ratio A B            -> A/B to 2 decimals, or "error" when B is not > 0
#   markdown_check FILE NAME / markdown_replace FILE NAME BLOCK
#       the lines between `<!-- bench/NAME begin -->` and `<!-- bench/NAME
#       end -->` in FILE: check that they are there / replace them by BLOCK
GRANULE_SOURCE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$GRANULE_SOURCE_DIR/tools/deps.sh"
ensure_packages "${GRANULE_BUILD_PACKAGES[@]}" "$@"
build=${GRANULE_BUILD_DIR:-$GRANULE_SOURCE_DIR/build}
granule_build "$build"
img_tool="$build/tools/granule-img/granule-img"

bench_loop() {  # size-mib name
    [ "$(id -u)" -eq 0 ] || { echo "$2 needs root (loop devices)" >&2; exit 1; }
    work=$(mktemp -d "/var/tmp/granule-$2.XXXXXX")
    loop=""
    trap 'bench_cleanup' EXIT INT TERM
    truncate -s "${1}M" "$work/backing.img"
    loop=$(losetup -f --show --sector-size 4096 --direct-io=on "$work/backing.img")
}

bench_cleanup() {
    [ -n "${loop:-}" ] && losetup -d "$loop" 2>/dev/null || true
    rm -rf "${work:-}"
}

# median min max of the numbers given.
stats() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
    m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "%.0f %.0f %.0f\n", m, v[1], v[NR] }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "error" }'; }

markdown_check() {  # file name
    local b="<!-- bench/$2 begin -->" e="<!-- bench/$2 end -->"
    if ! grep -qxF "$b" "$1" 2>/dev/null || ! grep -qxF "$e" "$1"; then
        echo "--markdown $1: no '$b' ... '$e' lines to replace" >&2
        exit 2
    fi
}
markdown_replace() {  # file name block-file
    local out
    out=$(mktemp)
    awk -v b="<!-- bench/$2 begin -->" -v e="<!-- bench/$2 end -->" -v f="$3" '
        $0 == b { print; while ((getline l < f) > 0) print l; skip = 1; next }
        $0 == e { skip = 0 }
        !skip' "$1" >"$out"
    cat "$out" >"$1"
    rm -f "$out"
    echo "updated $1" >&2
}
