// A closed device leaves nothing running: every thread it (or Asio, for
// its timers) started is joined before the destructor returns. A thread
// left behind would later touch the freed device: on Windows that was a
// heap corruption (Asio's timer thread wrote into its freed io_context).
#include "test_support.hpp"
#include "thread_count.hpp"

#include <granule/device.hpp>

#include <boost/asio/use_future.hpp>


using granule::device;


class tst_device_lifetime : public QObject {
    Q_OBJECT

private slots:
    void close_joins_every_thread();
};

// Two writes into one 4096-byte block: the second must wait for the first
// (held at blkdebug's write_aio breakpoint), which arms the tracker's timer.
// Several rounds, since one leaked thread per device is the failure.
void tst_device_lifetime::close_joins_every_thread()
{
    const std::size_t before = granule_test::thread_count();
    QVERIFY(before > 0);
    for (int round = 0; round < 3; ++round) {
        auto d = device::open("driver=blkdebug,align=4096,image.driver=memory,image.size=64k");
        QVERIFY2(d, d ? "" : d.error().message.c_str());
        auto &dev = **d;
        QVERIFY(dev.debug_breakpoint("write_aio", "A"));
        std::vector<std::uint8_t> a(100, 0x11), b(100, 0x22);
        auto first = dev.async_pwritev(100, {{a.data(), a.size()}}, boost::asio::use_future);
        QVERIFY(granule_test::eventually([&] { return dev.debug_is_suspended("A"); }));
        auto second = dev.async_pwritev(150, {{b.data(), b.size()}}, boost::asio::use_future);
        // A read elsewhere, queued behind the second write on the device's
        // thread: once it returns, the second write is waiting.
        std::vector<std::uint8_t> elsewhere(10);
        QVERIFY(dev.pread(32768, elsewhere.data(), elsewhere.size()));
        QVERIFY(dev.debug_remove_breakpoint("A"));  // also resumes the first
        auto r1 = first.get();
        auto r2 = second.get();
        QVERIFY(r1 && *r1 == a.size());
        QVERIFY(r2 && *r2 == b.size());
        QVERIFY(dev.get_stats().serialisation_waits > 0);
        std::vector<std::uint8_t> got(200);
        QVERIFY(dev.pread(100, got.data(), got.size()));
        QCOMPARE(got[0], std::uint8_t(0x11));
        QCOMPARE(got[49], std::uint8_t(0x11));
        QCOMPARE(got[50], std::uint8_t(0x22));
        QCOMPARE(got[149], std::uint8_t(0x22));
        QCOMPARE(got[150], std::uint8_t(0));
        d->reset();
        // Joined means gone: the count must be back at once (a short grace
        // for the OS to drop a joined thread from its listing).
        QVERIFY(granule_test::eventually([&] { return granule_test::thread_count() <= before; }));
    }
    QCOMPARE(granule_test::thread_count(), before);
}

QTEST_GUILESS_MAIN(tst_device_lifetime)
#include "tst_device_lifetime.moc"
