// The fault matrix (issue 9): an error injected at each step a write or a
// flush can fail at. Each row parks the victim at a breakpoint, queues a
// write behind it in the same block (it waits for the victim, or rides in
// its padding) and one in another block, then lets the victim fail. The
// error reaches exactly the victim; the others land; serialisation is
// released (nothing hangs: every future is waited for with a deadline); the
// bytes outside the victim are what the model says, and inside it either
// the old bytes (failed before writing) or old-or-new per byte (failed while
// writing); failed_requests counts exactly the victim.
#include "test_support.hpp"

#include <granule/device.hpp>

#include <boost/asio/use_future.hpp>

#include <cerrno>
#include <future>
#include <vector>

using granule::device;

namespace {

constexpr std::uint64_t dev_size = 256 * 1024;
constexpr auto deadline = std::chrono::seconds(10);

struct victim_write {
    std::uint64_t offset, length;
};

template <class T>
bool ready_in_time(std::future<T> &f)
{
    return f.wait_for(deadline) == std::future_status::ready;
}

}  // namespace

class tst_faults : public QObject {
    Q_OBJECT

private slots:
    void write_fails_alone_data();
    void write_fails_alone();
    void flush_fails_alone();
    void growth_fails_alone();
};

void tst_faults::write_fails_alone_data()
{
    QTest::addColumn<QString>("limits");      // blkdebug options beyond align=4096
    QTest::addColumn<QString>("rule");        // inject-error.0.* without the prefix
    QTest::addColumn<QString>("park_at");     // where the victim waits for the others
    QTest::addColumn<qulonglong>("offset");   // the victim write
    QTest::addColumn<qulonglong>("length");
    QTest::addColumn<qulonglong>("queued");   // a write queued behind it, same block
    QTest::addColumn<int>("err");
    QTest::addColumn<bool>("may_land");       // the victim's bytes may be partly new
    // Head block read: the RMW read of block 1 fails, nothing is written.
    QTest::newRow("rmw_head_read") << "" << "event=read_aio,offset=4096,once=on"
                                   << "pwritev_rmw_head" << 4196ull << 5000ull << 4100ull
                                   << EIO << false;
    // Tail block read: block 1 is read, block 2's read fails.
    QTest::newRow("rmw_tail_read") << "" << "event=read_aio,offset=8192,once=on"
                                   << "pwritev_rmw_head" << 4196ull << 5000ull << 9300ull
                                   << EIO << false;
    // The padded write itself; the queued write rides in its padding
    // (coalescing) and must be handed back, not lost with the carrier.
    QTest::newRow("carrier_write") << "" << "event=write_aio,offset=4096,once=on"
                                   << "pwritev" << 4196ull << 100ull << 4400ull << EIO << false;
    // The same with ENOSPC, and the queued write after the victim's bytes.
    QTest::newRow("padded_write_enospc") << "" << "event=write_aio,offset=12288,once=on,errno=28"
                                         << "pwritev" << 12300ull << 3000ull << 16000ull
                                         << ENOSPC << false;
    // One split part of a large aligned-start write (max-transfer 8192): the
    // parts before it may have landed.
    QTest::newRow("split_part") << ",max-transfer=8192" << "event=write_aio,offset=36864,once=on"
                                << "pwritev" << 20480ull << 40000ull << 60400ull << EIO << true;
}

void tst_faults::write_fails_alone()
{
    QFETCH(QString, limits);
    QFETCH(QString, rule);
    QFETCH(QString, park_at);
    QFETCH(qulonglong, offset);
    QFETCH(qulonglong, length);
    QFETCH(qulonglong, queued);
    QFETCH(int, err);
    QFETCH(bool, may_land);

    const std::string base = "driver=blkdebug,align=4096" + limits.toStdString() +
                             ",image.driver=memory,image.size=" + std::to_string(dev_size);
    auto opened = device::open(base);
    QVERIFY2(opened, opened ? "" : opened.error().message.c_str());
    device &dev = **opened;
    std::vector<std::uint8_t> model(dev_size);
    for (std::uint64_t i = 0; i < dev_size; ++i)
        model[i] = granule_test::pattern_byte(1, i);
    QVERIFY(dev.pwrite(0, model.data(), model.size()));
    // The rule comes now, so the fill above did not fire it.
    granule::options rules;
    auto parsed = granule::parse_options(rule.toStdString());
    QVERIFY(parsed);
    for (const auto &[k, v] : *parsed)
        rules["inject-error.0." + k] = v;
    QVERIFY(dev.reopen(rules));
    dev.reset_stats();

    auto bytes = [](std::uint64_t seed, std::uint64_t len) {
        std::vector<std::uint8_t> v(len);
        for (std::uint64_t i = 0; i < len; ++i)
            v[i] = granule_test::pattern_byte(seed, i);
        return v;
    };
    auto v = bytes(2, length), q = bytes(3, 100), o = bytes(4, 100);
    const std::uint64_t other = 200 * 1024 + 7;  // a block nobody else touches

    QVERIFY(dev.debug_breakpoint(park_at.toStdString(), "V"));
    auto vf = dev.async_pwritev(offset, {{v.data(), v.size()}}, boost::asio::use_future);
    QVERIFY(granule_test::eventually([&] { return dev.debug_is_suspended("V"); }));
    auto qf = dev.async_pwritev(queued, {{q.data(), q.size()}}, boost::asio::use_future);
    auto of = dev.async_pwritev(other, {{o.data(), o.size()}}, boost::asio::use_future);
    QVERIFY(ready_in_time(of));  // another block never waits for the victim
    QVERIFY(of.get());
    QVERIFY(dev.debug_resume("V"));

    QVERIFY2(ready_in_time(vf), "the victim never completed");
    auto vr = vf.get();
    QVERIFY(!vr);
    QCOMPARE(vr.error().code, err);
    QVERIFY2(ready_in_time(qf), "the write queued behind the victim never completed");
    auto qr = qf.get();
    QVERIFY2(qr, qr ? "" : qr.error().message.c_str());

    const auto old = model;
    std::copy(q.begin(), q.end(), model.begin() + queued);
    std::copy(o.begin(), o.end(), model.begin() + other);
    std::vector<std::uint8_t> got(dev_size);
    QVERIFY(dev.pread(0, got.data(), got.size()));
    for (std::uint64_t i = 0; i < dev_size; ++i) {
        const bool in_victim = i >= offset && i < offset + length;
        const bool in_queued = i >= queued && i < queued + q.size();
        if (in_victim && !in_queued) {
            const bool ok = got[i] == old[i] || (may_land && got[i] == v[i - offset]);
            QVERIFY2(ok, qPrintable(QString("byte %1 of the failed write: %2, old %3")
                                        .arg(i).arg(got[i]).arg(old[i])));
        } else {
            QVERIFY2(got[i] == model[i],
                     qPrintable(QString("byte %1: %2, the model says %3").arg(i).arg(got[i]).arg(model[i])));
        }
    }
    const auto s = dev.get_stats();
    QCOMPARE(s.failed_requests, std::uint64_t(1));
    QCOMPARE(s.write_requests, std::uint64_t(3));
}

