"""Buffer types: anything with the buffer protocol is written from, anything
writable and C-contiguous is read into, its own memory handed to Granule
(bytes_bounced counts only what Granule copied because of alignment)."""
import array
import asyncio
import mmap

import pytest

import granule
from conftest import need, open_memory, test_bytes

try:
    import numpy
except ImportError:  # the tests that need it say so
    numpy = None


def test_write_from_every_buffer_type():
    data = test_bytes(10000, 3)
    m = mmap.mmap(-1, 10000)
    m.write(data)
    sources = {"bytes": data, "bytearray": bytearray(data), "memoryview": memoryview(data),
               "memoryview slice": memoryview(b"\xff" * 7 + data + b"\xff")[7:-1],
               "mmap": m, "array": array.array("B", data)}
    if numpy is not None:
        sources["numpy uint32"] = numpy.frombuffer(data, dtype=numpy.uint32)
        sources["numpy 2-d"] = numpy.frombuffer(data, dtype=numpy.uint8).reshape(100, 100)
    with open_memory() as dev:
        for i, (name, src) in enumerate(sources.items()):
            off = 1 + i * 12345
            n = memoryview(src).nbytes
            dev.write_zeroes(0, dev.length)
            assert dev.pwrite(off, src) == n, name
            assert dev.pread(off - 1, n + 2) == b"\0" + data[:n] + b"\0", name
    need(numpy is not None, "numpy not installed (python3-numpy)")


def test_read_into_every_writable_buffer_type():
    data = test_bytes(70000, 4)
    with open_memory() as dev:
        dev.pwrite(3, data)
        ba = bytearray(5000)
        assert dev.pread_into(3, ba) == 5000 and ba == data[:5000]
        # A slice of a bytearray: only the slice changes.
        big = bytearray(b"\xee" * 9000)
        assert dev.pread_into(4, memoryview(big)[1000:5000]) == 4000
        assert big[:1000] == b"\xee" * 1000 and big[5000:] == b"\xee" * 4000
        assert big[1000:5000] == data[1:4001]
        m = mmap.mmap(-1, 65536)
        assert dev.pread_into(3, m) == 65536 and m[:] == data[:65536]
        arr = array.array("H", bytes(4000))  # 2000 items
        assert dev.pread_into(3, arr) == 4000
        assert arr.tobytes() == data[:4000]
        need(numpy is not None, "numpy not installed (python3-numpy)")
        a2 = numpy.zeros((50, 40), dtype=numpy.uint16)
        assert dev.pread_into(3, a2) == 4000
        assert a2.tobytes() == data[:4000]
        with pytest.raises(TypeError):  # not C-contiguous
            dev.pread_into(0, numpy.zeros((40, 50), dtype=numpy.uint8)[:, ::2])
        with pytest.raises(TypeError):  # read-only array
            dev.pread_into(0, numpy.frombuffer(b"abc", dtype=numpy.uint8))


def aligned_numpy(n, align, skew=0):
    """A numpy array of n bytes whose address is skew bytes past a multiple of align."""
    raw = numpy.zeros(n + 2 * align, dtype=numpy.uint8)
    start = (-raw.ctypes.data) % align + skew
    view = raw[start:start + n]
    assert view.ctypes.data % align == skew % align
    return view


def test_zero_copy_when_aligned_bounce_when_not():
    """blkdebug mem-align=4096: the buffer address decides, not its type."""
    spec = "driver=blkdebug,align=4096,mem-align=4096,image.driver=memory,image.size=1M"
    m = mmap.mmap(-1, 3 * 65536)  # page-aligned
    mv = memoryview(m)
    cases = [("mmap", mv[:65536], 0), ("mmap at +4096", mv[4096:69632], 0),
             ("mmap at +1", mv[1:65537], 65536), ("mmap at +512", mv[512:66048], 65536)]
    if numpy is not None:
        cases += [("numpy aligned", aligned_numpy(65536, 4096), 0),
                  ("numpy skewed", aligned_numpy(65536, 4096, 64), 65536)]
    with granule.open(spec) as dev:
        assert dev.limits.min_mem_alignment == 4096
        for name, buf, bounced in cases:
            dev.reset_stats()
            dev.pwrite(8192, buf)
            assert dev.stats.bytes_bounced == bounced, f"pwrite from {name}"
            dev.reset_stats()
            dev.pread_into(8192, buf)
            assert dev.stats.bytes_bounced == bounced, f"pread_into {name}"
    need(numpy is not None, "numpy not installed (python3-numpy)")


def test_buffer_held_until_async_request_completes():
    """A bytearray given to awrite cannot be resized until the request is
    over (its buffer export is held), even when the future was cancelled."""
    async def main():
        # 1 MiB/s for writes: the second write waits ~0.5 s for its turn.
        with open_memory(extra={"throttle.bps-write": "1M"}) as dev:
            first = dev.awrite(0, bytes(512 * 1024))
            ba = bytearray(b"q" * 4096)
            fut = dev.awrite(1 << 19, ba)
            fut.cancel()
            with pytest.raises(BufferError):
                ba.extend(b"more")
            await first
            while dev.in_flight:
                await asyncio.sleep(0.01)
            ba.extend(b"more")  # released now
            assert fut.cancelled()
            assert dev.pread(1 << 19, 4096) == b"q" * 4096  # the write still happened
    asyncio.run(main())
