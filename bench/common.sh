# Sourced by the bench/*.sh scripts: the build, the packages, and a
# 4096-sector loop device that is always detached again.
#
#   . "$(dirname "$0")/common.sh" EXTRA_PACKAGE...
#       -> GRANULE_SOURCE_DIR, build, img_tool (granule-img)
#   bench_loop SIZE_MIB NAME
#       -> work (a temporary directory), loop (the device); both go at exit
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
