"""Raw NBD, client side, for the tests that break the protocol on purpose
(bad_client.py, test_shutdown.sh): the handshake up to NBD_OPT_GO and
requests with exactly the bytes the caller chooses."""
import socket
import struct

NBDMAGIC = 0x4E42444D41474943
IHAVEOPT = 0x49484156454F5054
REPLY_MAGIC = 0x3E889045565A9
REQUEST_MAGIC = 0x25609513
SIMPLE_MAGIC = 0x67446698
STRUCTURED_MAGIC = 0x668E33EF
OPT_GO, OPT_STRUCTURED, OPT_SET_META = 7, 8, 10
REP_ACK, REP_INFO, REP_META = 1, 3, 4
ERR_UNSUP, ERR_INVALID, ERR_UNKNOWN, ERR_TOO_BIG = (0x80000001, 0x80000003, 0x80000006,
                                                    0x80000009)
READ, WRITE, DISC, FLUSH, TRIM, CACHE, ZEROES, BLOCK_STATUS = 0, 1, 2, 3, 4, 5, 6, 7
EPERM, EINVAL, ENOSPC = 1, 22, 28

def recv_exact(s, n):
    data = b""
    while len(data) < n:
        part = s.recv(n - len(data))
        if not part:
            raise EOFError("connection closed after %d of %d bytes" % (len(data), n))
        data += part
    return data


def is_closed(s):
    """The server closed the connection (EOF, or reset) within 5 s."""
    s.settimeout(5)
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def fail(why):
    print("FAIL: " + why)
    raise SystemExit(1)


def connect(sock_path, flags=3):
    """A connection after the greeting and the client flags."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    magic, opt, hflags = struct.unpack(">QQH", recv_exact(s, 18))
    if magic != NBDMAGIC or opt != IHAVEOPT or not hflags & 1:
        fail("greeting: %x %x %x" % (magic, opt, hflags))
    s.sendall(struct.pack(">I", flags))
    return s


def send_option(s, opt, data=b"", length=None):
    s.sendall(struct.pack(">QII", IHAVEOPT, opt, len(data) if length is None else length) + data)


def option_reply(s):
    magic, opt, rtype, length = struct.unpack(">QIII", recv_exact(s, 20))
    if magic != REPLY_MAGIC:
        fail("option reply magic %x" % magic)
    return opt, rtype, recv_exact(s, length)


def go(s, name=b"", structured=False, meta=False):
    if structured:
        send_option(s, OPT_STRUCTURED)
        if option_reply(s)[1] != REP_ACK:
            fail("structured replies refused")
    if meta:
        q = b"base:allocation"
        send_option(s, OPT_SET_META, struct.pack(">I", len(name)) + name + struct.pack(">II", 1, len(q)) + q)
        while option_reply(s)[1] != REP_ACK:
            pass
    send_option(s, OPT_GO, struct.pack(">I", len(name)) + name + struct.pack(">H", 0))
    size = flags = None
    while True:
        _, rtype, data = option_reply(s)
        if rtype == REP_INFO and struct.unpack(">H", data[:2])[0] == 0:
            size, flags = struct.unpack(">QH", data[2:12])
        elif rtype == REP_ACK:
            return size, flags
        elif rtype != REP_INFO:
            fail("NBD_OPT_GO answered %x: %r" % (rtype, data))


cookie = 0


def request(s, cmd, offset, length, flags=0, payload=b""):
    global cookie
    cookie += 1
    s.sendall(struct.pack(">IHHQQI", REQUEST_MAGIC, flags, cmd, cookie, offset, length) + payload)
    return cookie


def simple_reply(s, expect_cookie, read_len=0):
    magic, error, got = struct.unpack(">IIQ", recv_exact(s, 16))
    if magic != SIMPLE_MAGIC or got != expect_cookie:
        fail("reply magic %x cookie %d (expected %d)" % (magic, got, expect_cookie))
    data = recv_exact(s, read_len) if error == 0 and read_len else b""
    return error, data


def structured_chunk(s):
    magic, flags, rtype, got, length = struct.unpack(">IHHQI", recv_exact(s, 20))
    if magic != STRUCTURED_MAGIC:
        fail("chunk magic %x" % magic)
    return flags, rtype, got, recv_exact(s, length)


