#!/usr/bin/env python3
"""Sparse copy between any two Granule devices with asyncio: what
`granule-img convert` does, in Python over the granule package.

    copy.py [-n] [-S SPARSE_SIZE] [--depth N] [--chunk SIZE] SRC DST

SRC and DST are specs as granule.open() takes them (a filename, dotted
options "driver=blkdebug,align=4096,image.driver=raw-posix,image.filename=d.img",
"iscsi://...", "nbd+unix://..."). SRC is opened read-only. The rules are
convert's (docs/granule-img.md):

- SRC is cut into SPARSE_SIZE units (default 4k, aligned to absolute
  offsets; the last may be shorter). A unit whose bytes are all zero is not
  written as data: units SRC's block status reports as zero are not even
  read, the others are read and scanned.
- DST a filename that does not exist: created (O_EXCL: an existing one, or a
  symbolic link, is refused and nothing is changed) with SRC's length, zero
  units left as holes; removed again if the copy fails.
- -n, or DST given as options or a URL: DST must exist; zero units are
  written with write_zeroes, so no old data survives under them; DST's
  bytes past SRC's length are kept. A DST shorter than SRC is refused before
  anything is written, naming both lengths, unless it can grow (growable=on).
- A container image (qcow2, vmdk, ...) as SRC or DST is refused unless its
  spec says format=raw: Granule has no format drivers.
- -S 0 copies every byte as data. DST is flushed at the end.

Pipeline: DEPTH workers (default 8), each with a CHUNK-sized (default 1M)
page-aligned buffer (an anonymous mmap), read a chunk with aread_into and
write its data runs with awrite from slices of that same buffer: no byte is
copied in Python, and on an O_DIRECT target the chunk-aligned slices go to
the disk without a bounce. A summary line like convert's is printed.
Exit status: 0 copied, 1 failure, 2 usage error.
"""
import argparse
import asyncio
import mmap
import os
import re
import sys
import time

import granule

SIZE_SUFFIX = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parse_size(text):
    m = re.fullmatch(r"(\d+)\s*([kmgt]?)(i?b)?", text.strip().lower())
    if not m:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 4096, 64k, 1M)")
    return int(m.group(1)) * SIZE_SUFFIX[m.group(2)]


def looks_like_options(spec):
    """As Granule decides (core/src/options.cpp): dotted options when
    driver= or filename= is a top-level key."""
    return any(spec.startswith(k) or "," + k in spec for k in ("driver=", "filename="))


def is_plain_path(spec):
    return not looks_like_options(spec) and "://" not in spec


class CopyError(Exception):
    pass


def side(name, err):
    return CopyError(f"{name}: {err.strerror if isinstance(err, OSError) else err}")


