#!/usr/bin/env bash
# Bash completion (tools/completion/granule.bash): sourced in bash, the
# completion functions run on a command line as bash hands it over
# (COMP_LINE, COMP_POINT) and COMPREPLY is checked: commands, options,
# --output= values, driver names from `granule-img drivers`, granule-io's
# shell commands after -c, modes, files. And it stays in step with the
# tools: every command of `granule-img --help` and every option of every
# --help is offered.
#
#   test_completion.sh GRANULE_IMG GRANULE_IO COMPLETION_SCRIPT
set -uo pipefail
GI=${1:?usage: $0 GRANULE_IMG GRANULE_IO COMPLETION_SCRIPT}
GIO=${2:?}
SCRIPT=${3:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The tools by name on PATH, as a user has them.
mkdir "$tmp/bin"
ln -s "$GI" "$tmp/bin/granule-img"
ln -s "$GIO" "$tmp/bin/granule-io"
export PATH=$tmp/bin:$PATH
# shellcheck source=/dev/null
. "$SCRIPT" || { echo "FAIL: sourcing $SCRIPT"; exit 1; }
complete -p granule-img granule-io >/dev/null || { echo "FAIL: no complete -F for both tools"; exit 1; }
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

comp() {  # LINE: COMPREPLY as bash would get it with the cursor at the end
    COMP_LINE=$1
    COMP_POINT=${#1}
    COMPREPLY=()
    case $1 in
    granule-img*) _granule_img ;;
    granule-io*) _granule_io ;;
    esac
}
got() { printf '%s\n' "${COMPREPLY[@]}" | sort | paste -sd' '; }
is() {  # LINE WANT...: exactly these replies
    comp "$1"
    local line=$1 want
    shift
    want=$(printf '%s\n' "$@" | sort | paste -sd' ')
    [ "$(got)" = "$want" ] || fail "'$line<TAB>': '$(got)', expected '$want'"
}
has() {  # LINE WANT...: at least these replies
    comp "$1"
    local line=$1 w
    shift
    for w in "$@"; do
        printf '%s\n' "${COMPREPLY[@]}" | grep -qxF -- "$w" || fail "'$line<TAB>' does not offer '$w': $(got)"
    done
}

is "granule-img in" info
has "granule-img " info probe bench convert drivers --version -V --help
is "granule-img info --out" --output=
is "granule-img info --output=j" json
is "granule-img probe --output " human json
is "granule-img bench -c " 
is "granule-img info driver=me" memory
has "granule-img info driver=blkdebug,image.driver=" memory blkdebug raw-posix
is "granule-img convert driver=blkdebug,image.driver=memory,image.si"
has "granule-img drivers " memory blkdebug raw-posix
: >"$tmp/disk one.img"
mkdir "$tmp/dir"
is "granule-img info $tmp/dis" "$tmp/disk one.img"
is "granule-img info $tmp/di" "$tmp/disk one.img" "$tmp/dir"
is "granule-img info driver=raw-posix,filename=$tmp/dis" "$tmp/disk one.img"
is "granule-io -c wr" write writev
is "granule-io -c 'aio_f" aio_flush
is "granule-io -r -c \"re" read readv reopen remove_break resume
is "granule-io -t " none writeback writethrough directsync unsafe
is "granule-io --cache=write" writeback writethrough
is "granule-io -i n" native
is "granule-io --no-t" --no-timing
is "granule-io --image-opts driver=nu" null-c
is "granule-io $tmp/dis" "$tmp/disk one.img"

# In step with the tools' help.
options_of() { grep -oE '(^|[^A-Za-z0-9_-])--?[A-Za-z][A-Za-z0-9-]*' | sed -E 's/^[^-]//' | sort -u; }
commands=$("$GI" --help | sed -n '/^commands:/,/^$/s/^  \([a-z]\+\) .*/\1/p')
[ -n "$commands" ] || fail "no commands in granule-img --help"
for c in $commands; do
    has "granule-img " "$c"
    comp "granule-img $c -"
    offered=" ${COMPREPLY[*]} "
    while read -r o; do
        [[ $offered == *" $o "* || $offered == *" $o= "* ]] ||
            fail "granule-img $c --help prints '$o'; completion offers: ${offered}"
    done < <("$GI" "$c" --help 2>&1 | options_of)
done
comp "granule-io -"
offered=" ${COMPREPLY[*]} "
while read -r o; do
    [[ $offered == *" $o "* ]] || fail "granule-io --help prints '$o'; completion offers: $offered"
done < <("$GIO" --help | grep -E '^  -' | options_of)  # the option lines, not the prose
comp "granule-io -c "
[ "${#COMPREPLY[@]}" = "$("$GIO" -c help | wc -l)" ] || fail "granule-io -c <TAB>: ${#COMPREPLY[@]} commands, help lists $("$GIO" -c help | wc -l)"
[ "$failures" -eq 0 ] || exit 1
echo "completion checks passed"
