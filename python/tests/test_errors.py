"""Errors: granule.Error carries the C API's errno and message; errnos with a
builtin OSError subclass raise a class deriving from both; argument mistakes
are TypeError, ValueError or OverflowError before anything reaches Granule."""
import builtins
import errno
import mmap

import pytest

import granule
from conftest import open_memory


def test_past_the_end_is_eio_naming_offset_and_length():
    with open_memory() as dev:
        with pytest.raises(granule.Error) as e:
            dev.pread(dev.length - 10, 20)
        err = e.value
        assert type(err) is granule.Error and isinstance(err, OSError)
        assert err.errno == errno.EIO
        assert err.strerror.startswith(f"granule_pread: 20 bytes at offset {(1 << 20) - 10}")
        assert "past the end" in err.strerror
        assert str(err) == f"[Errno {errno.EIO}] {err.strerror}"
        with pytest.raises(granule.Error) as e:
            dev.pwrite(1 << 20, b"x" * 4096)
        assert e.value.errno == errno.EIO
        assert "4096 bytes at offset 1048576" in e.value.strerror
        assert dev.stats.failed_requests == 2


def test_bad_flags_are_einval_naming_them():
    with open_memory() as dev:
        with pytest.raises(granule.Error) as e:
            dev.pwrite(0, b"x", flags=0x100)
        assert e.value.errno == errno.EINVAL and "0x100" in e.value.strerror
        # MAY_UNMAP means nothing to a write.
        with pytest.raises(granule.Error) as e:
            dev.pwrite(0, b"x", flags=granule.IO_MAY_UNMAP)
        assert e.value.errno == errno.EINVAL and "0x2" in e.value.strerror
        with pytest.raises(granule.Error) as e:
            dev.write_zeroes(0, 10, flags=0x80)
        assert e.value.errno == errno.EINVAL and "0x80" in e.value.strerror
        dev.write_zeroes(0, 10, flags=granule.IO_MAY_UNMAP | granule.IO_FUA)
        dev.pwrite(0, b"y", flags=granule.IO_FUA)
        assert dev.pread(0, 2) == b"y\0"


def test_unknown_option_is_einval_naming_it():
    with pytest.raises(granule.Error) as e:
        granule.open("driver=memory,size=1M,bogus-key=1")
    assert e.value.errno == errno.EINVAL and "bogus-key" in e.value.strerror
    with pytest.raises(granule.Error) as e:
        granule.open({"driver": "no-such-driver"})
    assert "no-such-driver" in e.value.strerror


def test_missing_file_is_file_not_found(tmp_path):
    missing = tmp_path / "missing.img"
    with pytest.raises(FileNotFoundError) as e:
        granule.open(str(missing))
    err = e.value
    assert isinstance(err, granule.Error) and type(err) is granule.FileNotFoundError
    assert err.errno == errno.ENOENT and str(missing) in err.strerror
    with pytest.raises(granule.Error):
        granule.open({"driver": "raw-posix", "filename": missing})


def test_read_only_device_refuses_changes():
    """The core says EROFS; granule maps it to PermissionError too."""
    with open_memory(read_only=True) as dev:
        assert dev.read_only
        attempts = {"pwrite": lambda: dev.pwrite(5, b"x"),
                    "write_zeroes": lambda: dev.write_zeroes(0, 4096),
                    "discard": lambda: dev.discard(0, 4096),
                    "pwritev": lambda: dev.pwritev(0, [b"a", b"b"])}
        for name, call in attempts.items():
            with pytest.raises(PermissionError) as e:
                call()
            assert isinstance(e.value, granule.Error), name
            assert e.value.errno == errno.EROFS, name
            assert "read-only" in e.value.strerror and e.value.strerror.startswith(f"granule_{name}")
        assert dev.pread(0, 4) == bytes(4)  # reads still work
        assert dev.stats.write_requests == 0 or dev.stats.bytes_written == 0


def test_error_classes():
    pairs = {errno.ENOENT: "FileNotFoundError", errno.EEXIST: "FileExistsError",
             errno.EACCES: "PermissionError", errno.EPERM: "PermissionError",
             errno.EROFS: "PermissionError", errno.ETIMEDOUT: "TimeoutError",
             errno.ECONNREFUSED: "ConnectionRefusedError", errno.EPIPE: "BrokenPipeError",
             errno.EISDIR: "IsADirectoryError"}
    for code, name in pairs.items():
        cls = getattr(granule, name)
        assert issubclass(cls, granule.Error) and issubclass(cls, getattr(builtins, name))
        assert cls.__module__ == "granule"
    assert issubclass(granule.Error, OSError)


def test_injected_error_reaches_python():
    spec = ("driver=blkdebug,align=4096,image.driver=memory,image.size=1M,"
            "inject-error.0.event=read_aio,inject-error.0.errno=61,inject-error.0.offset=65536")
    with granule.open(spec) as dev:
        assert dev.pread(0, 4096) == bytes(4096)
        with pytest.raises(granule.Error) as e:
            dev.pread(65536 + 100, 10)
        assert e.value.errno == 61 and "10 bytes at offset 65636" in e.value.strerror


def test_argument_errors():
    with open_memory() as dev:
        with pytest.raises(ValueError, match="must be >= 0"):
            dev.pread(-1, 10)
        with pytest.raises(ValueError):
            dev.pread(0, -10)
        with pytest.raises(ValueError):
            dev.pwrite(-4096, b"x")
        with pytest.raises(OverflowError):
            dev.pread(1 << 64, 1)
        with pytest.raises(OverflowError):
            dev.pread(0, 1 << 63)
        with pytest.raises(TypeError):
            dev.pread(1.5, 10)
        with pytest.raises(TypeError):
            dev.pread("0", 10)
        with pytest.raises(TypeError):
            dev.pread(0)
        with pytest.raises(TypeError):
            dev.pwrite(0, "text is not bytes")
        with pytest.raises(TypeError):
            dev.pwrite(0, b"x", True)  # fua is keyword-only
        with pytest.raises(TypeError):
            dev.pread_into(0, b"bytes are read-only")
        with pytest.raises(TypeError):
            dev.preadv(0, [bytearray(4), b"read-only"])
        with pytest.raises(ValueError):
            dev.write_zeroes(0, -1)
        with pytest.raises(TypeError):
            dev.reopen("cache.direct=on")
        # A non-contiguous buffer is refused, as by io's readinto and os.write.
        with pytest.raises(TypeError):
            dev.pread_into(0, memoryview(bytearray(100))[::2])
        with pytest.raises(BufferError):
            dev.pwrite(0, memoryview(b"abcd")[::2])
        # numpy-like index objects are integers too.
        assert dev.pread(True, 2) == bytes(2)


def test_a_held_buffer_cannot_be_closed_or_resized_while_used():
    """The binding holds the exporter's buffer for the whole call: an mmap
    with exports refuses close() (BufferError) instead of being unmapped."""
    m = mmap.mmap(-1, 4096)
    view = memoryview(m)
    with open_memory() as dev:
        dev.pread_into(0, view)
    with pytest.raises(BufferError):
        m.close()
    view.release()
    m.close()
