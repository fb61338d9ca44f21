"""Requests per second through Python's granule package, for
bench/api_overhead.sh:  api_overhead.py SPEC sync|asyncio COUNT [DEPTH]

The same requests as api_overhead_cpp: 4096-byte reads into an aligned
buffer (an anonymous mmap) at aligned offsets. sync calls pread_into in a
loop; asyncio keeps DEPTH aread_into requests in flight from DEPTH tasks.
"""
import asyncio
import mmap
import sys
import time

import granule

BLOCK = 4096


def run_sync(dev, count):
    buf = memoryview(mmap.mmap(-1, BLOCK))
    length = dev.length
    for i in range(count):
        dev.pread_into(i * BLOCK % length, buf)


async def run_asyncio(dev, count, depth):
    length = dev.length
    arena = memoryview(mmap.mmap(-1, BLOCK * depth))
    issued = 0

    async def worker(slot):
        nonlocal issued
        buf = arena[slot * BLOCK:(slot + 1) * BLOCK]
        while issued < count:
            offset = issued * BLOCK % length
            issued += 1
            await dev.aread_into(offset, buf)

    await asyncio.gather(*(worker(s) for s in range(depth)))


def main():
    spec, mode, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    depth = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    with granule.open(spec) as dev:
        t0 = time.perf_counter()
        if mode == "sync":
            run_sync(dev, count)
        else:
            asyncio.run(run_asyncio(dev, count, depth))
        print(f"{count / (time.perf_counter() - t0):.0f}")


if __name__ == "__main__":
    main()