class Copier:
    def __init__(self, src, dst, chunk, depth, sparse, target_is_zero):
        self.src, self.dst = src, dst
        self.chunk, self.depth, self.unit = chunk, depth, sparse
        self.target_is_zero = target_is_zero
        self.length = src.length
        self.data_bytes = self.zero_bytes = 0
        self.zero_unit = bytes(sparse)

    async def walk(self, pos, count):
        """Up to count extents of SRC from pos: (start, end, zero)."""
        out = []
        while pos < self.length and len(out) < count:
            e = await self.src.ablock_status(pos, self.length - pos)
            out.append((e.offset, e.offset + e.length, e.zero))
            pos += e.length
        return out

    async def extents(self):
        """SRC's extents, in batches fetched one ahead. Block status waits
        behind the reads the device is busy with: asked one at a time when
        needed, each wait would be on the critical path; asked ahead,
        asynchronously, the reads go on meanwhile."""
        try:
            batch = asyncio.create_task(self.walk(0, 16))
            while True:
                extents = await batch
                end = extents[-1][1] if extents else self.length
                if end < self.length:
                    batch = asyncio.create_task(self.walk(end, 256))
                for e in extents:
                    yield e
                if end >= self.length:
                    return
        except granule.Error as err:
            raise side("SRC", err)

    async def pieces(self):
        """("zero" | "data", offset, length) covering SRC, each starting on a
        unit: runs of whole units SRC's block status says are zero (not read),
        and data to read and scan, cut at chunk boundaries (chunk-aligned
        offsets keep buffers and disk aligned)."""
        pos, end, unit, chunk = 0, self.length, self.unit, self.chunk
        if not unit:  # -S 0: all data, no block status
            for pos in range(0, end, chunk):
                yield "data", pos, min(chunk, end - pos)
            return
        async for start, stop, zero in self.extents():
            if stop <= pos:
                continue  # a data piece took it in, rounded up to a unit
            if zero:
                # Whole units only (and the last, shorter one); a part of a
                # unit is read and scanned with the data after it.
                zero_end = stop if stop >= end else stop // unit * unit
                if zero_end > pos:
                    yield "zero", pos, zero_end - pos
                    pos = zero_end
                continue
            # Data up to the unit holding the extent's end.
            limit = min(end, -(-stop // unit) * unit)
            while pos < limit:
                cut = min(limit, (pos // chunk + 1) * chunk)
                if cut < limit:
                    cut = max(pos + unit, cut // unit * unit)
                yield "data", pos, cut - pos
                pos = cut

    async def produce(self, queue):
        """Runs ahead of the workers: the next pieces are known before a
        worker is free for them."""
        async for piece in self.pieces():
            await queue.put(piece)
        for _ in range(self.depth):
            await queue.put(None)

    def runs(self, base, n):
        """(is_zero, start, stop) runs of pool[base:base + n], a piece: it
        starts on a unit and holds whole units (SRC's last may be shorter)."""
        unit, pool = self.unit, self.pool
        if not unit:
            yield False, 0, n
            return
        start, cur = 0, None
        zero_unit, zero_head = self.zero_unit, self.zero_unit[:16]
        for pos in range(0, n, unit):
            nxt = min(n, pos + unit)
            # mmap slices are bytes and == is a memcmp. A unit of data almost
            # always shows it in its first bytes: only one starting with
            # zeroes is copied out whole to be compared.
            head = pool[base + pos:base + min(nxt, pos + 16)]
            z = head == zero_head[:len(head)] and pool[base + pos:base + nxt] == (
                zero_unit if nxt - pos == unit else bytes(nxt - pos))
            if z != cur:
                if cur is not None:
                    yield cur, start, pos
                cur, start = z, pos
        yield cur, start, n

    async def zero(self, off, n):
        self.zero_bytes += n
        if not self.target_is_zero:
            try:
                await self.dst.awrite_zeroes(off, n)
            except granule.Error as e:
                raise side("DST", e)

    async def worker(self, queue, index):
        base = index * self.chunk
        view = memoryview(self.pool)[base:base + self.chunk]
        try:
            while (piece := await queue.get()) is not None:
                kind, off, n = piece
                if kind == "zero":
                    await self.zero(off, n)
                    continue
                try:
                    await self.src.aread_into(off, view[:n])
                except granule.Error as e:
                    raise side("SRC", e)
                writes = []
                for is_zero, a, b in self.runs(base, n):
                    if is_zero:
                        writes.append(self.zero(off + a, b - a))
                    else:
                        self.data_bytes += b - a
                        writes.append(self.dst.awrite(off + a, view[a:b]))
                for result in await asyncio.gather(*writes, return_exceptions=True):
                    if isinstance(result, granule.Error):
                        raise side("DST", result)
                    if isinstance(result, BaseException):
                        raise result
        finally:
            view.release()

    async def run(self):
        self.pool = buffer_pool(self.depth * self.chunk)
        queue = asyncio.Queue(maxsize=2 * self.depth)
        tasks = [asyncio.create_task(self.produce(queue))]
        tasks += [asyncio.create_task(self.worker(queue, i)) for i in range(self.depth)]
        try:
            await asyncio.gather(*tasks)
        finally:
            # A failure stops the other tasks (requests they submitted still
            # complete: closing the devices waits for them).
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


def buffer_pool(size):
    """The workers' buffers: one anonymous mapping, page-aligned (an O_DIRECT
    device takes slices of it without a bounce), backed by transparent huge
    pages where the kernel allows, and faulted in before the copy: touching
    fresh 4 KiB pages under the first reads cost more than copying a sparse
    file on the machine this was measured on (docs/benchmarks.md)."""
    huge = 2 << 20
    size = -(-size // huge) * huge
    pool = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    try:
        pool.madvise(mmap.MADV_HUGEPAGE)
    except (AttributeError, OSError):
        pass  # 4 KiB pages then
    for off in range(0, size, mmap.PAGESIZE):
        pool[off] = 0
    return pool


def summary(length, data, zero, holes, seconds):
    mbps = length / seconds / 1e6 if seconds > 0 else 0
    return (f"copied {length} bytes: {data} data, {zero} zero "
            f"({'left as holes' if holes else 'written as zeroes'}) in {seconds:.3f} s "
            f"({mbps:.1f} MB/s)")


def copy(args):
    """0 when copied; 1 after printing why not."""
    try:
        src = granule.open(args.src, read_only=True)
    except granule.Error as e:
        print(f"copy.py: can't open SRC: {e.strerror}", file=sys.stderr)
        return 1
    created = False
    try:
        # Copying a container's bytes is not converting the disk in it.
        if src.format != "raw":
            raise CopyError(f"SRC is {src.format_description}: Granule has no format drivers, so "
                            "this would copy the container, not the disk in it; give format=raw in "
                            "SRC (filename=FILE,format=raw) to copy its bytes as they are")
        if is_plain_path(args.dst) and not args.existing:
            # The creation is the existence check: nothing can appear in between.
            try:
                fd = os.open(args.dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                raise CopyError(f"DST '{args.dst}' exists; pass -n to write into it "
                                "(nothing was changed)")
            except OSError as e:
                raise CopyError(f"can't create DST '{args.dst}': {e.strerror}")
            created = True
            try:
                os.ftruncate(fd, src.length)  # the holes are there from the start
            finally:
                os.close(fd)
            dst_spec = {"filename": args.dst, "format": "raw"}
        else:
            if is_plain_path(args.dst) and not os.path.exists(args.dst):
                raise CopyError(f"DST '{args.dst}' does not exist (-n writes into an existing target)")
            dst_spec = args.dst
        try:
            dst = granule.open(dst_spec)
        except granule.Error as e:
            raise CopyError(f"can't open DST: {e.strerror}")
        with dst:
            if dst.read_only:
                raise CopyError("DST is read-only")
            if dst.format != "raw":
                raise CopyError(f"DST is {dst.format_description}: give format=raw in DST to "
                                "write raw bytes over it (nothing was changed)")
            if not dst.growable and dst.length < src.length:
                raise CopyError(f"DST holds {dst.length} bytes, SRC has {src.length} and DST "
                                "cannot grow: nothing was written")
            start = time.monotonic()
            c = Copier(src, dst, args.chunk, args.depth, args.sparse, created)
            asyncio.run(c.run())
            try:
                dst.flush()
            except granule.Error as e:
                raise side("DST", e)
            seconds = time.monotonic() - start
        print(summary(src.length, c.data_bytes, c.zero_bytes, created, seconds))
        return 0
    except BaseException as e:
        if isinstance(e, CopyError):
            print(f"copy.py: {e}", file=sys.stderr)
        if created:
            os.unlink(args.dst)
            print(f"copy.py: removed the incomplete '{args.dst}'", file=sys.stderr)
        if isinstance(e, CopyError):
            return 1
        raise
    finally:
        src.close()


def main(argv=None):
    p = argparse.ArgumentParser(description="Sparse copy between two Granule devices.")
    p.add_argument("src", metavar="SRC")
    p.add_argument("dst", metavar="DST")
    p.add_argument("-n", dest="existing", action="store_true",
                   help="write into an existing DST (zero runs written as zeroes)")
    p.add_argument("-S", dest="sparse", type=parse_size, default=4096, metavar="SPARSE_SIZE",
                   help="zero units of this size are not copied as data (default 4k; 0: all data)")
    p.add_argument("--chunk", type=parse_size, default=1 << 20, metavar="SIZE",
                   help="bytes per read (default 1M)")
    p.add_argument("--depth", type=int, default=8, metavar="N",
                   help="chunks in flight (default 8, 1 to 64)")
    args = p.parse_args(argv)
    if not 1 <= args.depth <= 64:
        p.error(f"--depth must be 1 to 64, not {args.depth}")
    if not 1 <= args.chunk <= 1 << 30:
        p.error(f"--chunk must be 1 byte to 1G, not {args.chunk}")
    if args.sparse > args.chunk:
        p.error(f"-S {args.sparse} is larger than the chunk {args.chunk}")
    return copy(args)


if __name__ == "__main__":
    sys.exit(main())
