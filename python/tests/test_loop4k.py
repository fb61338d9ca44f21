"""A real loop device with 4096-byte sectors opened with O_DIRECT
(cache.direct=on): probed limits with their sources, byte-exact unaligned
I/O checked through an independent O_DIRECT read of the device, and zero-copy
(a 4096- or 512-aligned buffer is not bounced, a misaligned one is), for
synchronous and asyncio calls and every buffer type that can be aligned."""
import asyncio
import errno
import mmap
import os

import pytest

import granule
from conftest import need, test_bytes

try:
    import numpy
except ImportError:
    numpy = None


def spec(loop):
    return f"driver=raw-posix,filename={loop},cache.direct=on"


def read_direct(loop, length):
    """The device's bytes read with O_DIRECT without Granule (a page-aligned
    mmap as the buffer), so nothing is served from a cache Granule filled."""
    fd = os.open(loop, os.O_RDONLY | os.O_DIRECT)
    try:
        buf = mmap.mmap(-1, length)
        assert os.preadv(fd, [buf], 0) == length
        return bytes(buf)
    finally:
        os.close(fd)


def test_limits_are_probed(loop4k):
    with granule.open(spec(loop4k)) as dev:
        limits = dev.limits
        assert limits.request_alignment == 4096
        assert limits.sources["request_alignment"] == "raw-posix: statx"
        # Memory needs only the DMA alignment: the gap zero-copy lives in.
        assert limits.min_mem_alignment == 512
        assert limits.sources["min_mem_alignment"] == "raw-posix: statx"
        assert dev.length == 16 << 20


def test_unaligned_io_byte_exact(loop4k):
    size = 16 << 20
    model = bytearray(size)
    writes = [(0, 1), (511, 2), (4095, 4098), (8191, 1), (65537, 131072 + 5),
              (size - 3, 3), (1 << 20, 1 << 20), ((3 << 20) + 100, 70000)]
    with granule.open(spec(loop4k)) as dev:
        for i, (off, n) in enumerate(writes):
            data = test_bytes(n, 40 + i)
            dev.pwrite(off, data)
            model[off:off + n] = data
        for off, n in writes + [(1, 4095), (4097, 12288), (size - 4097, 4097)]:
            assert dev.pread(off, n) == model[off:off + n], (off, n)
        with pytest.raises(granule.Error) as e:  # a block device has a fixed size
            dev.pwrite(size - 1, b"ab")
        assert e.value.errno == errno.EIO
        dev.flush()
    assert read_direct(loop4k, size) == model


def aligned_numpy(n, align, skew=0):
    raw = numpy.zeros(n + 2 * align, dtype=numpy.uint8)
    start = (-raw.ctypes.data) % align + skew
    return raw[start:start + n]


def test_zero_copy_unless_misaligned(loop4k):
    n = 65536
    m = mmap.mmap(-1, 4 * n)  # page-aligned
    mv = memoryview(m)
    # (name, buffer, bytes Granule must bounce for one aligned request)
    cases = [("mmap 4096-aligned", mv[:n], 0),
             ("mmap 512-aligned", mv[512:512 + n], 0),
             ("mmap misaligned by 1", mv[1:1 + n], n),
             ("mmap misaligned by 256", mv[256:256 + n], n)]
    if numpy is not None:
        cases += [("numpy 4096-aligned", aligned_numpy(n, 4096), 0),
                  ("numpy misaligned by 8", aligned_numpy(n, 4096, 8), n)]
    with granule.open(spec(loop4k)) as dev:
        for name, buf, bounced in cases:
            memoryview(buf)[:] = test_bytes(n, len(name))
            expect = bytes(buf)
            dev.reset_stats()
            dev.pwrite(8192, buf)
            assert dev.stats.bytes_bounced == bounced, f"pwrite from {name}"
            memoryview(buf)[:] = bytes(n)
            dev.reset_stats()
            dev.pread_into(8192, buf)
            assert dev.stats.bytes_bounced == bounced, f"pread_into {name}"
            assert bytes(buf) == expect, name

            async def both():
                dev.reset_stats()
                await dev.awrite(3 * 65536, buf)
                await dev.aread_into(3 * 65536, buf)
                return dev.stats.bytes_bounced
            assert asyncio.run(both()) == 2 * bounced, f"awrite/aread_into {name}"
            assert bytes(buf) == expect, name
    need(numpy is not None, "numpy not installed (python3-numpy)")


def test_truncate_refused_on_a_block_device(loop4k):
    with granule.open(spec(loop4k)) as dev:
        with pytest.raises(granule.Error) as e:
            dev.truncate(4096)
        assert e.value.errno == errno.ENOTSUP and "granule_truncate" in e.value.strerror
        assert dev.length == 16 << 20
