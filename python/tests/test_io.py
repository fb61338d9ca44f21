"""Synchronous I/O: byte-exact at any offset and length through blkdebug
align=4096 over a file, the file's own bytes checked afterwards; vectored
I/O, zeroing, discard, truncate, reopen, block_status, the context manager
and option mappings."""
import asyncio
import errno
import os
import re

import pytest

import granule
from conftest import SOURCE_DIR, open_memory, test_bytes, write_file

# Offsets and lengths around 4096-byte blocks: inside one block, straddling
# one or two boundaries, whole blocks at an odd offset, an exact block.
UNALIGNED = [(1, 1), (511, 2), (513, 1000), (4095, 4098), (8193, 8192), (20000, 100),
             (4096 * 5, 4096), (70001, 65536 * 2 + 3)]


def test_unaligned_writes_and_reads_byte_exact(blkdebug_file):
    spec, path, data = blkdebug_file
    model = bytearray(data)
    with granule.open(spec) as dev:
        assert dev.limits.request_alignment == 4096
        assert dev.limits.sources["request_alignment"] == "blkdebug: option align"
        for i, (off, n) in enumerate(UNALIGNED):
            chunk = test_bytes(n, 100 + i)
            assert dev.pwrite(off, chunk) == n
            model[off:off + n] = chunk
        for off, n in UNALIGNED + [(0, len(model)), (3, 12345), (len(model) - 7, 7)]:
            assert dev.pread(off, n) == model[off:off + n], (off, n)
        stats = dev.stats
        assert stats.rmw_cycles > 0  # the unaligned writes read their edges back
        assert stats.write_requests == len(UNALIGNED)
        assert stats.bytes_written == sum(n for _, n in UNALIGNED)
    assert path.read_bytes() == model  # on the file itself, not only through Granule


def test_pread_into_and_return_values(blkdebug_file):
    spec, _, data = blkdebug_file
    with granule.open(spec) as dev:
        buf = bytearray(5000)
        assert dev.pread_into(4093, buf) == 5000
        assert buf == data[4093:9093]
        assert dev.pwrite(10, memoryview(b"xyz")) == 3
        assert dev.pread(9, 5) == data[9:10] + b"xyz" + data[13:14]


def test_vectored(blkdebug_file):
    spec, path, data = blkdebug_file
    model = bytearray(data)
    parts = [b"a" * 100, bytearray(b"b" * 4000), memoryview(b"c" * 1)]
    with granule.open(spec) as dev:
        assert dev.pwritev(20000, parts) == 4101
        model[20000:24101] = b"a" * 100 + b"b" * 4000 + b"c"
        dests = [bytearray(7), bytearray(4096), bytearray(1)]
        assert dev.preadv(19999, dests) == 4104
        assert b"".join(dests) == model[19999:24103]
        assert dev.pwritev(5, [b"z"], fua=True) == 1
        model[5] = ord("z")
    assert path.read_bytes() == model


def test_write_zeroes_discard_flush(blkdebug_file):
    spec, path, data = blkdebug_file
    model = bytearray(data)
    with granule.open(spec) as dev:
        dev.write_zeroes(1000, 10000)
        model[1000:11000] = bytes(10000)
        dev.write_zeroes(65536, 65536, may_unmap=True)
        model[65536:131072] = bytes(65536)
        dev.write_zeroes(300001, 17, fua=True)
        model[300001:300018] = bytes(17)
        assert dev.pread(0, len(model)) == model
        assert dev.stats.zero_requests == 3
        # Discard is advisory: the bytes may or may not read as zeroes, but
        # nothing outside the range changes.
        dev.discard(4096 * 40, 4096 * 4)
        dev.flush()
        after = dev.pread(0, len(model))
        assert after[:4096 * 40] == model[:4096 * 40]
        assert after[4096 * 44:] == model[4096 * 44:]
        assert dev.stats.discard_requests == 1 and dev.stats.flush_requests >= 1
    assert path.read_bytes()[:4096 * 40] == model[:4096 * 40]


