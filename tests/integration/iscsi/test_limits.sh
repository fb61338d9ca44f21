#!/usr/bin/env bash
# The limits granule-io `info` reports for each LUN equal what libiscsi's own
# tools read from the same LUN (iscsi-readcapacity16, iscsi-inq -e 1 -c 176 /
# -c 178), mapped by the rules of docs/drivers/iscsi.md; and `granule-img info`
# shows each limit with the SCSI field it came from (the driver's
# refresh_limits sources, prefixed "iscsi: " by the host).
. "$(dirname "$0")/fixture.sh"
[ -x "${GRANULE_IMG:-}" ] || fail "GRANULE_IMG is not set to granule-img"
iscsi_start_target

page=$(getconf PAGESIZE)
iov_max=$(getconf IOV_MAX)
# The sources the driver gives (drivers/iscsi/scsi_limits.cpp).
src_bs="iscsi: READ CAPACITY(16) LOGICAL BLOCK LENGTH"
src_lbppbe="iscsi: READ CAPACITY(16) LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT"
src_gran="iscsi: Block Limits VPD 0xB0 OPTIMAL TRANSFER LENGTH GRANULARITY"
src_ugran="iscsi: Block Limits VPD 0xB0 OPTIMAL UNMAP GRANULARITY"
src_cap="iscsi: libiscsi's 32-bit data length"
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
    mwsl=$(field "$b0" "maximum write same length")
    lbpu=$(field "$b2" "lbpu")
    lbpws=$(field "$b2" "lbpws")

    # The mapping (docs/drivers/iscsi.md, "Limits").
    # Each value with its source: an alignment keeps the first source that
    # raised it to its value (granule_limit_raise: when larger, or equal to a
    # default; every value here starts from a default).
    cap=$((0xFFFFFFFF / bs * bs))  # libiscsi's 32-bit data length
    if [ "$mtl" -eq 0 ]; then
        max_transfer=$cap
        max_transfer_src="$src_cap (Block Limits VPD 0xB0 MAXIMUM TRANSFER LENGTH 0: no limit)"
    elif [ $((mtl * bs)) -gt $cap ]; then
        max_transfer=$cap
        max_transfer_src="$src_cap (below Block Limits VPD 0xB0 MAXIMUM TRANSFER LENGTH)"
    else
        max_transfer=$((mtl * bs))
        max_transfer_src="iscsi: Block Limits VPD 0xB0 MAXIMUM TRANSFER LENGTH"
    fi
    opt_transfer=0 opt_transfer_src="no preference"
    if [ "$otl" -gt 0 ] && [ $((otl * bs)) -le $max_transfer ]; then
        opt_transfer=$((otl * bs))
        opt_transfer_src="iscsi: Block Limits VPD 0xB0 OPTIMAL TRANSFER LENGTH"
    fi
    zeroes=$bs zeroes_src=$src_bs
    if [ "$lalba" -eq 0 ]; then
        [ $((bs << lbppbe)) -gt $zeroes ] && zeroes=$((bs << lbppbe)) zeroes_src=$src_lbppbe
        pow2 $((gran * bs)) && [ $((gran * bs)) -gt $zeroes ] && zeroes=$((gran * bs)) zeroes_src=$src_gran
    fi
    ualign_bytes=$bs
    if [ "$ugran" -eq 0 ]; then
        ualign_src="$src_bs (Block Limits VPD 0xB0 OPTIMAL UNMAP GRANULARITY 0)"
    elif ! pow2 $((ugran * bs)); then
        ualign_src="$src_bs (Block Limits VPD 0xB0 OPTIMAL UNMAP GRANULARITY not a power of two)"
    elif [ "$ugavalid" -eq 1 ] && [ "$ualign" -ne 0 ]; then
        ualign_src="$src_bs (Block Limits VPD 0xB0 UNMAP GRANULARITY ALIGNMENT not 0)"
    else
        ualign_bytes=$(max $bs $((ugran * bs))) ualign_src=$src_ugran
    fi
    # WRITE SAME(16) on every LUN (until the target refuses it); its UNMAP
    # bit where LBPWS and LBPRZ allow it; at most MAXIMUM WRITE SAME LENGTH
    # blocks per command, and 128 MiB (1 GiB with UNMAP).
    ws_field="Block Limits VPD 0xB0 MAXIMUM WRITE SAME LENGTH"
    ws_blocks() {  # cap-bytes what
        local fixed=$(($1 / bs))
        if [ "$mwsl" -gt 0 ] && [ "$mwsl" -le $fixed ]; then echo "$mwsl ($ws_field)"
        elif [ "$mwsl" -gt 0 ]; then echo "$fixed ($2 (below $ws_field))"
        else echo "$fixed ($2 ($ws_field 0: no limit))"; fi
    }
    blocks_line="write_same_blocks: $(ws_blocks $((128 << 20)) "128 MiB per command without UNMAP" | sed 's/ / per command /')"
    if [ "$lbpme" -eq 1 ] && [ "$lbpws" -eq 1 ] && [ "$lbprz" -eq 1 ]; then
        [ $ualign_bytes -gt $zeroes ] && zeroes=$ualign_bytes zeroes_src="$src_ugran (WRITE SAME(16) with UNMAP)"
        zeroes_line="write_zeroes: WRITE SAME(16), with UNMAP when the request allows it (LBPWS 1, LBPRZ 1)"
        blocks_line="$blocks_line, with UNMAP $(ws_blocks $((1 << 30)) "1 GiB per command with UNMAP")"
    elif [ "$lbpme" -eq 1 ] && [ "$lbpws" -eq 1 ]; then
        zeroes_line="write_zeroes: WRITE SAME(16) without UNMAP (LBPRZ 0)"
    elif [ "$lbpme" -eq 0 ]; then
        zeroes_line="write_zeroes: WRITE SAME(16) without UNMAP (LBPME 0)"
    else
        zeroes_line="write_zeroes: WRITE SAME(16) without UNMAP (VPD 0xB2 LBPWS 0)"
    fi
    zeroes_line="$zeroes_line; zero buffers from the core if the target refuses it"
    if [ "$lbpme" -eq 1 ] && [ "$lbpu" -eq 1 ] && [ "$max_unmap" -gt 0 ]; then
        pdiscard_alignment=$ualign_bytes pdiscard_src=$ualign_src
        max_pdiscard=$((max_unmap * bs / ualign_bytes * ualign_bytes))
        if [ "$max_unmap" -eq 4294967295 ]; then
            max_pdiscard_src="iscsi: UNMAP block descriptor's 32-bit NUMBER OF LOGICAL BLOCKS (Block Limits VPD 0xB0 MAXIMUM UNMAP LBA COUNT: no limit)"
        else
            max_pdiscard_src="iscsi: Block Limits VPD 0xB0 MAXIMUM UNMAP LBA COUNT"
        fi
        discard_line="discard: UNMAP"
    else
        pdiscard_alignment=$bs pdiscard_src=$src_bs
        max_pdiscard=0 max_pdiscard_src="unlimited"
        discard_line="discard: not supported"
    fi

    info=$("$GRANULE_IO" --no-timing --line-buffered --error-detail -c info "$url") || fail "LUN $lun: granule-io info failed: $info"
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
    check $lun max_iov "$iov_max" "$(got max_iov)"
    grep -q "^  $discard_line" <<<"$info" || { echo "LUN $lun: info lacks '$discard_line'" >&2; failures=$((failures + 1)); }
    grep -qxF "  $zeroes_line" <<<"$info" || { echo "LUN $lun: info lacks '$zeroes_line'" >&2; failures=$((failures + 1)); }
    grep -qxF "  $blocks_line" <<<"$info" || { echo "LUN $lun: info lacks '$blocks_line'" >&2; failures=$((failures + 1)); }
    grep -q "^  fua: " <<<"$info" || { echo "LUN $lun: info lacks the fua line" >&2; failures=$((failures + 1)); }
    # Limits are no longer repeated among the driver's own info lines.
    for dup in logical_block_length max_transfer opt_transfer write_granularity; do
        grep -q "^  $dup: " <<<"$info" && { echo "LUN $lun: info still has a '$dup' line" >&2; failures=$((failures + 1)); }
    done

    # granule-img info: "  NAME: VALUE (SOURCE)" under "limits:", for every limit.
    img=$("$GRANULE_IMG" info "$url") || fail "LUN $lun: granule-img info failed: $img"
    limits=$(sed -n '/^limits:$/,$p' <<<"$img")
    shown() { grep "^  $1: " <<<"$limits"; }
    check_src() {  # name value source
        check $lun "granule-img info $1" "  $1: $2 ($3)" "$(shown "$1")"
    }
    check_src request_alignment "$bs" "$src_bs"
    check_src min_mem_alignment 1 "iscsi: any address: the data goes through a TCP socket"
    check_src opt_mem_alignment "$page" "iscsi: page size"
    check_src max_transfer "$max_transfer" "$max_transfer_src"
    check_src opt_transfer "$opt_transfer" "$opt_transfer_src"
    check_src pwrite_zeroes_alignment "$zeroes" "$zeroes_src"
    check_src pdiscard_alignment "$pdiscard_alignment" "$pdiscard_src"
    check_src max_pdiscard "$max_pdiscard" "$max_pdiscard_src"
    check_src max_iov "$iov_max" "iscsi: IOV_MAX (libiscsi passes the iovec to readv/writev)"
    [ "$(grep -c '^  [a-z_]*: [0-9]* (.*)$' <<<"$limits")" -eq 9 ] ||
        { echo "LUN $lun: granule-img info does not list 9 limits with sources:" >&2; echo "$limits" >&2; failures=$((failures + 1)); }
    grep -q "^  physical_block: $((bs << lbppbe)) " <<<"$info" || { echo "LUN $lun: physical block not reported" >&2; failures=$((failures + 1)); }

    printf 'LUN %s: block %s (physical %s, LBA %s aligned), length %s; max_transfer %s, opt_transfer %s, pwrite_zeroes_alignment %s (%s), pdiscard_alignment %s, max_pdiscard %s\n' \
        $lun "$bs" $((bs << lbppbe)) "$lalba" "$size" "$max_transfer" "$opt_transfer" "$zeroes" \
        "$zeroes_src" "$pdiscard_alignment" "$max_pdiscard"
done

[ $failures -eq 0 ] || fail "$failures limit(s) differ from what the target reports"
echo "PASS"
