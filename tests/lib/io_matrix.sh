# Sourced by tests/integration/checks.sh (Linux, O_DIRECT) and
# tests/windows/test_matrix.sh (raw-win32 under Wine): the unaligned
# write/writev/aio matrix as granule-io commands, and the model file they
# must leave behind.

# Writes LEN bytes of BYTE at OFF into the model file, like granule-io -P does.
model_write() {  # model off len byte
    head -c "$3" /dev/zero | tr '\0' "\\$(printf %03o "$(($4))")" |
        dd of="$1" bs=64K iflag=fullblock oflag=seek_bytes seek="$2" conv=notrunc status=none
}

# Sets MATRIX_CMDS to the matrix at offset BASE with patterns from PATTERN:
# writes (no two overlap, several share blocks), reads of each with -P, then
# writes over earlier ones (read-modify-write of written blocks) and their
# reads. Writes every byte the commands write into MODEL.
matrix_commands() {  # model base pattern
    local model=$1 b=$2 p=$3 w op off lens pat mis total reads=()
    local list=(
        "write 1 1 0 0" "write 511 2 1 0" "write 513 1000 2 0" "write 4095 4098 3 0"
        "write 8193 8192 4 0" "writev 20000 100,4000,1 5 0" "writev 32768 512,1024,2560 6 0"
        "write 40000 5000 7 3" "writev 50001 700,700 8 1" "aio_write 60000 3000 9 0"
        "aio_write 64000 3000 10 0")
    MATRIX_CMDS=()
    for w in "${list[@]}"; do
        read -r op off lens pat mis <<<"$w"
        off=$((b + off))
        pat=$((p + pat))
        total=$(($(tr ',' '+' <<<"$lens")))
        MATRIX_CMDS+=("$op -m $mis -P $pat $off ${lens//,/ }")
        model_write "$model" "$off" "$total" "$pat"
        case $op in
        write) reads+=("read -m $((mis + 1)) -P $pat $off $total") ;;
        writev) reads+=("readv -P $pat $off ${lens//,/ }") ;;
        aio_write) reads+=("aio_read -P $pat $off $total") ;;
        esac
    done
    model_write "$model" $((b + 62000)) 3000 $((p + 11))
    model_write "$model" $((b + 100)) 5003 $((p + 12))
    MATRIX_CMDS+=(aio_flush "${reads[@]}" aio_flush
        "write -P $((p + 11)) $((b + 62000)) 3000" "writev -m 2 -P $((p + 12)) $((b + 100)) 5000 3"
        flush "read -P $((p + 12)) $((b + 100)) 5003" "read -P $((p + 11)) $((b + 62000)) 3000")
}