def test_truncate_growable(tmp_path):
    path = tmp_path / "grow.raw"
    write_file(path, b"x" * 1000)
    with granule.open({"driver": "raw-posix", "filename": path, "growable": True}) as dev:
        assert dev.length == 1000
        dev.truncate(10000)
        assert dev.length == 10000
        assert dev.pread(990, 20) == b"x" * 10 + bytes(10)
        dev.pwrite(20000, b"end")  # growable: writes past the end grow it
        assert dev.length == 20003
    assert os.path.getsize(path) == 20003


def test_truncate_resizable():
    with open_memory() as dev:
        dev.pwrite(4000, b"abcdefghij")
        dev.truncate(4096)
        assert dev.length == 4096
        assert dev.pread(4000, 96) == b"abcdefghij" + bytes(86)
        with pytest.raises(granule.Error) as e:  # a fixed size: no growth on write
            dev.pwrite(4096, b"x")
        assert e.value.errno == errno.EIO


def test_zero_length_is_refused():
    """Granule refuses empty requests (EINVAL); the binding passes them on."""
    with open_memory() as dev:
        for call in (lambda: dev.pread(10, 0), lambda: dev.pwrite(10, b""),
                     lambda: dev.preadv(10, []), lambda: dev.write_zeroes(10, 0)):
            with pytest.raises(granule.Error) as e:
                call()
            assert e.value.errno == errno.EINVAL and "length 0" in e.value.strerror


def test_reopen_toggles_o_direct(tmp_path):
    path = tmp_path / "direct.raw"
    write_file(path, test_bytes(1 << 20, 7))
    with granule.open(f"driver=raw-posix,filename={path}") as dev:
        assert dev.limits.request_alignment == 1
        dev.reopen({"cache.direct": True})
        limits = dev.limits
        assert limits.request_alignment >= 512
        assert limits.sources["request_alignment"].startswith("raw-posix")
        dev.pwrite(3, b"odd")  # padded and read-modify-written now
        assert dev.pread(0, 8) == path.read_bytes()[:8]
        dev.reopen({"cache.direct": False})
        assert dev.limits.request_alignment == 1
        with pytest.raises(TypeError):
            dev.reopen([("cache.direct", "on")])


def test_block_status_over_sparse_file(tmp_path):
    path = tmp_path / "sparse.raw"
    mib = 1 << 20
    with open(path, "wb") as f:
        f.truncate(8 * mib)
        f.seek(mib)
        f.write(b"d" * 65536)
        f.seek(5 * mib)
        f.write(b"e" * 4096)
    with granule.open(str(path)) as dev:
        extents = list(dev.block_status())
        # Contiguous, covering the whole device.
        assert extents[0].offset == 0
        for a, b in zip(extents, extents[1:]):
            assert b.offset == a.offset + a.length
        assert extents[-1].offset + extents[-1].length == 8 * mib
        data = [(e.offset, e.length) for e in extents if not e.zero]
        assert data == [(mib, 65536), (5 * mib, 4096)]
        assert all(e.data for e in extents if not e.zero)
        assert all(not e.data for e in extents if e.zero)
        assert all(e.allocated for e in extents)
        # A sub-range starts and ends where asked.
        part = list(dev.block_status(mib - 100, 200))
        assert [(e.offset, e.length, e.zero) for e in part] == [(mib - 100, 100, True),
                                                                 (mib, 100, False)]
        assert list(dev.block_status(dev.length)) == []
        with pytest.raises(ValueError):
            dev.block_status(-1)
        # The asynchronous form gives the same first extents.
        async def first_two():
            return [await dev.ablock_status(0, dev.length), await dev.ablock_status(mib, 4 * mib)]
        assert asyncio.run(first_two()) == [extents[0], extents[1]]


