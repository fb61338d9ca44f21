// Request flags (granule::request_flags, ABI GRANULE_REQ_*) and max_iov at the
// device: what a caller is promised whatever the driver declares. The memory
// driver's write-cache=on counts the bytes written since the last flush that
// are not durable ("unflushed: N bytes" in describe()), so durability is
// observed, not assumed.
#include <granule/device.hpp>

#include <boost/asio/use_future.hpp>

#include "test_support.hpp"

#include <string>
#include <vector>

using granule::request_flags;

namespace {

std::uint64_t unflushed(const granule::device &dev)
{
    const auto text = dev.describe();
    const auto at = text.find("unflushed: ");
    return at == std::string::npos ? ~0ull : std::stoull(text.substr(at + 11));
}

std::unique_ptr<granule::device> open_or_fail(const std::string &spec)
{
    auto d = granule::device::open(spec);
    if (!d)
        qWarning("%s: %s", spec.c_str(), d.error().message.c_str());
    return d ? std::move(*d) : nullptr;
}

}  // namespace

class tst_request_flags : public QObject {
    Q_OBJECT

private slots:
    void fua_is_durable_data();
    void fua_is_durable();
    void fua_write_carried_by_another_data();
    void fua_write_carried_by_another();
    void flags_that_do_not_apply();
    void no_fallback_touches_nothing();
    void max_iov_bounces_data();
    void max_iov_bounces();
};

void tst_request_flags::fua_is_durable_data()
{
    QTest::addColumn<QString>("spec");
    QTest::addColumn<bool>("native");  // the driver does FUA itself (no flush)
    const QString mem = "driver=memory,size=1M,write-cache=on";
    QTest::newRow("memory fua") << mem << true;
    QTest::newRow("memory no fua") << mem + ",fua=off" << false;
    QTest::newRow("blkdebug over fua") << "driver=blkdebug,align=4096,image.driver=memory,"
                                          "image.size=1M,image.write-cache=on" << true;
    QTest::newRow("blkdebug over no fua") << "driver=blkdebug,align=4096,image.driver=memory,"
                                             "image.size=1M,image.write-cache=on,image.fua=off"
                                          << false;
}

// A FUA write or zeroing is durable when it completes; the writes before it
// stay unflushed where the driver did FUA itself (proof that no flush ran).
void tst_request_flags::fua_is_durable()
{
    QFETCH(QString, spec);
    QFETCH(bool, native);
    auto dev = open_or_fail(spec.toStdString());
    QVERIFY(dev);
    std::vector<char> buf(6000, 'x');
    QVERIFY(dev->pwrite(8192, buf.data(), 4096));
    QCOMPARE(unflushed(*dev), std::uint64_t(4096));
    QVERIFY(dev->pwrite(100, buf.data(), buf.size(), request_flags::fua));
    QCOMPARE(unflushed(*dev), native ? std::uint64_t(4096) : std::uint64_t(0));
    QVERIFY(dev->flush());
    QVERIFY(dev->pwrite(8192, buf.data(), 4096));
    QVERIFY(dev->pwrite_zeroes(16384, 8192, request_flags::fua));
    QCOMPARE(unflushed(*dev), native ? std::uint64_t(4096) : std::uint64_t(0));
}

void tst_request_flags::fua_write_carried_by_another_data()
{
    QTest::addColumn<bool>("fua");
    QTest::newRow("fua") << true;
    QTest::newRow("plain") << false;  // the control: the carrier alone flushes nothing
}

// A FUA write whose bytes another write carries (coalescing: it queued behind
// an RMW write of the same block) completes with the carrier, which had no FUA:
// the device must flush for it.
void tst_request_flags::fua_write_carried_by_another()
{
    QFETCH(bool, fua);
    auto dev = open_or_fail("driver=blkdebug,align=4096,image.driver=memory,image.size=64k,"
                            "image.write-cache=on");
    QVERIFY(dev);
    QVERIFY(dev->debug_breakpoint("pwritev", "A"));
    std::vector<char> a(512, 'a'), b(512, 'b');
    auto fa = dev->async_pwritev(0, {{a.data(), a.size()}}, boost::asio::use_future);
    QVERIFY(granule_test::eventually([&] { return dev->debug_is_suspended("A"); }));
    auto fb = dev->async_pwritev(1024, {{b.data(), b.size()}},
                                 fua ? request_flags::fua : request_flags::none,
                                 boost::asio::use_future);
    QVERIFY(dev->debug_resume("A"));
    QVERIFY(fa.get());
    QVERIFY(fb.get());
    const auto s = dev->get_stats();
    QCOMPARE(s.driver_requests, std::uint64_t(2));  // one RMW read, one write for both
    QCOMPARE(unflushed(*dev), fua ? std::uint64_t(0) : std::uint64_t(4096));
    std::vector<char> back(512);
    QVERIFY(dev->pread(1024, back.data(), back.size()));
    QVERIFY(back == b);
}

