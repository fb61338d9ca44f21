#!/usr/bin/env bash
# CHAP passwords in iscsi:// URLs never reach the output. For each hostile
# password of tests/unit/tst_url.cpp's table a CHAP account is bound to the
# target, then every tool path that prints a spec or a device description runs
# with the URL as a shorthand and inside --image-opts driver=iscsi,filename=...:
# granule-io -c info and open (logins that work), a wrong port, a wrong LUN and a
# wrong password (can't open device), granule-img info, convert from and to the
# LUN, and converts that fail. No piece of 3+ characters of the password may
# appear in stdout or stderr, and the paths that should work must work (exit 0,
# the LUN's bytes read back).
. "$(dirname "$0")/fixture.sh"
[ -x "${GRANULE_IMG:-}" ] || fail "GRANULE_IMG is not set to granule-img"
iscsi_start_target

M=1048576
# LUN 3 (8 MiB, 512-byte blocks) and a 1 MiB source both hold byte 0x5a, so
# converts onto the LUN keep what the reads check.
fill_file "$WORK/lun3.img" $((0x5a)) 0 $((8 * M))
fill_file "$WORK/src.img" $((0x5a)) 0 $M
closed=$(free_port)

# tgtadm (tgt 1.0.85) takes every one of these as a CHAP secret, and tgtd logs
# in with each but the empty one: the driver refuses "user%@host" before any
# login, so that one runs through the failure paths only.
passwords=(
    'Qz7q/Kx4k/Wv9w'
    'Hj2hTt@Yp8yLm'
    'Nb6nNn@Mv1mMm@Fg4fFf@Zq3zZz'
    'Zc3zOo%Xe5xLl'
    'Rt8rRr%Pq2pPp%Dl7dDd'
    'Bw4bWw:Cs6cSs'
    'Jm9jJj?Ku3kKk'
    'Lf5lLl#Gy2gGg'
    'Sd1sSs,Vn8vVv'
    'Ce2cCc,,Oe4oOo,Pe6pPp'
    'Kk3kKk,Ll4l=Mm5mMm'
    'Tk6tTt%2F%40Uh4uUu'
    'Hh5hHh:9Zw9/Ii7iIi'
    'Ux2u/Uy3u@Uz4u%Ua5u:Ub6u?Uc7u#Ud8u,Ue9u%2F%40Uf1u'
    ''
)

failures=0
runs=0
# check STATUS PATTERN... -- CMD...: CMD must exit STATUS and print every
# PATTERN (grep -F, stdout and stderr together), and no piece of $pw.
check() {
    local want=$1 patterns=() out rc=0 ok=1 p
    shift
    while [ "$1" != "--" ]; do patterns+=("$1"); shift; done
    shift
    out=$("$@" 2>&1) || rc=$?
    runs=$((runs + 1))
    [ "$rc" -eq "$want" ] || ok=0
    for p in "${patterns[@]}"; do grep -qF -- "$p" <<<"$out" || ok=0; done
    if [ $ok -eq 0 ]; then
        echo "NOT OK (status $rc, wanted $want; patterns: ${patterns[*]}): $*" >&2
        head -n 5 <<<"$out" >&2
        failures=$((failures + 1))
    fi
    for p in "${pieces[@]}"; do
        grep -qF -- "$p" <<<"$out" || continue
        echo "LEAK of '$p' by: $*" >&2
        grep -F -m 3 -- "$p" <<<"$out" >&2
        failures=$((failures + 1))
    done
    LAST_OUT=$out
}
options() { echo "driver=iscsi,filename=${1//,/,,}"; }
gio() { "$GRANULE_IO" --no-timing --line-buffered --error-detail "$@"; }
use_form() {
    if [ "$1" = shorthand ]; then
        io=() img=() dst=()
        spec() { echo "$1"; }
    else
        io=(--image-opts) img=(--image-opts) dst=(--target-image-opts)
        spec() { options "$1"; }
    fi
}