def test_format_probe_and_growable(tmp_path):
    path = tmp_path / "looks-like.qcow2"
    write_file(path, b"QFI\xfb\0\0\0\x03", 1 << 20)
    with granule.open(str(path)) as dev:
        assert dev.format == "qcow2"
        assert dev.format_description.startswith("qcow2 (recognised: magic 'QFI\\xfb' at offset 0")
        assert not dev.growable
        with pytest.raises(PermissionError, match="looks like a qcow2 image"):
            dev.pwrite(4096, b"x")
        assert dev.pread(0, 4) == b"QFI\xfb"
    with granule.open({"filename": path, "format": "raw", "growable": True}) as dev:
        assert dev.format == "raw" and dev.format_description.startswith("raw (given")
        assert dev.growable
        dev.pwrite(4096, b"x")


def test_context_manager_and_close():
    dev = open_memory()
    with dev as d:
        assert d is dev and not d.closed
        d.pwrite(0, b"abc")
    assert dev.closed
    dev.close()  # idempotent
    for call in (lambda: dev.pread(0, 1), lambda: dev.pwrite(0, b"x"), lambda: dev.length,
                 lambda: dev.flush(), lambda: dev.limits, lambda: dev.stats):
        with pytest.raises(ValueError, match="closed"):
            call()
    with pytest.raises(ValueError):
        with dev:
            pass
    assert repr(dev) == "<granule.Device closed>"


def test_open_spec_forms(tmp_path):
    path = tmp_path / "f.raw"
    write_file(path, b"0123456789" * 500)
    specs = [str(path), path, f"driver=raw-posix,filename={path}",
             {"driver": "raw-posix", "filename": str(path)},
             {"driver": "blkdebug", "align": 512, "image": {"driver": "raw-posix", "filename": path}},
             {"driver": "blkdebug", "align": "512", "image.driver": "raw-posix",
              "image.filename": str(path)}]
    for spec in specs:
        with granule.open(spec, read_only=True) as dev:
            assert dev.read_only
            assert dev.pread(5, 10) == b"5678901234", spec
    with granule.Device({"driver": "memory", "size": 4096}) as dev:
        assert dev.length == 4096 and not dev.read_only
    with pytest.raises(TypeError):
        granule.open(42)
    with pytest.raises(TypeError):
        granule.open({"driver": "memory", "size": 1.5})
    with pytest.raises(ValueError, match="NUL"):
        granule.open("driver=memory\0,size=1M")


def test_stats_and_reset():
    with open_memory() as dev:
        dev.pwrite(1, b"x" * 10)
        dev.pread(0, 100)
        s = dev.stats.as_dict()
        assert s["write_requests"] == 1 and s["read_requests"] == 1
        assert s["bytes_written"] == 10 and s["bytes_read"] == 100
        assert s["rmw_cycles"] == 1
        assert list(s)[:3] == ["read_requests", "write_requests", "flush_requests"]
        dev.reset_stats()
        assert set(dev.stats.as_dict().values()) == {0}


def test_limits_object():
    with open_memory() as dev:
        limits = dev.limits
        rows = list(limits)
        names = [r[0] for r in rows]
        assert names[:3] == ["request_alignment", "min_mem_alignment", "opt_mem_alignment"]
        assert "max_iov" in names
        for name, value, source in rows:
            assert getattr(limits, name) == value
            assert limits.sources[name] == source and source
        assert limits.pwrite_zeroes_alignment == 4096


def test_versions_agree():
    assert granule.version() == granule.__version__
    assert granule.c_api_version() >= (1, 0)
    with open(os.path.join(SOURCE_DIR, "CMakeLists.txt")) as f:
        project = re.search(r"project\(granule VERSION ([0-9.]+)", f.read()).group(1)
    with open(os.path.join(SOURCE_DIR, "python", "pyproject.toml")) as f:
        pyproject = re.search(r'^version = "([^"]+)"', f.read(), re.M).group(1)
    assert granule.__version__ == project == pyproject
