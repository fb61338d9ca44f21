#!/usr/bin/env bash
# The manual pages built from docs/ (tools/md2man): groff renders them
# without a warning (all of groff's with -ww, and man's at 80 and 120
# columns), and they document what the tools' help prints: every
# granule-img command has its section and every granule-io shell command
# its entry, and every option in `--help`, each command's `--help` and the
# shell's `help` appears in the page; with GRANULE_NBD, granule-nbd's page
# and options too. tests/sdk/run.sh runs it on the installed pages too.
#
#   test_man_pages.sh GRANULE_IMG GRANULE_IO MAN1_DIR [GRANULE_NBD]
set -uo pipefail
GI=${1:?usage: $0 GRANULE_IMG GRANULE_IO MAN1_DIR}
GIO=${2:?}
MAN1=${3:?}
GNBD=${4:-}
command -v groff >/dev/null || { echo "FAIL: groff is needed (groff-base)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# The options a help text names: -x, --long (up to '=' or a space), bundles
# (-qv) as written.
options_of() { grep -oE '(^|[^A-Za-z0-9_-])--?[A-Za-z][A-Za-z0-9-]*' | sed -E 's/^[^-]//' | sort -u; }
word_in() {  # WORD FILE: WORD, not as part of a longer option or name
    grep -qE -- "(^|[^A-Za-z0-9_-])$1([^A-Za-z0-9_-]|$)" "$2"
}

render() {  # PAGE OUT: the plain text, no line-wrapping to split an option
    local page=$1 out=$2 warnings
    warnings=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
    [ -z "$warnings" ] || fail "$(basename "$page"): groff warns: $warnings"
    if command -v man >/dev/null; then
        for width in 80 120; do
            warnings=$(MANWIDTH=$width man --warnings -l "$page" 2>&1 >/dev/null)
            [ -z "$warnings" ] || fail "$(basename "$page"): man at $width columns warns: $warnings"
        done
    fi
    groff -man -Tutf8 -rLL=250n -P-cbou "$page" 2>/dev/null >"$out"
    grep -q '^NAME' "$out" && grep -q '^SYNOPSIS' "$out" || fail "$(basename "$page"): no NAME or SYNOPSIS"
}

documented() {  # WHAT PAGE_TEXT: every option read on stdin is in the page
    local what=$1 text=$2 opt
    while read -r opt; do
        word_in "$opt" "$text" || fail "$(basename "$text" .txt): $what prints '$opt', the man page does not"
    done
}

tools=(granule-img granule-io)
[ -z "$GNBD" ] || tools+=(granule-nbd)
for t in "${tools[@]}"; do
    [ -f "$MAN1/$t.1" ] || { fail "no $MAN1/$t.1"; continue; }
    render "$MAN1/$t.1" "$tmp/$t.txt"
done

if [ -f "$tmp/granule-img.txt" ]; then
    "$GI" --help >"$tmp/help" || fail "granule-img --help: exit $?"
    documented "granule-img --help" "$tmp/granule-img.txt" < <(options_of <"$tmp/help")
    commands=$(sed -n '/^commands:/,/^$/s/^  \([a-z]\+\) .*/\1/p' "$tmp/help")
    [ -n "$commands" ] || fail "no commands in granule-img --help"
    for c in $commands; do
        grep -qx "$c" "$tmp/granule-img.txt" || fail "granule-img.1 has no section '$c' (docs/granule-img.md: ## $c)"
        "$GI" "$c" --help >"$tmp/help.$c" 2>&1 || fail "granule-img $c --help: exit $?"
        documented "granule-img $c --help" "$tmp/granule-img.txt" < <(options_of <"$tmp/help.$c")
    done
fi

if [ -f "$tmp/granule-io.txt" ]; then
    "$GIO" --help >"$tmp/help" || fail "granule-io --help: exit $?"
    documented "granule-io --help" "$tmp/granule-io.txt" < <(options_of <"$tmp/help")
    "$GIO" -c help >"$tmp/shell-help" || fail "granule-io -c help: exit $?"
    [ -s "$tmp/shell-help" ] || fail "granule-io -c help printed nothing"
    # An entry: a definition (.TP) whose term (one of its terms) is the command.
    while read -r c _; do
        grep -A1 -x '\.TP' "$MAN1/granule-io.1" | grep -qE "(^|, )\\\\fB$c( |\\\\f)" ||
            fail "granule-io.1 has no entry for the command '$c' (docs/granule-io.md: \`$c ...\` then ': ...')"
    done <"$tmp/shell-help"
    documented "granule-io's help" "$tmp/granule-io.txt" < <(sed 's/ -- .*//' "$tmp/shell-help" | options_of)
fi
if [ -f "$tmp/granule-nbd.txt" ]; then
    "$GNBD" --help >"$tmp/help" || fail "granule-nbd --help: exit $?"
    documented "granule-nbd --help" "$tmp/granule-nbd.txt" < <(options_of <"$tmp/help")
fi
[ "$failures" -eq 0 ] || exit 1
echo "man pages render cleanly and document every command and option: $MAN1"
