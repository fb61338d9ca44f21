#!/usr/bin/env bash
# granule-img info names where each limit comes from, also for the core's
# own: a backing node's overlay-granularity raises request_alignment, and
# the backing tree, copy-on-read and throttle lines are listed; its format
# line names a recognised container, format=raw, or no signature.
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

# The format line: what the bytes were taken for, and how that was decided.
printf 'QFI\373\0\0\0\3' >"$tmp/t.qcow2"
truncate -s 64k "$tmp/t.qcow2"
check_format() {  # spec expected-line
    local got
    got=$("$GI" info "$1" 2>&1 | grep '^format: ') || got="(no format line)"
    [ "$got" = "$2" ] || { echo "FAIL: $1: '$got', expected '$2'"; failures=$((failures + 1)); }
}
check_format "$tmp/t.qcow2" "format: qcow2 (recognised: magic 'QFI\xfb' at offset 0, version 3; writes are refused unless opened with format=raw)"
check_format "filename=$tmp/t.qcow2,format=raw" "format: raw (given: format=raw)"
check_format "$tmp/base.img" "format: raw (no signature in the first 512 bytes; writes that would put one there are refused)"
check_format "driver=memory,size=100" "format: raw (no signature in the first 100 bytes; writes that would put one there are refused)"
[ "$failures" -eq 0 ] || exit 1
echo "info checks passed"
