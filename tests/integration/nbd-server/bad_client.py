#!/usr/bin/env python3
"""A client that breaks the NBD protocol on purpose, speaking it raw.

    bad_client.py SOCKET EXPORT_SIZE [--read-only]

Against a granule-nbd on SOCKET: every malformed or refused request gets the
protocol's answer (or, where the protocol says so, a disconnect of that
connection only), while a well-behaved connection opened first keeps
working between the abuses and its data stays intact. Prints one line per
case; exits 1 at the first case that does not behave.
"""
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from nbd_raw import *  # noqa: F401,F403 (the protocol's names and calls)

sock_path = sys.argv[1]
export_size = int(sys.argv[2])
read_only = "--read-only" in sys.argv


def expect_error(s, what, cmd, offset, length, error, flags=0, payload=b""):
    c = request(s, cmd, offset, length, flags, payload)
    got, _ = simple_reply(s, c)
    if got != error:
        fail("%s: error %d, expected %d" % (what, got, error))
    print("ok: %s -> error %d" % (what, error))


# The well-behaved connection: its bytes must survive everything below.
good = connect(sock_path)
size, _ = go(good)
if size != export_size:
    fail("export size %d, expected %d" % (size, export_size))
pattern = bytes(range(256)) * 16  # 4096 bytes, written unaligned


def good_roundtrip(step):
    if not read_only:
        c = request(good, WRITE, 1000 + step, len(pattern), payload=pattern)
        if simple_reply(good, c)[0]:
            fail("good client's write failed after: " + step_names[step])
    c = request(good, READ, 1000 + step if not read_only else 0, len(pattern))
    err, data = simple_reply(good, c, len(pattern))
    if err or (not read_only and data != pattern):
        fail("good client's read back failed after: " + step_names[step])


step_names = []


def case(name):
    step_names.append(name)
    return len(step_names) - 1


# Transmission-phase abuses on one connection that must stay usable.
bad = connect(sock_path)
go(bad)
for what, cmd, off, ln, err, fl, payload in [
    ("unknown command 99", 99, 0, 512, EINVAL, 0, b""),
    ("read past the end", READ, export_size - 512, 1024, EINVAL, 0, b""),
    ("read starting past the end", READ, export_size + 4096, 1, EINVAL, 0, b""),
    ("read with offset + length overflowing 64 bits", READ, 2**64 - 512, 1024, EINVAL, 0, b""),
    ("read of 2^32-1 bytes", READ, 0, 2**32 - 1, EINVAL, 0, b""),
    ("read with an unknown flag", READ, 0, 512, EINVAL, 1 << 15, b""),
    ("block status without a meta context", BLOCK_STATUS, 0, 512, EINVAL, 0, b""),
    ("flush with a nonzero length", FLUSH, 0, 512, EINVAL, 0, b""),
    ("cache past the end", CACHE, export_size, 512, EINVAL, 0, b""),
] + ([
    ("write to a read-only export", WRITE, 0, 1024, EPERM, 0, b"x" * 1024),
    ("trim on a read-only export", TRIM, 0, 4096, EPERM, 0, b""),
    ("write zeroes on a read-only export", ZEROES, 0, 4096, EPERM, 0, b""),
] if read_only else [
    ("write past the end (payload skipped)", WRITE, export_size - 100, 1024, ENOSPC, 0, b"y" * 1024),
    ("write with an unknown flag (payload skipped)", WRITE, 0, 1024, EINVAL, 1 << 14, b"z" * 1024),
    ("write zeroes past the end", ZEROES, export_size - 100, 4096, ENOSPC, 0, b""),
    ("trim past the end", TRIM, export_size, 1, EINVAL, 0, b""),
    ("write zeroes with the DF flag", ZEROES, 0, 512, EINVAL, 4, b""),
]):
    expect_error(bad, what, cmd, off, ln, err, fl, payload)
    good_roundtrip(case(what))

for what, cmd in [("read", READ), ("write", WRITE), ("trim", TRIM), ("write zeroes", ZEROES)]:
    if read_only and cmd != READ:
        continue
    c = request(bad, cmd, 4096, 0)
    err, _ = simple_reply(bad, c)
    if err:
        fail("%s of 0 bytes: error %d" % (what, err))
    print("ok: %s of 0 bytes succeeds" % what)
good_roundtrip(case("zero-length requests"))

