#!/usr/bin/env bash
# The main job: build if needed, then show byte-granular I/O on a default
# image through blkdebug align=4096 over raw-posix.
set -euo pipefail
GRANULE_SOURCE_DIR=$(cd "$(dirname "$0")/.." && pwd)
. "$GRANULE_SOURCE_DIR/tools/deps.sh"
ensure_packages "${GRANULE_BUILD_PACKAGES[@]}"
build=${GRANULE_BUILD_DIR:-$GRANULE_SOURCE_DIR/build}
granule_build "$build"

image=${1:-$build/demo.img}
io="$build/tools/granule-io/granule-io"
spec="driver=blkdebug,align=4096,image.driver=raw-posix,image.filename=$image"
rm -f "$image"
truncate -s 1M "$image"
echo "== image: $image (1 MiB), every request aligned to 4096 by blkdebug"
set -x
"$io" --image-opts "$spec" \
    -c 'write -P 0x41 100 3000' \
    -c 'write -P 0x42 4000 200' \
    -c 'writev -P 0x43 8191 1 512 1000' \
    -c 'read -P 0x41 100 3000' \
    -c 'read -P 0x42 4000 200' \
    -c 'readv -P 0x43 8191 1 512 1000' \
    -c 'read -P 0 0 100' \
    -c 'read -v 4090 16' \
    -c 'info' \
    -c 'stats'
set +x
echo "== the same bytes seen by od (offset 4090, 16 bytes):"
od -A d -t x1 -j 4090 -N 16 "$image"
