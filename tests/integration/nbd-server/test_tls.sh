#!/usr/bin/env bash
# TLS (NBD_OPT_STARTTLS): X.509 certificates the test makes with certtool,
# and pre-shared keys made with psktool. A server with TLS refuses plaintext
# clients; qemu-io, nbdinfo and nbdcopy work through it byte-exactly; a wrong
# key fails the handshake without the server printing any key, and the
# server goes on.
. "$(dirname "$0")/fixture.sh" "$1"
for tool in certtool psktool; do
    command -v $tool >/dev/null || skip "$tool not found (apt-get install gnutls-bin)"
done

pki=$WORK/pki
mkdir -p "$pki"
certtool --generate-privkey --outfile "$pki/ca-key.pem" 2>/dev/null
printf 'cn = Granule test CA\nca\ncert_signing_key\nexpiration_days = 2\n' >"$pki/ca.info"
certtool --generate-self-signed --load-privkey "$pki/ca-key.pem" --template "$pki/ca.info" \
    --outfile "$pki/ca-cert.pem" 2>/dev/null
certtool --generate-privkey --outfile "$pki/server-key.pem" 2>/dev/null
printf 'cn = localhost\ndns_name = localhost\nip_address = 127.0.0.1\ntls_www_server\nencryption_key\nsigning_key\nexpiration_days = 2\n' \
    >"$pki/server.info"
certtool --generate-certificate --load-ca-certificate "$pki/ca-cert.pem" --load-ca-privkey "$pki/ca-key.pem" \
    --load-privkey "$pki/server-key.pem" --template "$pki/server.info" --outfile "$pki/server-cert.pem" 2>/dev/null
client=$WORK/client  # what a client holds: the CA's certificate only
mkdir -p "$client"
cp "$pki/ca-cert.pem" "$client/"

img=$WORK/d.img
truncate -s 4M "$img"

note "X.509 over TCP: plaintext refused; nbdinfo, qemu-io and nbdcopy through TLS"
"$GRANULE_NBD" -p 0 --print-uri --pid-file "$WORK/x.pid" --tls-certs "$pki" \
    "driver=blkdebug,align=4096,image.driver=raw-posix,image.filename=$img" >"$WORK/x.uri" 2>"$WORK/x.log" &
SERVER_PID[x]=$!
for i in $(seq 100); do [ -s "$WORK/x.pid" ] && break; sleep 0.05; done
port=$(sed -n 's|^nbd://127.0.0.1:\([0-9]*\)/$|\1|p' "$WORK/x.uri")
[ -n "$port" ] || fail "no port: $(cat "$WORK/x.uri" "$WORK/x.log")"
out=$(nbdinfo "nbd://127.0.0.1:$port/" 2>&1) && fail "a plaintext client was served: $out"
grep -qi "tls" <<<"$out" || fail "plaintext refusal does not mention TLS: $out"
tls_uri="nbds://localhost:$port/?tls-certificates=$client"
export_info "$tls_uri"
[ "${INFO[block_size_minimum]}" = 1 ] && [ "${INFO[block_size_preferred]}" = 4096 ] ||
    fail "over TLS: ${INFO[json]}"
grep -q '"TLS": true' <<<"${INFO[json]}" || fail "nbdinfo does not report TLS: ${INFO[json]}"
out=$(qemu-io --object "tls-creds-x509,id=tls0,endpoint=client,dir=$client" \
    --image-opts "driver=nbd,server.type=inet,server.host=localhost,server.port=$port,tls-creds=tls0" \
    -c "write -P 0x3c 1000 70000" -c "read -P 0x3c 1000 70000" -c "read -P 0 0 1000" 2>&1) ||
    fail "qemu-io over TLS: $out"
! grep -q "verification failed" <<<"$out" || fail "qemu-io over TLS: $out"
head -c 4M /dev/urandom >"$WORK/src.img"
nbdcopy "$WORK/src.img" "$tls_uri"
nbdcopy "$tls_uri" "$WORK/back.img"
cmp "$WORK/src.img" "$WORK/back.img" || fail "nbdcopy through TLS: what came back differs"
cmp "$WORK/src.img" "$img" || fail "nbdcopy through TLS: the image differs"
if [ -n "${GRANULE_IO:-}" ] && "$GRANULE_IO" -c "open -r $tls_uri" -c quit >/dev/null 2>&1; then
    # Granule's own nbd driver (libnbd) as the client, X.509 checked against the CA.
    out=$("$GRANULE_IO" --no-timing -c "write -P 0x77 4097 3" -c "read -P 0x77 4097 3" "$tls_uri" 2>&1) ||
        fail "granule-io's nbd driver over TLS: $out"
    cmp -n 3 -i 4097:0 "$img" <(printf '\x77\x77\x77') || fail "granule-io's write over TLS is not in the image"
elif [ -n "${GRANULE_IO:-}" ] && [ "${GRANULE_NO_SKIP:-}" = 1 ]; then
    fail "granule-io cannot open $tls_uri (is the nbd driver built?)"
fi
kill -TERM "${SERVER_PID[x]}"
wait "${SERVER_PID[x]}" || fail "exit status after SIGTERM: $(cat "$WORK/x.log")"
unset "SERVER_PID[x]"

note "pre-shared keys over a Unix socket; a wrong key fails, and no key is printed"
psktool -u alice -p "$WORK/keys.psk" >/dev/null 2>&1
psktool -u alice -p "$WORK/wrong.psk" >/dev/null 2>&1
serve p --tls-psk "$WORK/keys.psk" -v "$img"
sock=$WORK/p.sock
export_info "nbds+unix://alice@/?socket=$sock&tls-psk-file=$WORK/keys.psk"
[ "${INFO[export-size]}" = 4194304 ] || fail "PSK: ${INFO[json]}"
out=$(nbdinfo "nbds+unix://alice@/?socket=$sock&tls-psk-file=$WORK/wrong.psk" 2>&1) &&
    fail "a wrong key was accepted: $out"
out=$(nbdinfo "nbds+unix://alice@/?socket=$sock&tls-psk-file=$WORK/keys.psk" 2>&1) ||
    fail "the right key after a wrong one: $out"
for key in $(cut -d: -f2 "$WORK/keys.psk" "$WORK/wrong.psk"); do
    ! grep -q "$key" "$WORK/p.log" || fail "the server printed a key: $(cat "$WORK/p.log")"
done
grep -q "TLS handshake" "$WORK/p.log" || fail "the failed handshake is not logged: $(cat "$WORK/p.log")"
stop_server p

note "bad TLS settings stop the server at start"
rc=0; out=$("$GRANULE_NBD" -k "$WORK/b.sock" --tls-certs "$client" "$img" 2>&1) || rc=$?
[ $rc = 1 ] && grep -q "no $client/server-cert.pem" <<<"$out" || fail "missing certificate: exit $rc, $out"
rc=0; out=$("$GRANULE_NBD" -k "$WORK/b.sock" --tls-psk "$WORK/none.psk" "$img" 2>&1) || rc=$?
[ $rc = 1 ] && grep -q "none.psk" <<<"$out" || fail "missing PSK file: exit $rc, $out"
note "PASS"
