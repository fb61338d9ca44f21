"""asyncio: requests submitted at call time, thousands in flight, overlapping
writes landing in call order (checked byte for byte against a model), errors
in futures, cancelled futures, one loop at a time, close with requests in
flight, and no descriptor left behind."""
import asyncio
import errno
import gc
import os
import random
import threading

import pytest

import granule
from conftest import open_memory, test_bytes, write_file


def run(coro):
    return asyncio.run(coro)


def test_thousands_of_overlapping_unaligned_writes_in_call_order(tmp_path):
    """4500 writes in flight at once, random offsets and lengths (1 byte to
    20 KB), overlapping each other, through blkdebug align=4096 over a file:
    the result is the model with the writes applied in call order."""
    size = 4 << 20
    path = tmp_path / "aio.raw"
    write_file(path, test_bytes(size, 11))
    model = bytearray(path.read_bytes())
    rnd = random.Random(12)
    spec = f"driver=blkdebug,align=4096,image.driver=raw-posix,image.filename={path}"

    async def main():
        with granule.open(spec) as dev:
            futures = []
            for i in range(4500):
                n = rnd.choice([1, 7, 511, 4096, 4097, rnd.randrange(1, 20000)])
                off = rnd.randrange(0, size - n)
                # Hot spots: a fifth of the writes pile onto the first 64 KiB.
                if i % 5 == 0:
                    off = rnd.randrange(0, 65536)
                data = bytes([i % 251 + 1]) * n
                futures.append(dev.awrite(off, data))
                model[off:off + n] = data
            assert dev.in_flight > 1000  # really concurrent, not one by one
            results = await asyncio.gather(*futures)
            assert all(r > 0 for r in results)
            assert dev.in_flight == 0
            assert await dev.aread(0, size) == model
            stats = dev.stats
            assert stats.write_requests == 4500 and stats.serialisation_waits > 0
            await dev.aflush()
    run(main())
    assert path.read_bytes() == model


def test_reads_into_buffers_and_other_requests():
    async def main():
        with open_memory() as dev:
            data = test_bytes(100000, 5)
            assert await dev.awrite(3, data, fua=True) == 100000
            buf = bytearray(5000)
            assert await dev.aread_into(10, buf) == 5000
            assert buf == data[7:5007]
            reads = [dev.aread(3 + k * 1000, 999) for k in range(100)]
            for k, got in enumerate(await asyncio.gather(*reads)):
                assert got == data[k * 1000:k * 1000 + 999]
            assert await dev.awrite_zeroes(103, 1000) is None
            assert await dev.aread(100, 1006) == data[97:100] + bytes(1000) + data[1100:1103]
            assert await dev.adiscard(65536, 65536) is None
            assert await dev.aflush() is None
            s = dev.stats
            assert (s.zero_requests, s.discard_requests) == (1, 1) and s.flush_requests >= 1
    run(main())


def test_errors_arrive_in_futures():
    async def main():
        with open_memory() as dev:
            fut = dev.aread(dev.length - 1, 2)
            with pytest.raises(granule.Error) as e:
                await fut
            assert e.value.errno == errno.EIO
            assert e.value.strerror.startswith(f"granule_submit_pread: 2 bytes at offset {dev.length - 1}")
            with pytest.raises(granule.Error) as e:
                await dev.awrite(dev.length, b"x")
            assert e.value.errno == errno.EIO
            # Refused at submission: raised at once, nothing in flight.
            with pytest.raises(granule.Error) as e:
                dev.awrite(0, b"x", flags=0x40)
            assert e.value.errno == errno.EINVAL and dev.in_flight == 0
            with pytest.raises(ValueError):
                dev.aread(-1, 1)
        with open_memory(read_only=True) as ro:
            with pytest.raises(PermissionError) as e:
                await ro.awrite(0, b"x")
            assert isinstance(e.value, granule.Error) and e.value.errno == errno.EROFS
    run(main())


def test_cancelled_futures_are_skipped():
    async def main():
        with open_memory() as dev:
            futs = [dev.awrite(k * 4096 + 1, bytes([k + 1]) * 100) for k in range(50)]
            for f in futs[::2]:
                f.cancel()
            done = await asyncio.gather(*futs[1::2])
            assert done == [100] * 25
            while dev.in_flight:
                await asyncio.sleep(0.001)
            # Cancelling a future does not cancel the write.
            for k in range(50):
                assert await dev.aread(k * 4096 + 1, 100) == bytes([k + 1]) * 100
    run(main())


