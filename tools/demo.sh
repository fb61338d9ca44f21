#!/usr/bin/env bash
# The main job: build if needed, then show byte-granular I/O on a default
# image through blkdebug align=4096 over raw-posix; then the image as the
# backing of an empty overlay (copy-on-read) and a sparse convert of it.
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

# The same image as the read-only backing of an empty sparse overlay, filled
# as it is read (copy-on-read), then copied sparse with granule-img convert.
overlay="${image%.img}-overlay.img"
copy="${image%.img}-copy.img"
img="$build/tools/granule-img/granule-img"
rm -f "$overlay" "$copy"
: >"$overlay"
echo "== $overlay: empty, over $image as its backing, copy-on-read"
set -x
"$io" --image-opts "driver=raw-posix,filename=$overlay,backing.filename=$image,copy-on-read=on" \
    -c 'read -P 0x42 4000 200' \
    -c 'write -P 0x44 70000 10' \
    -c 'stats'
"$img" convert "$overlay" "$copy"
set +x
echo "== $copy: $(stat -c %s "$copy") bytes, $(( $(stat -c %b "$copy") * 512 )) allocated;"
echo "   bytes that differ from $image (the 10-byte 0x44 write): $(cmp -l "$image" "$copy" | wc -l)"
