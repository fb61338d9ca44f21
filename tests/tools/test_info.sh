#!/usr/bin/env bash
# granule-img info names where each limit comes from, also for the core's
# own: a backing node's overlay-granularity raises request_alignment, and
# the backing tree, copy-on-read and throttle lines are listed.
#
#   test_info.sh GRANULE_IMG
set -uo pipefail
GI=${1:?usage: $0 GRANULE_IMG}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
head -c 100000 /dev/urandom >"$tmp/base.img"
: >"$tmp/overlay.img"
out=$("$GI" info "driver=raw-posix,filename=$tmp/overlay.img,backing.filename=$tmp/base.img,copy-on-read=on,overlay-granularity=128k,throttle.iops-write=50" 2>&1) ||
    { echo "$out"; echo "FAIL: granule-img info exited non-zero"; exit 1; }
failures=0
for want in '^backing: raw-posix \(filename=' '^copy-on-read: on \(overlay-granularity 131072\)$' \
    '^throttle: iops-write=50,burst-ms=100$' '^length: 100000$' \
    '^  request_alignment: 131072 \(core: overlay-granularity\)$' \
    '^  pwrite_zeroes_alignment: 131072 \(core: request_alignment\)$' \
    '^  min_mem_alignment: 1 \(raw-posix: buffered\)$' '^  max_iov: 1024 \(raw-posix: IOV_MAX\)$'; do
    grep -qE "$want" <<<"$out" || { echo "FAIL: no line matching '$want'"; failures=$((failures + 1)); }
done
[ "$failures" -eq 0 ] || { sed 's/^/   | /' <<<"$out"; exit 1; }
echo "info checks passed"