# Structured replies: errors come as error chunks with a message.
st = connect(sock_path)
go(st, structured=True)
c = request(st, READ, export_size - 1, 2)
flags, rtype, got, data = structured_chunk(st)
err, mlen = struct.unpack(">IH", data[:6])
if rtype != 0x8001 or not flags & 1 or got != c or err != EINVAL or b"past" not in data[6:6 + mlen]:
    fail("structured read past the end: type %x flags %x error %d %r" % (rtype, flags, err, data))
print("ok: structured read past the end -> error chunk: %s" % data[6:6 + mlen].decode())
good_roundtrip(case("structured error"))

if not read_only:
    # A write whose payload the server will not read: the reply, then a hang-up.
    big = connect(sock_path)
    go(big)
    c = request(big, WRITE, 0, 2**32 - 1)
    err, _ = simple_reply(big, c)
    if err != EINVAL or not is_closed(big):
        fail("write of 2^32-1 bytes: error %d, then the connection should close" % err)
    print("ok: write of 2^32-1 bytes -> EINVAL, then disconnect")
    good_roundtrip(case("write of 2^32-1 bytes"))

# Broken framing: the connection goes, nobody else notices.
for what, send in [
    ("truncated request header", struct.pack(">IHH", REQUEST_MAGIC, 0, READ)),
    ("bad request magic", struct.pack(">IHHQQI", 0x12345678, 0, READ, 1, 0, 512)),
]:
    s = connect(sock_path)
    go(s)
    s.sendall(send)
    if what.startswith("truncated"):
        s.shutdown(socket.SHUT_WR)
    if not is_closed(s):
        fail(what + ": the server kept the connection")
    print("ok: %s -> disconnect" % what)
    good_roundtrip(case(what))

# Handshake abuses.
s = connect(sock_path, flags=0x80)
if not is_closed(s):
    fail("unknown client flags: not disconnected")
print("ok: unknown client flags -> disconnect")
s = connect(sock_path)
send_option(s, 99)
if option_reply(s)[1] != ERR_UNSUP:
    fail("unknown option not answered NBD_REP_ERR_UNSUP")
send_option(s, OPT_GO, struct.pack(">I", 7) + b"missing" + struct.pack(">H", 0))
if option_reply(s)[1] != ERR_UNKNOWN:
    fail("NBD_OPT_GO of an unknown export not answered NBD_REP_ERR_UNKNOWN")
send_option(s, OPT_GO, struct.pack(">I", 100) + b"short")
if option_reply(s)[1] != ERR_INVALID:
    fail("malformed NBD_OPT_GO not answered NBD_REP_ERR_INVALID")
q = b"base:allocation"
send_option(s, OPT_SET_META, struct.pack(">I", 0) + struct.pack(">II", 1, len(q)) + q)
if option_reply(s)[1] != ERR_INVALID:
    fail("NBD_OPT_SET_META_CONTEXT before structured replies not refused")
send_option(s, OPT_STRUCTURED, b"", 0)
option_reply(s)
send_option(s, OPT_STRUCTURED)
if option_reply(s)[1] != ERR_INVALID:
    fail("a second NBD_OPT_STRUCTURED_REPLY not refused")
send_option(s, 3, b"\0" * (1 << 20))  # NBD_OPT_LIST with 1 MiB of data
if option_reply(s)[1] != ERR_TOO_BIG:
    fail("1 MiB of option data not answered NBD_REP_ERR_TOO_BIG")
size, _ = go(s)
if size != export_size:
    fail("after the refused options, NBD_OPT_GO did not work")
print("ok: unknown option, unknown export, malformed GO, early SET_META_CONTEXT, "
      "second STRUCTURED_REPLY, oversized option: each refused, then GO works")
s = connect(sock_path)
send_option(s, 3, b"", 2**32 - 1)
if not is_closed(s):
    fail("option length 2^32-1: not disconnected")
print("ok: option of 2^32-1 bytes -> disconnect")
s = connect(sock_path)
s.sendall(struct.pack(">QII", 0x1122334455667788, 7, 0))
if not is_closed(s):
    fail("option without IHAVEOPT: not disconnected")
print("ok: option without the IHAVEOPT magic -> disconnect")
good_roundtrip(case("handshake abuses"))

request(good, DISC, 0, 0)
if not is_closed(good):
    fail("NBD_CMD_DISC did not close the connection")
print("ok: the good connection worked throughout, and NBD_CMD_DISC closed it")
