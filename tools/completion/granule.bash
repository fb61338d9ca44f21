# Bash completion for granule-img and granule-io. Installed as
# share/bash-completion/completions/granule-img and .../granule-io (the same
# file under both names, as bash-completion loads it by command name); or
# source it. Completes commands, options, option values, driver names
# (after driver=, from `granule-img drivers`), granule-io's shell commands
# after -c (from `granule-io -c help`), and files.
#
# Words are taken from COMP_LINE up to the cursor, split at blanks only, so
# `--output=js` and `image.driver=me` are one word here although bash splits
# them at '=' (COMP_WORDBREAKS); the replies are then cut back to the part
# bash replaces.

# The words up to the cursor: _granule_words (the current one last, "" after
# a blank).
_granule_split() {
    local line=${COMP_LINE:0:COMP_POINT}
    read -ra _granule_words <<<"$line"
    [[ $line =~ [[:space:]]$ || ${#_granule_words[@]} -eq 0 ]] && _granule_words+=("")
}

# COMPREPLY from candidates that complete cur (the whole word), each cut
# to what bash replaces: the text after the last COMP_WORDBREAKS character
# in cur.
_granule_reply() {  # cur candidates...
    local cur=$1 c keep=
    shift
    local i
    for ((i = ${#cur} - 1; i >= 0; i--)); do
        if [[ $COMP_WORDBREAKS == *"${cur:i:1}"* ]]; then
            keep=${cur:0:i+1}
            break
        fi
    done
    COMPREPLY=()
    for c in "$@"; do
        [[ $c == "$cur"* ]] && COMPREPLY+=("${c#"$keep"}")
    done
}

# Driver names, from `granule-img drivers` (next to the completed tool, else
# on PATH).
_granule_drivers() {  # tool-path
    local gi=granule-img dir
    dir=$(dirname -- "$1")
    [[ $1 == */* && -x $dir/granule-img ]] && gi=$dir/granule-img
    [[ $1 == */* && -x $dir/../granule-img/granule-img ]] && gi=$dir/../granule-img/granule-img
    "$gi" drivers 2>/dev/null | sed -n 's/^\([A-Za-z0-9_.-]\{1,\}\): .*/\1/p'
}

# A SPEC being typed: driver names after driver= (any node's), files after
# filename= or for a plain SPEC. Sets COMPREPLY.
_granule_spec() {  # tool cur
    local tool=$1 cur=$2
    if [[ $cur =~ ^(.*[,])?([A-Za-z0-9_.-]*\.)?driver=([^,]*)$ ]]; then
        local head=${cur%"${BASH_REMATCH[3]}"} d names=()
        for d in $(_granule_drivers "$tool"); do names+=("$head$d"); done
        _granule_reply "$cur" "${names[@]}"
        compopt -o nospace 2>/dev/null
    elif [[ $cur =~ ^(.*[,=])?([A-Za-z0-9_.-]*\.)?filename=([^,]*)$ || $cur =~ ^(.*,)?(backing)=([^,]*)$ ]]; then
        local head=${cur%"${BASH_REMATCH[3]}"} f files=()
        while IFS= read -r f; do
            [[ -d $f ]] && f+=/
            files+=("$head$f")
        done < <(compgen -f -- "${BASH_REMATCH[3]}")
        _granule_reply "$cur" "${files[@]}"
        compopt -o nospace 2>/dev/null
    elif [[ $cur == *=* || $cur == *,* ]]; then
        COMPREPLY=()  # an option's value: nothing to offer
    else
        compopt -o filenames 2>/dev/null
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
    fi
}

_granule_img() {
    local _granule_words
    _granule_split
    local n=${#_granule_words[@]}
    local tool=${_granule_words[0]} cur=${_granule_words[n - 1]} prev=
    ((n > 1)) && prev=${_granule_words[n - 2]}
    local commands="info probe bench convert drivers"
    if ((n == 2)); then
        _granule_reply "$cur" $commands -V --version -h --help
        return
    fi
    local sub=${_granule_words[1]} opts valued
    case $sub in
    info) opts="--image-opts -r --read-only --output= -h --help" valued= ;;
    probe) opts="-r --read-only --no-write --write-test --output= -h --help" valued= ;;
    bench)
        opts="-c -d -s -o -S -g -m -w -r -P --seed --no-flush --image-opts --output= -h --help"
        valued=" -c -d -s -o -S -g -m -P --seed "
        ;;
    convert)
        opts="-n -p -S -c -m --image-opts --target-image-opts -h --help"
        valued=" -S -c -m "
        ;;
    drivers)
        [[ $cur == -* ]] && { _granule_reply "$cur" -h --help; return; }
        _granule_reply "$cur" $(_granule_drivers "$tool")
        return
        ;;
    *) COMPREPLY=(); return ;;
    esac
    if [[ $cur == --output=* ]]; then
        _granule_reply "$cur" --output=human --output=json
    elif [[ $prev == --output ]]; then
        _granule_reply "$cur" human json
    elif [[ $valued == *" $prev "* ]]; then
        COMPREPLY=()  # a number or size
    elif [[ $cur == -* ]]; then
        _granule_reply "$cur" $opts
        [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *= ]] && compopt -o nospace 2>/dev/null
    else
        _granule_spec "$tool" "$cur"
    fi
}

_granule_io() {
    local _granule_words
    _granule_split
    local n=${#_granule_words[@]}
    local tool=${_granule_words[0]} cur=${_granule_words[n - 1]} prev=
    ((n > 1)) && prev=${_granule_words[n - 2]}
    local opts="-c --cmd -r --read-only --image-opts --no-timing --line-buffered --error-detail -h --help -V --version
        -f --format -t --cache -n --nocache -i --aio -k --native-aio -m --misalign
        -C --copy-on-read -d --discard -U --force-share -T --trace --object -s --snapshot"
    local value=$cur option=$prev
    if [[ $cur == --*=* ]]; then
        option=${cur%%=*}
        value=${cur#*=}
    elif [[ $prev != -* || $prev == *=* ]]; then
        option=
    fi
    local values=
    case $option in
    -c | --cmd)
        # The shell's commands, for the first word of CMD (after an opening quote).
        local q=${value:0:1}
        [[ $q == \' || $q == \" ]] || q=
        if [[ ${value:${#q}} != *" "* ]]; then
            local names=() c
            while read -r c _; do names+=("${cur%"$value"}$q$c"); done < <("$tool" -c help 2>/dev/null)
            _granule_reply "$cur" "${names[@]}"
        else
            COMPREPLY=()
        fi
        return
        ;;
    -t | --cache) values="none writeback writethrough directsync unsafe" ;;
    -i | --aio) values="threads native io_uring" ;;
    -f | --format) values=raw ;;
    -d | --discard) values="ignore off unmap on" ;;
    -T | --trace | --object) COMPREPLY=(); return ;;
    esac
    if [[ -n $values ]]; then
        local v out=()
        for v in $values; do out+=("${cur%"$value"}$v"); done
        _granule_reply "$cur" "${out[@]}"
    elif [[ $cur == -* ]]; then
        _granule_reply "$cur" $opts
    else
        _granule_spec "$tool" "$cur"
    fi
}

complete -F _granule_img granule-img
complete -F _granule_io granule-io