// A flush that fails reaches only the flush: the writes around it land.
void tst_faults::flush_fails_alone()
{
    auto opened = device::open("driver=blkdebug,align=4096,inject-error.0.event=flush_to_disk,"
                               "inject-error.0.once=on,image.driver=memory,image.size=64k");
    QVERIFY2(opened, opened ? "" : opened.error().message.c_str());
    device &dev = **opened;
    std::vector<std::uint8_t> a(300, 0xa1), b(300, 0xb2);
    auto af = dev.async_pwritev(100, {{a.data(), a.size()}}, boost::asio::use_future);
    auto ff = dev.async_flush(boost::asio::use_future);
    auto bf = dev.async_pwritev(5000, {{b.data(), b.size()}}, boost::asio::use_future);
    QVERIFY(ready_in_time(af) && ready_in_time(ff) && ready_in_time(bf));
    QVERIFY(af.get());
    auto fr = ff.get();
    QVERIFY(!fr);
    QCOMPARE(fr.error().code, EIO);
    QVERIFY(bf.get());
    QVERIFY(dev.flush());  // once: the next flush works
    std::vector<std::uint8_t> got(300);
    QVERIFY(dev.pread(100, got.data(), got.size()));
    QVERIFY(got == a);
    QVERIFY(dev.pread(5000, got.data(), got.size()));
    QVERIFY(got == b);
    QCOMPARE(dev.get_stats().failed_requests, std::uint64_t(1));
}

// A growing write that fails with ENOSPC: the length stays, the write queued
// behind it (serialised to the end) lands, reads past the old end are zero.
void tst_faults::growth_fails_alone()
{
    auto opened = device::open("driver=blkdebug,align=4096,inject-error.0.event=write_aio,"
                               "inject-error.0.errno=28,inject-error.0.once=on,"
                               "inject-error.0.offset=20480,image.driver=memory,"
                               "image.size=20000,image.growable=on");
    QVERIFY2(opened, opened ? "" : opened.error().message.c_str());
    device &dev = **opened;
    std::vector<std::uint8_t> grow(10000, 0x47), tail(50, 0x54);
    QVERIFY(dev.debug_breakpoint("pwritev", "V"));
    auto vf = dev.async_pwritev(19000, {{grow.data(), grow.size()}}, boost::asio::use_future);
    QVERIFY(granule_test::eventually([&] { return dev.debug_is_suspended("V"); }));
    auto tf = dev.async_pwritev(19900, {{tail.data(), tail.size()}}, boost::asio::use_future);
    QVERIFY(dev.debug_resume("V"));
    QVERIFY(ready_in_time(vf) && ready_in_time(tf));
    auto vr = vf.get();
    QVERIFY(!vr);
    QCOMPARE(vr.error().code, ENOSPC);
    QVERIFY(tf.get());
    QCOMPARE(dev.length(), std::uint64_t(20000));
    std::vector<std::uint8_t> got(50);
    QVERIFY(dev.pread(19900, got.data(), got.size()));
    QVERIFY(got == tail);
    QVERIFY(dev.pread(20000, got.data(), got.size()));
    QVERIFY(std::all_of(got.begin(), got.end(), [](auto c) { return c == 0; }));
    QCOMPARE(dev.get_stats().failed_requests, std::uint64_t(1));
}

QTEST_GUILESS_MAIN(tst_faults)
#include "tst_faults.moc"
