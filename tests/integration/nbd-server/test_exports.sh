#!/usr/bin/env bash
# Several exports on one server (NBD_OPT_LIST, names, descriptions, sizes and
# block sizes per export), TCP on 127.0.0.1 with --port 0 and --print-uri,
# and the refusals at start: a SPEC that does not open, a socket path that is
# taken, usage errors.
. "$(dirname "$0")/fixture.sh" "$1"

truncate -s 1M "$WORK/a.img"
truncate -s 3M "$WORK/b.img"
serve s -x first -D "the first image" "$WORK/a.img" \
    --export "aligned=driver=blkdebug,align=65536,image.driver=memory,image.size=2M" \
    --export "b=$WORK/b.img"
uri s

note "NBD_OPT_LIST names every export, with its description"
list=$(nbdinfo --list --json "$REPLY")
names=$(python3 -c 'import json,sys; print(" ".join(e["export-name"] for e in json.loads(sys.argv[1])["exports"]))' "$list")
[ "$names" = "first aligned b" ] || fail "exports listed: $names ($list)"
grep -q '"description": "the first image"' <<<"$list" || fail "description: $list"

note "each export its own size and block sizes"
uri s aligned
export_info "$REPLY"
[ "${INFO[export-size]}" = 2097152 ] || fail "aligned: size ${INFO[json]}"
[ "${INFO[block_size_minimum]}" = 1 ] || fail "aligned: minimum ${INFO[json]}"
[ "${INFO[block_size_preferred]}" = 65536 ] || fail "aligned: preferred ${INFO[json]}"
uri s b
export_info "$REPLY"
[ "${INFO[export-size]}" = 3145728 ] || fail "b: size ${INFO[json]}"
uri s missing
out=$(nbdinfo "$REPLY" 2>&1) && fail "an unknown export opened: $out"
grep -q "No such file or directory for export: missing" <<<"$out" || fail "unknown export: $out"

note "unaligned I/O on the 64 KiB-aligned export, through qemu-io"
uri s aligned
out=$(qemu-io -f raw -c "write -P 7 1000 3" -c "read -P 7 1000 3" -c "read -P 0 0 1000" -c "read -P 0 1003 100000" "$REPLY" 2>&1) ||
    fail "qemu-io: $out"
! grep -q "verification failed" <<<"$out" || fail "qemu-io: $out"
stop_server s

note "TCP on 127.0.0.1, port 0, --print-uri"
"$GRANULE_NBD" -p 0 --print-uri --pid-file "$WORK/t.pid" "$WORK/a.img" >"$WORK/t.uri" 2>"$WORK/t.log" &
SERVER_PID[t]=$!
for i in $(seq 100); do [ -s "$WORK/t.pid" ] && break; sleep 0.05; done
tcp_uri=$(head -n 1 "$WORK/t.uri")
[[ $tcp_uri =~ ^nbd://127\.0\.0\.1:[0-9]+/$ ]] || fail "--print-uri: '$tcp_uri'"
export_info "$tcp_uri"
[ "${INFO[export-size]}" = 1048576 ] || fail "over TCP: ${INFO[json]}"
out=$(qemu-io -f raw -c "write -P 3 5 7" -c "read -P 3 5 7" "$tcp_uri" 2>&1) || fail "qemu-io over TCP: $out"
kill -TERM "${SERVER_PID[t]}"
wait "${SERVER_PID[t]}" || fail "TCP server exit status"
unset "SERVER_PID[t]"

note "refusals at start"
out=$("$GRANULE_NBD" -k "$WORK/x.sock" "$WORK/no-such.img" 2>&1) && fail "a missing image served"
grep -q "no-such.img" <<<"$out" || fail "missing image: $out"
serve busy "$WORK/a.img"
out=$("$GRANULE_NBD" -k "$WORK/busy.sock" "$WORK/a.img" 2>&1) && fail "two servers on one socket"
grep -q "cannot listen on Unix socket $WORK/busy.sock" <<<"$out" || fail "taken socket: $out"
stop_server busy
rc=0; out=$("$GRANULE_NBD" -k "$WORK/x.sock" 2>&1) || rc=$?
[ $rc = 2 ] && grep -q "nothing to serve" <<<"$out" || fail "no SPEC: exit $rc, $out"
rc=0; out=$("$GRANULE_NBD" --export a=x --export a=y 2>&1) || rc=$?
[ $rc = 2 ] && grep -q "two exports named 'a'" <<<"$out" || fail "duplicate names: exit $rc, $out"
rc=0; out=$("$GRANULE_NBD" -b 300.1.1.1 "$WORK/a.img" 2>&1) || rc=$?
[ $rc = 1 ] && grep -q "300.1.1.1" <<<"$out" || fail "bad address: exit $rc, $out"
note "PASS"