void tst_request_flags::flags_that_do_not_apply()
{
    auto dev = open_or_fail("driver=memory,size=64k");
    QVERIFY(dev);
    char c = 1;
    auto w = dev->pwrite(0, &c, 1, request_flags::may_unmap);
    QVERIFY(!w);
    QCOMPARE(w.error().code, EINVAL);
    QVERIFY2(w.error().message.find("only the flag fua applies to a write") != std::string::npos,
             w.error().message.c_str());
    auto z = dev->pwrite_zeroes(0, 512, static_cast<request_flags>(8));
    QVERIFY(!z);
    QCOMPARE(z.error().code, EINVAL);
}

// no_fallback is refused before anything is written: the aligned middle of an
// unaligned range is not zeroed either.
void tst_request_flags::no_fallback_touches_nothing()
{
    auto dev = open_or_fail("driver=blkdebug,align=4096,image.driver=memory,image.size=64k");
    QVERIFY(dev);
    std::vector<char> ones(65536, 1), back(65536);
    QVERIFY(dev->pwrite(0, ones.data(), ones.size()));
    auto z = dev->pwrite_zeroes(100, 20000, request_flags::no_fallback);
    QVERIFY(!z);
    QCOMPARE(z.error().code, ENOTSUP);
    QVERIFY2(z.error().message.find("not aligned to the zeroing granularity (granularity 4096") !=
                 std::string::npos,
             z.error().message.c_str());
    QVERIFY(dev->pread(0, back.data(), back.size()));
    QVERIFY(back == ones);
    QVERIFY(dev->pwrite_zeroes(4096, 8192, request_flags::no_fallback | request_flags::may_unmap));
    QVERIFY(dev->pread(4096, back.data(), 8192));
    QVERIFY(std::all_of(back.begin(), back.begin() + 8192, [](char x) { return x == 0; }));
    auto e = dev->block_status(4096, 8192);
    QVERIFY(e && e->zero);  // unmapped: a hole
}

void tst_request_flags::max_iov_bounces_data()
{
    QTest::addColumn<QString>("spec");
    QTest::newRow("memory max-iov=3") << "driver=memory,size=1M,max-iov=3";
    QTest::newRow("blkdebug align=4096 over max-iov=2")
        << "driver=blkdebug,align=4096,image.driver=memory,image.size=1M,image.max-iov=2";
}

// More iovec elements than the node takes (memory refuses them with EINVAL):
// the device bounces, and every byte lands.
void tst_request_flags::max_iov_bounces()
{
    QFETCH(QString, spec);
    auto dev = open_or_fail(spec.toStdString());
    QVERIFY(dev);
    QVERIFY(dev->get_limits().max_iov > 0);
    QCOMPARE(QString::fromStdString(dev->get_limits().source(granule::limit_id::max_iov)),
             QString("memory: option max-iov"));
    std::vector<std::vector<char>> bufs;
    std::vector<granule::io_buffer> iov;
    std::vector<char> expect;
    for (int i = 0; i < 9; ++i) {
        bufs.emplace_back(1000 + 17 * i, static_cast<char>('a' + i));
        expect.insert(expect.end(), bufs.back().begin(), bufs.back().end());
    }
    for (auto &b : bufs)
        iov.push_back({b.data(), b.size()});
    auto w = dev->pwritev(4000, iov);
    QVERIFY2(w, w ? "" : w.error().message.c_str());
    for (auto &b : bufs)
        std::fill(b.begin(), b.end(), 0);
    auto r = dev->preadv(4000, iov);
    QVERIFY2(r, r ? "" : r.error().message.c_str());
    std::vector<char> got;
    for (auto &b : bufs)
        got.insert(got.end(), b.begin(), b.end());
    QVERIFY(got == expect);
    QVERIFY(dev->get_stats().bytes_bounced > 0);
}

QTEST_GUILESS_MAIN(tst_request_flags)
#include "tst_request_flags.moc"
