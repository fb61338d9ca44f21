#!/usr/bin/env bash
# The limits granule-io `info` reports for each LUN equal what libiscsi's own
# tools read from the same LUN (iscsi-readcapacity16, iscsi-inq -e 1 -c 176 /
# -c 178), mapped by the rules of docs/drivers/iscsi.md.
. "$(dirname "$0")/fixture.sh"
iscsi_start_target

page=$(getconf PAGESIZE)
pow2() { [ "$1" -gt 0 ] && [ $(($1 & ($1 - 1))) -eq 0 ]; }
max() { [ "$1" -ge "$2" ] && echo "$1" || echo "$2"; }
# "NAME:VALUE" anywhere in a tool's output (also several per line).
field() { grep -o "$2:[[:space:]]*[0-9]*" <<<"$1" | head -n1 | sed 's/.*:[[:space:]]*//'; }

failures=0
check() {  # lun name expected actual
    if [ "$3" != "$4" ]; then
        echo "LUN $1: $2 is '$4', expected '$3'" >&2
        failures=$((failures + 1))
    fi
}

for lun in 1 2 3; do
    url=$(lun_url $lun)
    rc16=$(iscsi-readcapacity16 "$url")
    b0=$(iscsi-inq -e 1 -c 176 "$url")
    b2=$(iscsi-inq -e 1 -c 178 "$url")
    bs=$(field "$rc16" "LOGICAL BLOCK LENGTH IN BYTES")
    size=$(field "$rc16" "Total size")
    lbppbe=$(field "$rc16" "LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT")
    lalba=$(field "$rc16" "LOWEST ALIGNED LOGICAL BLOCK ADDRESS")
    lbpme=$(field "$rc16" "LBPME")
    lbprz=$(field "$rc16" "LBPRZ")
    mtl=$(field "$b0" "maximum transfer length")
    otl=$(field "$b0" "optimal transfer length")
    gran=$(field "$b0" "optimal transfer length granularity")
    max_unmap=$(field "$b0" "maximum unmap lba count")
    ugran=$(field "$b0" "optimal unmap granularity")
    ugavalid=$(field "$b0" "ugavalid")
    ualign=$(field "$b0" "unmap granularity alignment")
    lbpu=$(field "$b2" "lbpu")
    lbpws=$(field "$b2" "lbpws")

    # The mapping (docs/drivers/iscsi.md, "Limits").
    cap=$((0xFFFFFFFF / bs * bs))  # libiscsi's 32-bit data length
    if [ "$mtl" -gt 0 ] && [ $((mtl * bs)) -lt $cap ]; then max_transfer=$((mtl * bs)); else max_transfer=$cap; fi
    opt_transfer=0
    if [ "$otl" -gt 0 ] && [ $((otl * bs)) -le $max_transfer ]; then opt_transfer=$((otl * bs)); fi
    wgran=$bs
    if [ "$lalba" -eq 0 ]; then
        wgran=$(max $wgran $((bs << lbppbe)))
        pow2 $((gran * bs)) && wgran=$(max $wgran $((gran * bs)))
    fi
    ualign_bytes=$bs
    if pow2 $((ugran * bs)) && ! { [ "$ugavalid" -eq 1 ] && [ "$ualign" -ne 0 ]; }; then
        ualign_bytes=$(max $bs $((ugran * bs)))
    fi
    zeroes=$wgran
    if [ "$lbpme" -eq 1 ] && [ "$lbpws" -eq 1 ] && [ "$lbprz" -eq 1 ]; then
        zeroes=$(max $zeroes $ualign_bytes)
    fi
    if [ "$lbpme" -eq 1 ] && [ "$lbpu" -eq 1 ] && [ "$max_unmap" -gt 0 ]; then
        pdiscard_alignment=$ualign_bytes
        max_pdiscard=$((max_unmap * bs / ualign_bytes * ualign_bytes))
        discard_line="discard: UNMAP"
    else
        pdiscard_alignment=$bs
        max_pdiscard=0
        discard_line="discard: not supported"
    fi

    info=$("$GRANULE_IO" --no-timing -c info "$url") || fail "LUN $lun: granule-io info failed: $info"
    got() { sed -n "s/^$1: //p" <<<"$info"; }
    check $lun length "$size" "$(got length)"
    check $lun growable no "$(got growable)"
    check $lun request_alignment "$bs" "$(got request_alignment)"
    check $lun min_mem_alignment 1 "$(got min_mem_alignment)"
    check $lun opt_mem_alignment "$page" "$(got opt_mem_alignment)"
    check $lun max_transfer "$max_transfer" "$(got max_transfer)"
    check $lun opt_transfer "$opt_transfer" "$(got opt_transfer)"
    check $lun pwrite_zeroes_alignment "$zeroes" "$(got pwrite_zeroes_alignment)"
    check $lun pdiscard_alignment "$pdiscard_alignment" "$(got pdiscard_alignment)"
    check $lun max_pdiscard "$max_pdiscard" "$(got max_pdiscard)"
    grep -q "^  $discard_line" <<<"$info" || { echo "LUN $lun: info lacks '$discard_line'" >&2; failures=$((failures + 1)); }
    grep -q "^  physical_block: $((bs << lbppbe)) " <<<"$info" || { echo "LUN $lun: physical block not reported" >&2; failures=$((failures + 1)); }

    printf 'LUN %s: block %s (physical %s, LBA %s aligned), length %s; max_transfer %s, opt_transfer %s, pwrite_zeroes_alignment %s, pdiscard_alignment %s, max_pdiscard %s\n' \
        $lun "$bs" $((bs << lbppbe)) "$lalba" "$size" "$max_transfer" "$opt_transfer" "$zeroes" \
        "$pdiscard_alignment" "$max_pdiscard"
done

[ $failures -eq 0 ] || fail "$failures limit(s) differ from what the target reports"
echo "PASS"
