#!/usr/bin/env bash
# Opening: the URI prefixes claimed (granule-io nbd+unix:///?socket=S works
# as a bare filename), and every bad option, URI or server gives an error
# naming the key or the server, never a hang:
#  - each malformed or conflicting option: granule-io exits 1 with
#    "can't open device SPEC: nbd: <the message below>";
#  - no socket, connection refused, a URI libnbd rejects, TLS asked of a
#    server without it: libnbd's reason, naming the server;
#  - a server that accepts and then says nothing (SIGSTOP) with timeout=1:
#    ETIMEDOUT after ~1 s ("handshake not finished");
#  - a write past the export's end is refused by the core (EIO), in bounds
#    works;
#  - an error the server answers keeps its errno (ENOSPC through nbdkit's
#    error filter), with the request and the server named.
. "$(dirname "$0")/fixture.sh" || exit 1
[ -x "$GRANULE_IMG" ] || fail "granule-img not found at '$GRANULE_IMG'"

nbd_start_nbdkit e memory 1M
uri=$REPLY
sock=$WORK/e.sock

note "the prefixes: a bare URI opens the driver"
"$GRANULE_IMG" drivers nbd >"$WORK/drivers.txt"
expect_grep "^  claims: nbd:// nbds:// nbd+unix:// nbds+unix:// nbd+vsock:// nbds+vsock://$" \
    "$WORK/drivers.txt" "drivers nbd"
gio -c "write -P 0x5c 1000 10" -c "read -P 0x5c 1000 10" "$uri" >"$WORK/out" 2>&1 ||
    { cat "$WORK/out" >&2; fail "granule-io $uri failed"; }
expect_grep "^read 10/10 bytes at offset 1000$" "$WORK/out" "bare URI"
out=$(gio -c "read 0 1" "nbd+foo:///?socket=$sock" 2>&1) && fail "nbd+foo:// opened"
[[ "$out" == *"no driver claims the URL scheme of 'nbd+foo:///?socket=$sock'"* ]] ||
    fail "nbd+foo://: $out"

# expect_open_error SPEC MESSAGE: granule-io --image-opts SPEC fails to open
# with exactly "can't open device SPEC: MESSAGE".
expect_open_error() {
    local spec=$1 want=$2 out rc=0
    out=$(gio -c "read 0 1" --image-opts "$spec" 2>&1) || rc=$?
    [ $rc -ne 0 ] || fail "'$spec' opened"
    [ "$out" = "granule-io: can't open device $spec: $want" ] || fail "'$spec':
  got:  $out
  want: granule-io: can't open device $spec: $want"
}

note "options"
forms="nbd://host[:port]/export, nbd+unix:///export?socket=PATH, nbds:// and nbds+unix:// (TLS), nbd+vsock://cid[:port]/export"
expect_open_error "driver=nbd,filename=http://127.0.0.1/x" \
    "nbd: option 'filename': 'http://127.0.0.1/x' is not an NBD URI ($forms)"
expect_open_error "driver=nbd" \
    "nbd: missing option 'filename' (an NBD URI: $forms) or 'server.type' (inet with 'server.host', unix with 'server.path')"
expect_open_error "driver=nbd,filename=$uri,server.path=$sock" \
    "nbd: option 'server.path': give either 'filename' (an NBD URI, which names the server and the export) or the server.* keys and 'export', not both"
expect_open_error "driver=nbd,filename=$uri,export=x" \
    "nbd: option 'export': give either 'filename' (an NBD URI, which names the server and the export) or the server.* keys and 'export', not both"
expect_open_error "driver=nbd,filename=$uri,tls=require" \
    "nbd: option 'tls': with 'filename' the URI's scheme decides TLS (nbds:// and nbds+unix:// require it; nbd:// and nbd+unix:// turn it off)"
expect_open_error "driver=nbd,server.type=tcp,server.host=127.0.0.1" \
    "nbd: option 'server.type': 'tcp' is not inet or unix"
expect_open_error "driver=nbd,server.type=inet,server.host=127.0.0.1,server.port=70000" \
    "nbd: option 'server.port': '70000' is not a number from 1 to 65535"
expect_open_error "driver=nbd,server.type=inet" "nbd: missing option 'server.host' (server.type=inet)"
expect_open_error "driver=nbd,server.type=unix" "nbd: missing option 'server.path' (server.type=unix)"
expect_open_error "driver=nbd,server.type=unix,server.path=$sock,server.port=1" \
    "nbd: option 'server.port': only for server.type=inet"
expect_open_error "driver=nbd,server.path=$sock,server.host=127.0.0.1" \
    "nbd: option 'server.path': a unix socket path and 'server.host' exclude each other"
