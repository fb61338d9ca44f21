#!/usr/bin/env bash
# TLS with a pre-shared key: nbdkit --tls=require --tls-psk=FILE.
#  - tls=require + tls-psk-file + tls-username (dotted keys), and the URI form
#    nbds+unix://alice@/?socket=S&tls-psk-file=F: data written and read back,
#    info says the TLS session is up ("TLS", "tls: require (negotiated)");
#  - tls=on against the same server: TLS negotiated too;
#  - tls=off, a wrong key, an unknown user: the open fails naming the server;
#  - the key is in no output: info, granule-img info (text and JSON), every
#    error above.
. "$(dirname "$0")/fixture.sh" || exit 1
[ -x "$GRANULE_IMG" ] || fail "granule-img not found at '$GRANULE_IMG'"

key=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
wrong=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
echo "alice:$key" >"$WORK/server.psk"
echo "alice:$key" >"$WORK/client.psk"
echo "alice:$wrong" >"$WORK/wrong.psk"
chmod 600 "$WORK"/*.psk
nbd_start_tls() {
    local name=t
    rm -f "$WORK/$name.sock"
    nbdkit -U "$WORK/$name.sock" -f --exit-with-parent --tls=require \
        --tls-psk="$WORK/server.psk" memory 1M >"$WORK/$name.log" 2>&1 &
    SERVER_PID[$name]=$!
    local end=$((SECONDS + 10))
    until [ -S "$WORK/$name.sock" ]; do
        kill -0 "${SERVER_PID[$name]}" 2>/dev/null || fail "nbdkit --tls exited: $(cat "$WORK/$name.log")"
        [ $SECONDS -lt $end ] || fail "nbdkit --tls did not come up"
        sleep 0.05
    done
}
nbd_start_tls
sock=$WORK/t.sock
all=$WORK/all-output.txt
: >"$all"

note "tls=require with the key: data goes through"
dotted="driver=nbd,server.path=$sock,tls=require,tls-psk-file=$WORK/client.psk,tls-username=alice"
gio -c "write -P 0x3c 100 5000" -c "read -P 0x3c 100 5000" -c info --image-opts "$dotted" \
    >"$WORK/out" 2>&1 || { cat "$WORK/out" >&2; fail "TLS with PSK failed"; }
cat "$WORK/out" >>"$all"
expect_grep "^read 5000/5000 bytes at offset 100$" "$WORK/out" "read back over TLS"
expect_grep "^  protocol: newstyle-fixed, structured replies, TLS$" "$WORK/out" "protocol line"
expect_grep "^  tls: require (negotiated)$" "$WORK/out" "tls line"

note "the URI form, nbds+unix://alice@/?socket=...&tls-psk-file=..."
turi="nbds+unix://alice@/?socket=$sock&tls-psk-file=$WORK/client.psk"
gio -c "read -P 0x3c 100 5000" "$turi" >"$WORK/out" 2>&1 ||
    { cat "$WORK/out" >&2; fail "the nbds+unix URI failed"; }
cat "$WORK/out" >>"$all"
"$GRANULE_IMG" info "$turi" >>"$all" 2>&1 || fail "granule-img info $turi failed"
"$GRANULE_IMG" info --output=json "$turi" >>"$all" 2>&1 || fail "granule-img info --output=json failed"
grep -q '"tls: require (negotiated)"\|tls: require (negotiated)' "$all" || fail "info lacks the TLS state"

note "tls=on: TLS when offered"
gio -c info --image-opts "driver=nbd,server.path=$sock,tls=on,tls-psk-file=$WORK/client.psk,tls-username=alice" \
    >"$WORK/out" 2>&1 || { cat "$WORK/out" >&2; fail "tls=on failed"; }
cat "$WORK/out" >>"$all"
expect_grep "^  tls: on (negotiated)$" "$WORK/out" "tls=on"

note "refusals"
refused() {  # spec what
    local out
    out=$(gio -c "read 0 1" --image-opts "$1" 2>&1) && fail "$2: opened"
    echo "$out" >>"$all"
    [[ "$out" == *"can't open device "*": nbd: cannot connect to unix socket $sock, export '': "* ]] ||
        fail "$2: $out"
    note "   $2: ${out##*export \'\': }"
}
refused "driver=nbd,server.path=$sock" "tls=off"
refused "driver=nbd,server.path=$sock,tls=require,tls-psk-file=$WORK/wrong.psk,tls-username=alice" "wrong key"
refused "driver=nbd,server.path=$sock,tls=require,tls-psk-file=$WORK/client.psk,tls-username=bob" "unknown user"

note "the key is in no output"
for k in "$key" "$wrong"; do
    grep -qi "$k" "$all" && fail "a key shows in the output"
    grep -qi "${k:0:16}" "$all" && fail "part of a key shows in the output"
done
echo "PASS ($(wc -l <"$all") lines of output checked for the keys)"