def test_outside_a_loop_and_on_a_second_loop():
    with open_memory() as dev:
        with pytest.raises(RuntimeError, match="no running event loop"):
            dev.aread(0, 1)

        async def one_read():
            return await dev.aread(0, 4)
        # One loop after another: the device follows when nothing is in flight.
        assert run(one_read()) == bytes(4)
        assert run(one_read()) == bytes(4)


def test_requests_never_awaited_do_not_hold_the_device():
    """Requests left in flight by a loop that ended: the next loop's first
    request waits for them (their futures are dropped with the closed
    loop), then takes the device over."""
    with open_memory(extra={"throttle.bps-write": "2M"}) as dev:
        async def fire_and_forget():
            dev.awrite(0, bytes(1 << 20))
            dev.awrite(5, b"late")  # held ~0.5 s by the throttle
        run(fire_and_forget())
        assert dev.in_flight >= 1

        async def next_loop():
            return await dev.aread(0, 10)
        assert run(next_loop()) == b"\0" * 5 + b"late" + b"\0"
        assert dev.in_flight == 0


def test_one_loop_at_a_time():
    """While a loop in another thread has requests in flight on the device,
    a second loop is refused with a clear error."""
    with open_memory(extra={"throttle.bps-write": "1M"}) as dev:
        in_flight = threading.Event()
        release = threading.Event()

        def other_loop():
            async def hold():
                dev.awrite(0, bytes(1 << 20))
                slow = dev.awrite(0, b"x")  # waits ~1 s for the throttle
                in_flight.set()
                await slow
                while not release.is_set():
                    await asyncio.sleep(0.01)
            asyncio.run(hold())

        t = threading.Thread(target=other_loop)
        t.start()
        try:
            assert in_flight.wait(10)

            async def intrude():
                dev.aread(0, 1)
            with pytest.raises(RuntimeError, match="one event loop at a time"):
                run(intrude())
        finally:
            release.set()
            t.join()


def test_close_with_requests_in_flight(tmp_path):
    """close() waits for every request, settles its future and releases its
    buffer; the data is on the file afterwards."""
    path = tmp_path / "close.raw"
    write_file(path, bytes(1 << 20))
    model = bytearray(1 << 20)

    async def main():
        dev = granule.open(f"driver=blkdebug,align=4096,image.driver=raw-posix,image.filename={path}")
        buffers = []
        futs = []
        for k in range(3000):
            ba = bytearray(bytes([k % 255 + 1]) * 333)
            buffers.append(ba)
            off = (k * 331) % ((1 << 20) - 333)
            futs.append(dev.awrite(off, ba))
            model[off:off + 333] = ba
        reads = [dev.aread(0, 4096) for _ in range(10)]
        futs[5].cancel()
        assert dev.in_flight == 3010
        dev.close()
        assert dev.closed and dev.in_flight == 0
        assert all(f.done() for f in futs + reads)
        assert [f.result() for f in futs if not f.cancelled()] == [333] * 2999
        for ba in buffers:
            ba.extend(b"!")  # no buffer is held any more
        with pytest.raises(ValueError, match="closed"):
            dev.aread(0, 1)
    run(main())
    assert path.read_bytes() == model


def test_close_from_another_thread_while_the_loop_runs():
    """Futures of a loop running elsewhere are settled on that loop's
    thread (call_soon_threadsafe)."""
    dev = open_memory(extra={"throttle.bps-write": "4M"})
    submitted = threading.Event()
    outcome = {}

    async def main():
        dev.awrite(0, bytes(1 << 20))
        futs = [dev.awrite(k * 100, b"z" * 100) for k in range(20)]
        submitted.set()
        outcome["results"] = await asyncio.gather(*futs)
        outcome["thread"] = threading.current_thread()

    t = threading.Thread(target=asyncio.run, args=(main(),))
    t.start()
    assert submitted.wait(10)
    dev.close()
    t.join(10)
    assert outcome["results"] == [100] * 20 and outcome["thread"] is t


def fd_count():
    return len(os.listdir("/proc/self/fd"))


def test_no_descriptor_left_behind():
    before = fd_count()

    async def main():
        for _ in range(20):
            with open_memory() as dev:
                await asyncio.gather(*(dev.awrite(k, b"a") for k in range(10)))
    run(main())
    # An unclosed device that asyncio used: collected, it closes.
    dev = open_memory()

    async def flush():
        await dev.aflush()
    run(flush())
    dev = None  # the last reference: the device and its descriptors go
    gc.collect()
    assert fd_count() == before
