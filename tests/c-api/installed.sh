#!/usr/bin/env bash
# The C API as a user gets it: from an installed prefix alone, through
# pkg-config granule-c. Builds tests/c-api/test_c_api.c and examples/c (its
# Makefile: the example and the programs docs/c-api.md quotes) with the given compiler flags (the ASan job passes
# -fsanitize=...), runs both with an empty environment, and checks
# libgranule-c's exports: every function granule.h declares, each under
# GRANULE_C_1.0, and nothing else.
#
#   tests/c-api/installed.sh PREFIX [CFLAG...]
# Exit 0: passed; 1: a check failed (named on stderr).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source_dir=$(cd "$here/../.." && pwd)
prefix=$(cd "$1" && pwd)
shift
cflags=("$@")
work=$(mktemp -d "${TMPDIR:-/tmp}/granule-c-installed.XXXXXX")
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: c-api installed: $*" >&2; failures=$((failures + 1)); }
pass() { echo "ok: c-api installed: $*" >&2; }
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
pkg-config --exists granule-c || { fail "pkg-config finds no granule-c in $PKG_CONFIG_PATH"; exit 1; }
libdir=$(pkg-config --variable=libdir granule-c)
# What the sanitizers need passed through env -i.
keep=()
for v in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS; do
    [ -n "${!v:-}" ] && keep+=("$v=${!v}")
done

# The sources are copied out of the tree: nothing may come from it.
cp "$here/test_c_api.c" "$here/headers_c99.c" "$work/"
cp -r "$source_dir/examples/c" "$work/example"
if cc -std=c11 -Wall -Wextra -Werror -g "${cflags[@]}" $(pkg-config --cflags granule-c) \
        -o "$work/test_c_api" "$work/test_c_api.c" "$work/headers_c99.c" \
        $(pkg-config --libs granule-c) -pthread -Wl,-rpath,"$libdir" 2>"$work/cc.log"; then
    if env -i "${keep[@]}" "$work/test_c_api" >"$work/test.log" 2>&1; then
        pass "test_c_api: $(grep -c '^PASS' "$work/test.log") tests passed"
    else
        cat "$work/test.log" >&2
        fail "test_c_api failed"
    fi
else
    cat "$work/cc.log" >&2
    fail "test_c_api does not build with pkg-config granule-c"
fi
if make -s -C "$work/example" CFLAGS="-O1 -g -Wall -Wextra -Werror ${cflags[*]}" >"$work/make.log" 2>&1; then
    # Each program exits 0 when it saw the bytes it wrote; the output names it.
    for p in granule-c-example:'^64 asynchronous reads completed, 0 failed' first:'^byte-granular$' \
            limits_stats:'^request_alignment=4096 (blkdebug: option align)$' \
            async_poll:'^1000 writes completed, 0 failed$'; do
        if env -i "${keep[@]}" "$work/example/${p%%:*}" >"$work/example.log" 2>&1 &&
                grep -q "${p#*:}" "$work/example.log"; then
            pass "examples/c/${p%%:*} built with make and pkg-config, and ran"
        else
            cat "$work/example.log" >&2
            fail "examples/c/${p%%:*} failed"
        fi
    done
else
    cat "$work/make.log" >&2
    fail "examples/c does not build"
fi

# Exports: exactly granule.h's functions, versioned.
lib=$(readlink -f "$libdir/libgranule-c.so")
declared=$(grep -o 'GRANULE_C_API [^(]*\bgranule_[a-z0-9_]*(' "$prefix/include/granule.h" |
    grep -o 'granule_[a-z0-9_]*' | sort)
exported=$(nm -D --defined-only "$lib" | awk '$2 == "T" {print $3}' | sort)
unversioned=$(grep -v '@@GRANULE_C_1\.0$' <<<"$exported" || true)
[ -z "$unversioned" ] || fail "exported outside GRANULE_C_1.0: $unversioned"
if [ "$(sed 's/@@.*//' <<<"$exported")" = "$declared" ]; then
    pass "libgranule-c exports the $(wc -l <<<"$declared") functions of granule.h, under GRANULE_C_1.0"
else
    fail "exports differ from granule.h's functions: $(diff <(echo "$declared") <(sed 's/@@.*//' <<<"$exported") | grep '^[<>]' | paste -sd' ')"
fi
soname=$(readelf -d "$lib" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
[ "$soname" = libgranule-c.so.1 ] || fail "soname '$soname', not libgranule-c.so.1"
exit $((failures != 0))
