"""docs/python.md quotes this program verbatim (tools.doc_snippets checks it;
ctest python.examples runs it): change both together."""
import granule

with granule.open({"driver": "memory", "size": "1M"}) as dev:
    assert dev.pwrite(100, b"hello") == 5
    buf = bytearray(7)
    assert dev.pread_into(99, buf) == 7 and buf == b"\0hello\0"
    assert dev.pwritev(200, [b"ab", memoryview(b"cd"), bytearray(b"ef")]) == 6
    parts = [bytearray(3), bytearray(3)]
    dev.preadv(200, parts)
    assert parts == [b"abc", b"def"]
    dev.write_zeroes(100, 3)
    assert dev.pread(100, 5) == b"\0\0\0lo"
    dev.flush()
    dev.truncate(4096)
    assert dev.length == 4096
