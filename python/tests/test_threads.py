"""Threads: blocking calls release the GIL, several threads use one device
at once (byte-exact where their writes share blocks), each thread reads its
own error messages, and close() waits for a thread inside a call."""
import errno
import threading
import time

import pytest

import granule
from conftest import open_memory, test_bytes


def share_during(call):
    """Runs call() while another thread counts as fast as it can: (call's
    seconds, the share of the counting the other thread managed while call
    ran, against its rate while this thread slept). A call holding the GIL
    leaves it a few switch intervals (5 ms each) at most, a share near 0."""
    stop = threading.Event()
    counter = [0]

    def spin():
        while not stop.is_set():
            counter[0] += 1

    t = threading.Thread(target=spin)
    t.start()
    time.sleep(0.05)  # the spinner is running
    c0, t0 = counter[0], time.monotonic()
    time.sleep(0.2)
    rate = (counter[0] - c0) / (time.monotonic() - t0)
    before, start = counter[0], time.monotonic()
    call()
    elapsed = time.monotonic() - start
    during = counter[0] - before
    stop.set()
    t.join()
    return elapsed, during / (rate * elapsed)


def test_gil_released_during_blocking_read():
    # Reads throttled to 1 MiB/s: after a 1 MiB read, the next one waits
    # until about 0.9 s later (the 100 ms burst aside) inside granule_pread;
    # share_during spends 0.25 s of it measuring.
    with open_memory(extra={"throttle.bps-read": "1M"}) as dev:
        dev.pread(0, 1 << 20)
        elapsed, share = share_during(lambda: dev.pread(0, 4096))
        assert elapsed > 0.25, "the read did not block: the test proves nothing"
        assert share > 0.3, f"another thread ran only {share:.0%} of the time the read blocked"
        assert dev.stats.throttle_waits >= 1


def test_gil_released_during_blocking_write_and_flush():
    with open_memory(extra={"throttle.bps-write": "1M"}) as dev:
        dev.pwrite(0, bytes(1 << 20))
        elapsed, share = share_during(lambda: dev.pwrite(1, b"x" * 100))
        assert elapsed > 0.25 and share > 0.3, (elapsed, share)


def test_threads_share_a_device_byte_exact():
    """8 threads, each rewriting its own unaligned range many times; the
    ranges share 4096-byte blocks, so their read-modify-writes serialise."""
    size = 1 << 20
    with open_memory() as dev:
        ranges = [(i * 5000 + 7, 5000) for i in range(8)]
        final = {}
        errors = []

        def worker(k):
            off, n = ranges[k]
            try:
                for rep in range(40):
                    data = test_bytes(n, k * 1000 + rep)
                    dev.pwrite(off, data)
                    assert dev.pread(off, n) == data
                final[k] = data
            except Exception as e:  # reported by the main thread
                errors.append(e)

        threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors
        model = bytearray(size)
        for k, (off, n) in enumerate(ranges):
            model[off:off + n] = final[k]
        assert dev.pread(0, size) == model
        assert dev.stats.rmw_cycles > 0


def test_error_messages_are_per_thread():
    with open_memory() as dev:
        results = {}
        barrier = threading.Barrier(4)

        def fail_at(k):
            barrier.wait()
            for _ in range(50):
                try:
                    dev.pread(dev.length + k, 1000 + k)
                except granule.Error as e:
                    results.setdefault(k, set()).add(e.strerror)

        threads = [threading.Thread(target=fail_at, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for k in range(4):
            assert results[k] == {next(iter(results[k]))}
            assert f"{1000 + k} bytes at offset {dev.length + k}" in next(iter(results[k]))


def test_close_waits_for_a_call_in_another_thread():
    dev = open_memory(extra={"throttle.bps-read": "1M"})
    dev.pread(0, 512 * 1024)
    got = {}
    started = threading.Event()

    def reader():
        started.set()
        try:
            got["data"] = dev.pread(0, 4096)
        except Exception as e:
            got["error"] = e

    t = threading.Thread(target=reader)
    t.start()
    started.wait()
    time.sleep(0.05)  # inside pread, waiting for the throttle
    # A second closer returns only once the device is closed too.
    closer_saw = []
    second = threading.Thread(target=lambda: (dev.close(), closer_saw.append(dev.closed)))
    second.start()
    dev.close()
    t.join()
    second.join()
    assert closer_saw == [True]
    assert got == {"data": bytes(4096)}
    assert dev.closed
    with pytest.raises(ValueError):
        dev.pread(0, 1)
    # Errors in threads are still granule.Error with the errno.
    with pytest.raises(granule.Error) as e:
        granule.open({"driver": "memory", "size": "1M", "bogus": 1})
    assert e.value.errno == errno.EINVAL