for pw in "${passwords[@]}"; do
    mapfile -t pieces < <(tr -c 'A-Za-z0-9' '\n' <<<"$pw" | awk 'length >= 3')
    [ -z "$pw" ] || [ ${#pieces[@]} -gt 0 ] || fail "password '$pw' has no piece to look for"
    note "password '$pw'"
    base=127.0.0.1:$PORT/$IQN
    good="iscsi://chapuser%$pw@$base/3"
    shown="chapuser%***@127.0.0.1:"  # as every message must show the user info

    if [ -z "$pw" ]; then
        # Not a CHAP secret: the driver refuses the URL before any login.
        for form in shorthand options; do
            use_form $form
            check 1 "can't open device" "$shown" "empty password after '%'" -- \
                gio -c "read 0 512" "${io[@]}" "$(spec "$good")"
            check 1 "granule-io: can't open device" "$shown" -- gio -c "open ${io[*]} $(spec "$good")"
            check 1 "can't open DST" "$shown" -- \
                "$GRANULE_IMG" convert "${dst[@]}" "$WORK/src.img" "$(spec "$good")"
        done
        continue
    fi

    bad_port="iscsi://chapuser%$pw@127.0.0.1:$closed/$IQN/3"
    bad_lun="iscsi://chapuser%$pw@$base/9"
    # A wrong password: the real one with a suffix, so none of its pieces may show either.
    bad_pw="iscsi://chapuser%${pw}Zz0@$base/3"
    tgtadm_ --op new --mode account --user chapuser --password "$pw" ||
        fail "tgtadm refused CHAP secret '$pw'"
    tgtadm_ --op bind --mode account --tid 1 --user chapuser

    for form in shorthand options; do
        use_form $form
        # granule-io: can't open device SPEC (nothing listening, no such LUN,
        # wrong password), and its open command failing.
        check 1 "can't open device" "$shown" "Connection refused" -- \
            gio -c "read 0 512" "${io[@]}" "$(spec "$bad_port")"
        check 1 "can't open device" "$shown" "no such LUN" -- \
            gio -c "read 0 512" "${io[@]}" "$(spec "$bad_lun")"
        check 1 "can't open device" "$shown" "Authentication failure" -- \
            gio -c "read 0 512" "${io[@]}" "$(spec "$bad_pw")"
        check 1 "granule-io: can't open device" "$shown" "no such LUN" -- \
            gio -c "open ${io[*]} $(spec "$bad_lun")"
        # granule-img convert whose SRC or DST cannot be opened.
        check 1 "can't open SRC" "$shown" -- \
            "$GRANULE_IMG" convert "${img[@]}" "$(spec "$bad_pw")" "$WORK/never.img"
        check 1 "can't open DST" "$shown" "Connection refused" -- \
            "$GRANULE_IMG" convert "${dst[@]}" "$WORK/src.img" "$(spec "$bad_port")"
        check 1 "can't open DST" "$shown" "Authentication failure" -- \
            "$GRANULE_IMG" convert "${dst[@]}" "$WORK/src.img" "$(spec "$bad_pw")"
        [ ! -e "$WORK/never.img" ] || fail "a failed convert left never.img"

        # Logins that work; info shows the URL with the password hidden.
        check 0 "read 4096/4096 bytes at offset 0" "chap: user chapuser" \
            "filename=iscsi://$shown" -- \
            gio -c "read -P 0x5a 0 4096" -c info "${io[@]}" "$(spec "$good")"
        check 0 "read 4096/4096 bytes at offset 4096" "filename=iscsi://$shown" -- \
            gio -c "open ${io[*]} $(spec "$good")" -c "read -P 0x5a 4096 4096" -c info
        check 0 "filename=iscsi://$shown" "chap: user chapuser" "length: $((8 * M))" -- \
            "$GRANULE_IMG" info "${img[@]}" "$(spec "$good")"
        rm -f "$WORK/copy.img"
        check 0 "" -- "$GRANULE_IMG" convert "${img[@]}" "$(spec "$good")" "$WORK/copy.img"
        cmp -s "$WORK/copy.img" "$WORK/lun3.img" ||
            { echo "NOT OK: convert from the LUN differs" >&2; failures=$((failures + 1)); }
        # A URL DST exists, so no -n is needed; the LUN keeps its 0x5a bytes.
        check 0 "" -- "$GRANULE_IMG" convert "${dst[@]}" "$WORK/src.img" "$(spec "$good")"
    done
    # qemu-io's "open -o options filename": the filename joins the options.
    check 1 "granule-io: can't open device" "$shown" "no such LUN" -- \
        gio -c "open -o driver=iscsi,timeout=5 $bad_lun"
    check 1 "granule-img info: can't open" -- "$GRANULE_IMG" info "$bad_pw"
    check 1 "granule-img bench: can't open" -- "$GRANULE_IMG" bench -c 1 "$bad_pw"
    check 1 "granule-img info: can't open" "no driver claims the URL scheme" -- \
        "$GRANULE_IMG" info "${bad_pw/iscsi:/iscsy:}"

    tgtadm_ --op unbind --mode account --tid 1 --user chapuser
    tgtadm_ --op delete --mode account --user chapuser
done
cmp -s "$WORK/lun3.img" <(head -c $((8 * M)) /dev/zero | tr '\0' '\132') ||
    fail "the LUN's bytes changed"
[ $failures -eq 0 ] || fail "$failures of $runs checks wrong"
echo "PASS ($runs runs)"
