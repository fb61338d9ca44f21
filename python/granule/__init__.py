"""Granule: byte-granularity I/O on disk images, block devices, iSCSI LUNs and
NBD exports, whatever alignment the backend demands.

    import granule
    with granule.open("driver=blkdebug,align=4096,image.driver=memory,image.size=1M") as dev:
        dev.pwrite(100, b"hello")
        assert dev.pread(100, 5) == b"hello"

The I/O methods (pread, pread_into, pwrite, preadv, pwritev, flush, discard,
write_zeroes, truncate and the asyncio ones aread, aread_into, awrite,
aflush, adiscard, awrite_zeroes) are the C extension's own, over Granule's C
API (granule.h); this module adds what is easier in Python: option
mappings, the limits and stats objects, the block_status iterator and the
context manager. docs/python.md describes all of it.
"""

from collections import namedtuple
from collections.abc import Mapping
import os

from . import _granule
from ._granule import (  # noqa: F401  (re-exported)
    Error,
    FileNotFoundError,
    FileExistsError,
    IsADirectoryError,
    NotADirectoryError,
    PermissionError,
    TimeoutError,
    InterruptedError,
    BlockingIOError,
    BrokenPipeError,
    ConnectionAbortedError,
    ConnectionRefusedError,
    ConnectionResetError,
    ProcessLookupError,
    ChildProcessError,
    IO_FUA,
    IO_MAY_UNMAP,
    IO_NO_FALLBACK,
)

__version__ = "0.1.0"
__all__ = ["open", "Device", "Error", "Extent", "Limits", "Stats", "version", "c_api_version"]

version = _granule.version
c_api_version = _granule.c_api_version

Extent = namedtuple("Extent", "offset length zero data allocated")
Extent.__doc__ = """What block_status says of [offset, offset + length): zero (reads
return zeroes), data (allocated in the backend), allocated (the device's own
top node holds it, not a backing node)."""


def _option_text(key, value):
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, (str, int)):
        return str(value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"option {key!r}: value must be str, int, bool or a path, "
                    f"not {type(value).__name__}")


def _option_pairs(options, prefix=""):
    """(key, value) pairs of str from a mapping of dotted keys; a nested mapping
    is a child's options ({"image": {"driver": "memory"}} is image.driver)."""
    pairs = []
    for key, value in options.items():
        if not isinstance(key, str):
            raise TypeError(f"option keys must be str, not {key!r}")
        if isinstance(value, Mapping):
            pairs += _option_pairs(value, prefix + key + ".")
        else:
            pairs.append((prefix + key, _option_text(prefix + key, value)))
    return pairs


class Limits:
    """What the device's backend needs and prefers: one int attribute per limit
    (request_alignment, min_mem_alignment, ..., in bytes; max_iov in buffers;
    0 means unlimited for the max_ ones, no preference for opt_transfer), and
    .sources, name -> where the value came from ("raw-posix: statx
    STATX_DIOALIGN", "blkdebug: option align", "default"). Iterating gives
    (name, value, source) in granule.h's order."""

    def __init__(self, entries):
        self._entries = tuple(entries)
        self.sources = {name: source for name, _, source in self._entries}
        for name, value, _ in self._entries:
            setattr(self, name, value)

    def __iter__(self):
        return iter(self._entries)

    def __repr__(self):
        fields = ", ".join(f"{n}={v}" for n, v, _ in self._entries)
        return f"Limits({fields})"


class Stats:
    """Counters since open or the last reset_stats(): one int attribute per
    counter (read_requests, bytes_bounced, rmw_cycles, ...); as_dict()."""

    def __init__(self, entries):
        self._entries = tuple(entries)
        for name, value in self._entries:
            setattr(self, name, value)

    def as_dict(self):
        return dict(self._entries)

    def __repr__(self):
        fields = ", ".join(f"{n}={v}" for n, v in self._entries)
        return f"Stats({fields})"


class Device(_granule.Device):
    """An open device: Device(spec, read_only=False), the same as
    granule.open(). A context manager that closes it on exit."""

    def __init__(self, spec, read_only=False):
        if isinstance(spec, Mapping):
            spec = _option_pairs(spec)
        elif isinstance(spec, os.PathLike):
            spec = os.fspath(spec)
        if not isinstance(spec, (str, list)):
            raise TypeError(f"spec must be a str, a path or a mapping of options, "
                            f"not {type(spec).__name__}")
        super().__init__(spec, read_only)

    def __enter__(self):
        if self.closed:
            raise ValueError("I/O operation on a closed device")
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        if self.closed:
            return "<granule.Device closed>"
        return f"<granule.Device length={self.length} read_only={self.read_only}>"

    @property
    def limits(self):
        """A Limits object (a snapshot: the limits change only through reopen)."""
        return Limits(self._limits())

    @property
    def stats(self):
        """A Stats object: the counters at the time of the call."""
        return Stats(self._stats())

    def reopen(self, changes):
        """Changes options of the open device ({"cache.direct": False,
        "throttle.bps-total": "10M"}), after the requests in flight; on failure
        nothing changed."""
        if not isinstance(changes, Mapping):
            raise TypeError("changes must be a mapping of dotted keys to values")
        self._reopen(_option_pairs(changes))

    def block_status(self, offset=0, length=None):
        """An iterator of Extent tuples covering [offset, offset + length)
        (length None: to the device's end), each as long as one answer of the
        backend holds. Not ordered with writes in flight: ask after them."""
        if length is None:
            end = self.length
            if offset > end:
                raise ValueError(f"offset {offset} is past the end ({end})")
        else:
            end = offset + length
        if offset < 0 or end < offset:
            raise ValueError(f"offset and length must be >= 0, not {offset}, {length}")
        return self._extents(offset, end)

    def ablock_status(self, offset, length):
        """The first Extent of [offset, offset + length), asynchronously: the
        request is submitted at once, the awaitable returned gives the Extent.
        It does not stall the event loop while the device is busy with other
        requests (block_status would)."""
        future = self._ablock_status(offset, length)

        async def extent():
            n, flags = await future
            return self._extent(offset, n, flags)
        return extent()

    @property
    def format(self):
        """What the first bytes were taken for at open: "raw" (format=raw given,
        or no container signature there), or the container a signature names
        ("qcow2", "vmdk", ...): then the device is only read, writes raise
        PermissionError naming the format, unless opened with format=raw."""
        return self._format_probe[0]

    @property
    def format_description(self):
        """granule-img info's line about the format probe: "raw (given:
        format=raw)", "qcow2 (recognised: magic 'QFI\\xfb' at offset 0, ...)"."""
        return self._format_probe[1]

    @staticmethod
    def _extent(offset, n, flags):
        return Extent(offset, n, bool(flags & _granule.EXTENT_ZERO),
                      bool(flags & _granule.EXTENT_DATA),
                      bool(flags & _granule.EXTENT_ALLOCATED))

    def _extents(self, pos, end):
        while pos < end:
            n, flags = self._block_status(pos, end - pos)
            yield self._extent(pos, n, flags)
            pos += n


def open(spec, read_only=False):  # noqa: A001  (granule.open, like io.open)
    """Opens a device. spec is a str as granule-io takes it (dotted options
    "driver=blkdebug,align=4096,image.driver=memory,image.size=1M", a
    filename, "iscsi://...", "nbd+unix://...") or a mapping of dotted keys to
    values ({"driver": "memory", "size": "1M"}; nested mappings for children)."""
    return Device(spec, read_only)
