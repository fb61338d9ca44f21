#!/usr/bin/env bash
# Every ```c, ```cpp, ```c++ and ```python block of README.md and docs/**/*.md must occur
# verbatim, as contiguous lines, in some file under examples/ (not its *.md):
# CI compiles those (and runs the Python ones), so a block found there is code that works. A block that
# drifted from its source fails, naming the block (file:line of its opening
# fence), the first line of it that differs and where the longest matching run
# of its lines was found. Prints how many blocks it checked.
#
#   test_doc_snippets.sh SOURCE_DIR
#
# Matching is exact (indentation and trailing blanks included); only a
# trailing \r is ignored, and a fence indented by N spaces (inside a list)
# has up to N leading spaces stripped from its lines, as Markdown does.
set -uo pipefail
src=${1:?usage: $0 SOURCE_DIR}
cd "$src" || exit 2
if [ ! -f README.md ] || [ ! -d docs ] || [ ! -d examples ]; then
    echo "$0: $src has no README.md, docs/ and examples/" >&2
    exit 2
fi

docs=(README.md)
while IFS= read -r f; do docs+=("$f"); done < <(find docs -type f -name '*.md' | LC_ALL=C sort)
# Text files only (grep -I skips binaries, e.g. a build tree inside examples/),
# and no Markdown: a block copied into examples/README.md proves nothing.
examples=()
while IFS= read -r f; do examples+=("$f"); done < <(grep -rIl --exclude='*.md' '' examples | LC_ALL=C sort)
[ "${#examples[@]}" -gt 0 ] || { echo "$0: no files under $src/examples" >&2; exit 2; }

# POSIX awk (Debian's default is mawk): no regex intervals, and every
# comparison of lines is forced to a string comparison ("" concatenated),
# since awk compares two numeric-looking strings as numbers.
awk '
function fence(line,    ind, rest, ch, n, info) {
    # Sets F_IND, F_CH, F_LEN, F_INFO when line opens or closes a fence.
    match(line, /^ */)
    ind = RLENGTH
    rest = substr(line, ind + 1)
    ch = substr(rest, 1, 1)
    if (ch != "`" && ch != "~")
        return 0
    n = 0
    while (substr(rest, n + 1, 1) == ch)
        n++
    if (n < 3)
        return 0
    info = substr(rest, n + 1)
    if (ch == "`" && index(info, "`"))
        return 0
    sub(/^[ \t]+/, "", info)
    sub(/[ \t{].*$/, "", info)
    F_IND = ind; F_CH = ch; F_LEN = n; F_INFO = tolower(info)
    return 1
}
function closes(line,    rest) {
    # A closing fence: the opening character, at least as many, then blanks.
    if (!fence(line) || F_CH != open_ch || F_LEN < open_len)
        return 0
    rest = line
    sub(/^ */, "", rest)
    rest = substr(rest, F_LEN + 1)
    return rest ~ /^[ \t]*$/
}
FNR == 1 { in_fence = 0 }
{ sub(/\r$/, "") }
kind == "example" {
    ex_n[FILENAME]++
    ex_line[FILENAME, ex_n[FILENAME]] = $0 ""
    next
}
in_fence {
    if (closes($0)) {
        in_fence = 0
        if (checked_block) blk_done[nblk] = 1
        next
    }
    if (checked_block) {
        s = $0; k = 0
        while (k < open_ind && substr(s, 1, 1) == " ") { s = substr(s, 2); k++ }
        blk_n[nblk]++
        blk_line[nblk, blk_n[nblk]] = s ""
    }
    next
}
fence($0) {
    in_fence = 1; open_ch = F_CH; open_len = F_LEN; open_ind = F_IND
    checked_block = (F_INFO == "c" || F_INFO == "cpp" || F_INFO == "c++" || F_INFO == "python")
    if (checked_block) {
        nblk++
        blk_file[nblk] = FILENAME; blk_start[nblk] = FNR; blk_lang[nblk] = F_INFO
        blk_n[nblk] = 0; blk_done[nblk] = 0
    }
}
END {
    failed = 0
    for (b = 1; b <= nblk; b++) {
        where = blk_file[b] ":" blk_start[b] ": ```" blk_lang[b] " block"
        if (!blk_done[b]) {
            printf "FAIL: %s: no closing fence\n", where > "/dev/stderr"
            failed++
            continue
        }
        n = blk_n[b]
        best = -1; found = (n == 0)
        for (f in ex_n) {
            for (i = 1; i <= ex_n[f] && !found; i++) {
                k = 0
                while (k < n && i + k <= ex_n[f] && ex_line[f, i + k] == blk_line[b, k + 1])
                    k++
                if (k == n)
                    found = 1
                else if (k > best || (k == best && (f < best_f || (f == best_f && i < best_i)))) {
                    best = k; best_f = f; best_i = i
                }
            }
            if (found)
                break
        }
        if (found)
            continue
        failed++
        printf "FAIL: %s (%d lines) is not verbatim in any file under examples/\n", where, n > "/dev/stderr"
        printf "  first line that differs: %s:%d: %s\n", blk_file[b], blk_start[b] + best + 1,
               blk_line[b, best + 1] > "/dev/stderr"
        if (best == 0)
            printf "  no file under examples/ has that line where this block could start\n" > "/dev/stderr"
        else if (best_i + best <= ex_n[best_f])
            printf "  the lines before it match %s:%d-%d, where the next line is: %s\n",
                   best_f, best_i, best_i + best - 1, ex_line[best_f, best_i + best] > "/dev/stderr"
        else
            printf "  the lines before it match %s:%d-%d, the end of that file\n",
                   best_f, best_i, best_i + best - 1 > "/dev/stderr"
    }
    printf "checked %d C/C++ block(s) in README.md and docs/: %d not found verbatim under examples/\n",
           nblk, failed
    exit failed ? 1 : 0
}
' kind=example "${examples[@]}" kind=doc "${docs[@]}"
