#!/usr/bin/env bash
# Clear errors and a non-zero status for: a bad URL, bad/missing/conflicting
# options, connection refused, an unknown target, no such LUN, CHAP failures
# (no credentials, wrong password) and a CHECK CONDITION on the data path
# (write to a read-only LU: the sense is decoded). Passwords never appear in
# the driver's messages or in info.
. "$(dirname "$0")/fixture.sh"
iscsi_start_target

base=iscsi://127.0.0.1:$PORT/$IQN
failures=0
# expect STATUS PATTERN... -- ARGS: granule-io ARGS must exit STATUS and its
# output must match every (grep -E) PATTERN.
expect() {
    local want=$1; shift
    local patterns=()
    while [ "$1" != "--" ]; do patterns+=("$1"); shift; done
    shift
    local out rc=0
    out=$("$GRANULE_IO" --no-timing --line-buffered --error-detail "$@" 2>&1) || rc=$?
    local ok=1
    [ "$rc" -eq "$want" ] || ok=0
    for p in "${patterns[@]}"; do grep -Eq -- "$p" <<<"$out" || ok=0; done
    if [ $ok -eq 1 ]; then
        echo "ok: ${out%%$'\n'*}"
    else
        echo "NOT OK (status $rc, wanted $want; patterns: ${patterns[*]}): $out" >&2
        failures=$((failures + 1))
    fi
    LAST_OUT=$out
}
# The driver's part of granule-io's "can't open device SPEC: <message>".
driver_text() { sed -n 's/.*: iscsi: /iscsi: /p' <<<"$LAST_OUT"; }

note "URLs and options"
expect 1 "option 'filename'" "not an iSCSI URL" "no /target-iqn/lun" -- -c "read 0 512" "iscsi://127.0.0.1:$PORT"
expect 1 "option 'filename'" "LUN 'x'" -- -c "read 0 512" "$base/x"
expect 1 "missing option 'lun'" -- --image-opts -c "read 0 512" "driver=iscsi,portal=127.0.0.1:$PORT,target=$IQN"
expect 1 "option 'lun': '1' conflicts with '2' from option 'filename'" -- \
    --image-opts -c "read 0 512" "driver=iscsi,filename=$base/2,lun=1"
expect 1 "option 'header-digest': 'md5'" -- --image-opts -c "read 0 512" "driver=iscsi,filename=$base/2,header-digest=md5"
expect 1 "option 'timeout': -1" -- --image-opts -c "read 0 512" "driver=iscsi,filename=$base/2,timeout=-1"
expect 1 "option 'queue-depth': 0" -- --image-opts -c "read 0 512" "driver=iscsi,filename=$base/2,queue-depth=0"
expect 1 "unknown option 'bogus'" -- --image-opts -c "read 0 512" "driver=iscsi,filename=$base/2,bogus=1"
expect 1 "option 'user'.*has no password" -- --image-opts -c "read 0 512" "driver=iscsi,filename=$base/2,user=u"

note "connection refused, unknown target, no such LUN"
closed=$(free_port)
expect 1 "cannot connect to portal 127.0.0.1:$closed, target $IQN, lun 2: Connection refused" -- \
    -c "read 0 512" "iscsi://127.0.0.1:$closed/$IQN/2"
expect 1 "Target not found" "no target named 'iqn.2026-11.org.granule:nope'" -- -c "read 0 512" \
    "iscsi://127.0.0.1:$PORT/iqn.2026-11.org.granule:nope/1"
expect 1 "no such LUN: portal 127.0.0.1:$PORT, target $IQN, lun 9" "LOGICAL_UNIT_NOT_SUPPORTED" "0x25/0x00" -- \
    -c "read 0 512" "$base/9"

note "CHAP"
secret=Gr4nuleSecret42
printf '%s\n' "$secret" >"$WORK/pw.good"
printf '%s\n' "WrongSecret99" >"$WORK/pw.bad"
tgtadm_ --op new --mode account --user chapuser --password "$secret"
tgtadm_ --op bind --mode account --tid 1 --user chapuser
expect 1 "login to portal 127.0.0.1:$PORT, target $IQN, lun 2 failed: Authentication failure" "wants CHAP" -- \
    -c "read 0 512" "$base/2"
expect 1 "Authentication failure" "check 'user' and 'password-file'" -- --image-opts -c "read 0 512" \
    "driver=iscsi,filename=$base/2,user=chapuser,password-file=$WORK/pw.bad"
grep -q WrongSecret99 <<<"$LAST_OUT" && { echo "password printed: $LAST_OUT" >&2; failures=$((failures + 1)); }
expect 1 "Authentication failure" -- -c "read 0 512" "iscsi://chapuser%WrongSecret99@127.0.0.1:$PORT/$IQN/2"
grep -q WrongSecret99 <<<"$(driver_text)" && { echo "password in the driver's message" >&2; failures=$((failures + 1)); }
expect 1 "option 'filename': 'iscsi://chapuser%\*\*\*@" -- -c "read 0 512" "iscsi://chapuser%WrongSecret99@127.0.0.1:$PORT/$IQN/x"
grep -q WrongSecret99 <<<"$(driver_text)" && { echo "password in the driver's message" >&2; failures=$((failures + 1)); }
expect 0 "read 512/512 bytes at offset 0" "chap: user chapuser" -- --image-opts -c "read 0 512" -c info \
    "driver=iscsi,filename=$base/2,user=chapuser,password-file=$WORK/pw.good"
grep -q "$secret" <<<"$LAST_OUT" && { echo "password printed by info" >&2; failures=$((failures + 1)); }
expect 0 "read 512/512 bytes at offset 0" -- -c "read 0 512" "iscsi://chapuser%$secret@127.0.0.1:$PORT/$IQN/2"
tgtadm_ --op unbind --mode account --tid 1 --user chapuser
tgtadm_ --op delete --mode account --user chapuser

note "header digest CRC32C"
expect 0 "wrote 5000/5000 bytes at offset 3" "read 5000/5000 bytes at offset 3" "header-digest: crc32c" -- \
    --image-opts -c "write -P 0x5a 3 5000" -c "read -P 0x5a 3 5000" -c info \
    "driver=iscsi,filename=$base/2,header-digest=crc32c"

note "CHECK CONDITION on the data path"
tgtadm_ --op update --mode logicalunit --tid 1 --lun 2 --params readonly=1
expect 1 "^write failed: Read-only file system" "granule-io: .*CHECK CONDITION: DATA PROTECTION, WRITE_PROTECTED" "sense key 0x7, ASC/ASCQ 0x27/0x00" "Read-only file system" "lun 2" -- \
    -c "write -P 1 0 4096" "$base/2"
tgtadm_ --op update --mode logicalunit --tid 1 --lun 2 --params readonly=0

[ $failures -eq 0 ] || fail "$failures error case(s) wrong"
echo "PASS"