expect_open_error "driver=nbd,server.path=$sock,tls=maybe" \
    "nbd: option 'tls': 'maybe' is not off, on or require"
expect_open_error "driver=nbd,server.path=$sock,tls-psk-file=$WORK/keys.psk" \
    "nbd: option 'tls-psk-file': needs tls=on or tls=require"
expect_open_error "driver=nbd,filename=$uri,tls-username=alice" \
    "nbd: option 'tls-username': the URI '$uri' does not use TLS (nbds://, nbds+unix:// do)"
expect_open_error "driver=nbd,server.path=$sock,tls=require,tls-psk-file=$WORK/none.psk" \
    "nbd: option 'tls-psk-file': cannot read '$WORK/none.psk': No such file or directory"
expect_open_error "driver=nbd,server.path=$sock,tls=require,tls-certificates=$WORK/e.log" \
    "nbd: option 'tls-certificates': '$WORK/e.log' is not a directory"
expect_open_error "driver=nbd,server.path=$sock,timeout=-1" \
    "nbd: option 'timeout': -1 is not from 0 to 86400 seconds"
expect_open_error "driver=nbd,server.path=$sock,queue-depth=0" \
    "nbd: option 'queue-depth': 0 is not from 1 to 1024"
out=$(gio -c "read 0 1" --image-opts "driver=nbd,server.path=$sock,bogus=1" 2>&1) && fail "bogus=1 opened"
[[ "$out" == *"'bogus'"* ]] || fail "the unknown key is not named: $out"

note "servers"
expect_open_error "driver=nbd,filename=nbd+unix:///?socket=$WORK/none.sock" \
    "nbd: cannot connect to nbd+unix:///?socket=$WORK/none.sock: nbd_aio_connect_uri: connect: No such file or directory"
expect_open_error "driver=nbd,server.path=$WORK/none.sock" \
    "nbd: cannot connect to unix socket $WORK/none.sock, export '': nbd_aio_connect_unix: connect: No such file or directory"
# A loopback port nobody listens on.
port=1
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
expect_open_error "driver=nbd,server.host=127.0.0.1,server.port=$port" \
    "nbd: cannot connect to 127.0.0.1:$port, export '': nbd_aio_connect_tcp: connect: 127.0.0.1:$port: could not connect to remote host: Connection refused"
out=$(gio -c "read 0 1" "nbd+unix:///" 2>&1) && fail "nbd+unix:/// without socket= opened"
[[ "$out" == "granule-io: can't open device nbd+unix:///: nbd: cannot connect to nbd+unix:///: nbd_aio_connect_uri: "* ]] ||
    fail "nbd+unix:/// without socket=: $out"
note "   $out"
out=$(gio -c "read 0 1" "nbds+unix:///?socket=$sock" 2>&1) && fail "TLS was required of a server without TLS, and it opened"
[[ "$out" == "granule-io: can't open device nbds+unix:///?socket=$sock: nbd: cannot connect to nbds+unix:///?socket=$sock: "*"TLS"* ]] ||
    fail "nbds+unix:// to a server without TLS: $out"
note "   $out"

note "a server that says nothing: timeout=1"
kill -STOP "${SERVER_PID[e]}"
t0=$(date +%s%3N)
expect_open_error "driver=nbd,server.path=$sock,timeout=1" \
    "nbd: no answer from unix socket $sock, export '' within 1 s (option 'timeout'): handshake not finished"
elapsed=$(($(date +%s%3N) - t0))
[ $elapsed -ge 900 ] && [ $elapsed -lt 3000 ] || fail "the handshake timeout took $elapsed ms"
kill -CONT "${SERVER_PID[e]}"

note "the export's end"
gio -c "write -P 1 1048000 576" -c "write -P 1 1048000 577" "$uri" >"$WORK/end.out" 2>&1 &&
    fail "a write past the end succeeded"
expect_grep "^wrote 576/576 bytes at offset 1048000$" "$WORK/end.out" "write up to the end"
expect_grep "^write failed: Input/output error$" "$WORK/end.out" "write past the end"

note "an error from the server"
nbd_start_nbdkit x --filter=error memory 1M error-pwrite=ENOSPC error-pwrite-rate=100%
xuri=$REPLY
gio -c "write -P 1 4096 4096" -c "read -P 0 4096 4096" "$xuri" >"$WORK/x.out" 2>&1 &&
    fail "a write the server failed succeeded"
expect_grep "^write failed: No space left on device$" "$WORK/x.out" "ENOSPC"
expect_grep "^granule-io: nbd: write of 4096 bytes at offset 4096 to $xuri: the server answered: No space left on device$" \
    "$WORK/x.out" "the server's error, named"
expect_grep "^read 4096/4096 bytes at offset 4096$" "$WORK/x.out" "the connection survives a server error"
echo "PASS"
