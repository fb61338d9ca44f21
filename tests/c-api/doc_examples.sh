#!/usr/bin/env bash
# docs/c-api.md's C examples, compiled and run: every ```c block (but one
# after `<!-- no-test -->`) is a whole program, built as strict C99 against
# the build's granule.h and libgranule-c, and must exit 0; where the doc says
# what it prints (a line "prints", then a plain ``` block), the output must
# be exactly that.
#   doc_examples.sh DOC INCLUDE_DIR... -- LIBDIR
set -euo pipefail
doc=$1
shift
includes=()
while [ "$1" != -- ]; do includes+=("-I$1"); shift; done
libdir=$2
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/granule-c-doc.XXXXXX")
trap 'rm -rf "$work"' EXIT
python3 "$here/../docs/extract_blocks.py" "$doc" c "$work"
# The expected outputs, numbered as extract_blocks numbers the c blocks
# (a no-test block still counts, so the numbers agree).
awk -v dir="$work" '
    /^```c$/ { n++; last = n; next }
    /^prints$/ { want = last; next }
    /^```$/ && want && !in_out { in_out = 1; f = sprintf("%s/%02d.expected", dir, want); printf "" > f; next }
    /^```$/ && in_out { in_out = 0; want = 0; close(f); next }
    in_out { print > f }
' "$doc"
failures=0
count=0
for src in "$work"/*.c; do
    [ -e "$src" ] || break
    count=$((count + 1))
    exe=${src%.c}
    if ! cc -std=c99 -pedantic -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L "${includes[@]}" \
            -o "$exe" "$src" -L"$libdir" -lgranule-c -Wl,-rpath,"$libdir" 2>"$exe.cc"; then
        echo "FAIL: $doc example $(basename "$src"): does not compile:" >&2
        cat "$exe.cc" >&2
        failures=$((failures + 1))
        continue
    fi
    if ! "$exe" >"$exe.out" 2>&1; then
        echo "FAIL: $doc example $(basename "$src") exited non-zero:" >&2
        cat "$exe.out" >&2
        failures=$((failures + 1))
    elif [ -f "$exe.expected" ] && ! diff -u "$exe.expected" "$exe.out" >&2; then
        echo "FAIL: $doc example $(basename "$src") printed other than the doc says" >&2
        failures=$((failures + 1))
    fi
done
[ "$count" -gt 0 ] || { echo "FAIL: no c examples in $doc" >&2; exit 1; }
echo "$count examples of $doc compiled and ran, $failures failed"
exit $((failures != 0))
