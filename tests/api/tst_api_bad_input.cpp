// Bad input through the public API: every case returns an error value with
// the right code and a message naming the numbers, never crashes, and leaves
// previously written data intact.
#include "device_support.hpp"

#include <boost/asio/post.hpp>

#include <future>
#include <limits>

using namespace granule_test;
using granule::device;

namespace {

constexpr std::uint64_t max_end = std::numeric_limits<std::int64_t>::max();  // 2^63-1
constexpr std::uint64_t u64_max = std::numeric_limits<std::uint64_t>::max();

// Checks code and message parts of a failed result.
template <class R>
QString check_error(const R &r, int code, const QStringList &parts)
{
    if (r)
        return "succeeded";
    const auto msg = QString::fromStdString(r.error().message);
    if (r.error().code != code)
        return QString("code %1 (%2), expected %3").arg(r.error().code).arg(msg).arg(code);
    for (const auto &p : parts)
        if (!msg.contains(p))
            return "'" + p + "' not in: " + msg;
    return {};
}

}  // namespace

class tst_api_bad_input : public QObject {
    Q_OBJECT

private slots:
    void init();
    void cleanup();
    void bad_ranges_data();
    void bad_ranges();
    void iovec_lengths_overflow();
    void async_bad_input();
    void sync_call_on_device_thread();
    void truncate_errors();
    void reopen_errors();
    void reopen_refused_limits_keep_device();
    void debug_hooks_without_blkdebug();

private:
    std::unique_ptr<modelled_device> d_;
};

// Every case starts from a device holding a known pattern.
void tst_api_bad_input::init()
{
    d_ = std::make_unique<modelled_device>("driver=memory,size=64k,align=512,mem-align=512");
    QVERIFY2(d_->dev, d_->error.c_str());
    QVERIFY(d_->fill(42).empty());
    d_->dev->reset_stats();
}

// ... and must end with it intact.
void tst_api_bad_input::cleanup()
{
    if (!d_ || !d_->dev)
        return;
    auto e = d_->check_all();
    QVERIFY2(e.empty(), qPrintable("data changed: " + QString::fromStdString(e)));
    d_.reset();
}

void tst_api_bad_input::bad_ranges_data()
{
    QTest::addColumn<QString>("op");
    QTest::addColumn<qulonglong>("offset");
    QTest::addColumn<qulonglong>("bytes");
    QTest::addColumn<int>("code");
    QTest::addColumn<QStringList>("parts");
    const auto off_big = QString::number(max_end + 1);
    for (const char *op : {"read", "write", "write_zeroes", "discard"}) {
        auto row = [&](const char *name, qulonglong o, qulonglong n, int code, QStringList p) {
            QTest::addRow("%s/%s", op, name) << QString(op) << o << n << code << p;
        };
        row("length_0", 100, 0, EINVAL, {"offset 100", "length 0"});
        row("offset_2_63", max_end + 1, 1, EINVAL, {off_big, "2^63-1"});
        row("offset_max", u64_max, 1, EINVAL, {QString::number(u64_max)});
        row("end_overflows", max_end - 9, 100, EINVAL,
            {QString::number(max_end - 9), "length 100", "overflows"});
        row("end_wraps_2_64", 4096, u64_max - 100, EINVAL, {"4096", QString::number(u64_max - 100)});
    }
    // In range for the API, past the end of a fixed-size device.
    // EIO, as qemu's raw: a fixed-size device ends where it ends.
    QTest::addRow("write/past_end") << QString("write") << qulonglong(65000) << qulonglong(1000)
                                    << EIO << QStringList{"offset 65000", "65536"};
    QTest::addRow("write/far_past_end") << QString("write") << qulonglong(1ull << 40)
                                        << qulonglong(1) << EIO
                                        << QStringList{QString::number(1ull << 40)};
    QTest::addRow("write_zeroes/past_end") << QString("write_zeroes") << qulonglong(60000)
                                           << qulonglong(10000) << EIO
                                           << QStringList{"offset 60000"};
    QTest::addRow("read/past_end") << QString("read") << qulonglong(65000) << qulonglong(1000)
                                   << EIO << QStringList{"offset 65000", "65536"};
    QTest::addRow("read/at_end") << QString("read") << qulonglong(65536) << qulonglong(1)
                                 << EIO << QStringList{"offset 65536", "65536"};
}

void tst_api_bad_input::bad_ranges()
{
    QFETCH(QString, op);
    QFETCH(qulonglong, offset);
    QFETCH(qulonglong, bytes);
    QFETCH(int, code);
    QFETCH(QStringList, parts);
    auto &dev = *d_->dev;
    // The buffer is never touched on these paths; a small one proves it.
    std::vector<std::uint8_t> buf(8192, 0x77);
    io_buffer b{buf.data(), static_cast<std::size_t>(bytes)};
    QString why;
    if (op == "read") {
        why = check_error(dev.preadv(offset, {&b, 1}), code, parts);
        QVERIFY2(std::all_of(buf.begin(), buf.end(), [](auto c) { return c == 0x77; }),
                 "failed read wrote into the caller's buffer");
    } else if (op == "write") {
        why = check_error(dev.pwritev(offset, {&b, 1}), code, parts);
    } else if (op == "write_zeroes") {
        why = check_error(dev.pwrite_zeroes(offset, bytes), code, parts);
    } else {
        why = check_error(dev.pdiscard(offset, bytes), code, parts);
    }
    QVERIFY2(why.isEmpty(), qPrintable(why));
    QCOMPARE(dev.length(), std::uint64_t(65536));
}

// Element lengths whose sum wraps past 2^64 must not pass as a short request.
void tst_api_bad_input::iovec_lengths_overflow()
{
    std::vector<std::uint8_t> buf(4096, 0x55);
    auto &dev = *d_->dev;
    const std::uint64_t half = 1ull << 63;
    // Sums to 2^64 + 512: wraps to 512.
    std::vector<io_buffer> wrap{{buf.data(), half}, {buf.data(), half + 512}};
    auto w = dev.pwritev(0, wrap);
    QVERIFY2(!w, "a write whose iovec lengths overflow succeeded");
    QCOMPARE(w.error().code, EINVAL);
    auto r = dev.preadv(0, wrap);
    QVERIFY2(!r, "a read whose iovec lengths overflow succeeded");
    QCOMPARE(r.error().code, EINVAL);
    // Sums to 2^63 exactly: no wrap, but beyond the largest end.
    std::vector<io_buffer> big{{buf.data(), half / 2}, {buf.data(), half / 2}};
    QCOMPARE(dev.pwritev(0, big).error().code, EINVAL);
    // Only zero-length elements: length 0.
    std::vector<io_buffer> empty{{buf.data(), 0}, {nullptr, 0}};
    QCOMPARE(dev.pwritev(0, empty).error().code, EINVAL);
    QCOMPARE(dev.preadv(0, {}).error().code, EINVAL);
}

// The async API reports bad input through the completion, not an exception.
void tst_api_bad_input::async_bad_input()
{
    std::vector<std::uint8_t> buf(100, 1);
    std::promise<granule::result<std::size_t>> done;
    d_->dev->async_pwritev(max_end - 10, {{buf.data(), buf.size()}},
                           [&](std::exception_ptr e, granule::result<std::size_t> r) {
                               if (e)
                                   done.set_exception(e);
                               else
                                   done.set_value(std::move(r));
                           });
    auto r = done.get_future().get();
    QVERIFY(!r);
    QCOMPARE(r.error().code, EINVAL);
    QVERIFY(QString::fromStdString(r.error().message).contains(QString::number(max_end - 10)));
    QCOMPARE(d_->dev->get_stats().failed_requests, std::uint64_t(1));
}

// A synchronous call from the device's own thread would wait for itself.
void tst_api_bad_input::sync_call_on_device_thread()
{
    std::promise<granule::result<std::size_t>> done;
    std::vector<std::uint8_t> buf(512);
    boost::asio::post(d_->dev->get_executor(),
                      [&] { done.set_value(d_->dev->pread(0, buf.data(), buf.size())); });
    auto r = done.get_future().get();
    QVERIFY(!r);
    QCOMPARE(r.error().code, EDEADLK);
    QVERIFY(QString::fromStdString(r.error().message).contains("async_"));
}

void tst_api_bad_input::truncate_errors()
{
    // A driver without truncate (null-c) cannot be resized.
    auto n = device::open("driver=null-c,size=64k");
    QVERIFY2(n, n ? "" : n.error().message.c_str());
    auto why = check_error((*n)->truncate(4096), ENOTSUP, {"null-c", "65536"});
    QVERIFY2(why.isEmpty(), qPrintable(why));
    modelled_device g("driver=memory,size=4k,growable=on");
    QVERIFY2(g.dev, g.error.c_str());
    why = check_error(g.dev->truncate(max_end + 1), EINVAL, {QString::number(max_end + 1)});
    QVERIFY2(why.isEmpty(), qPrintable(why));
    QCOMPARE(g.dev->length(), std::uint64_t(4096));
}

void tst_api_bad_input::reopen_errors()
{
    auto &dev = *d_->dev;
    auto why = check_error(dev.reopen({{"bogus", "1"}}), EINVAL, {"unknown option 'bogus'"});
    QVERIFY2(why.isEmpty(), qPrintable(why));
    why = check_error(dev.reopen({{"align", "4k4"}}), EINVAL, {"option 'align'", "'4k4'"});
    QVERIFY2(why.isEmpty(), qPrintable(why));
    why = check_error(dev.reopen({{"size", "1M"}}), EINVAL, {"size"});
    QVERIFY2(why.isEmpty(), qPrintable(why));
    QCOMPARE(dev.get_limits().request_alignment, std::uint64_t(512));
    QVERIFY(d_->write(1, pattern(3, 700), shape::single_misaligned).empty());
}

// A reopen whose new limits are refused must leave the device as it was:
// the core keeps its old limits, so the driver must keep enforcing them too.
void tst_api_bad_input::reopen_refused_limits_keep_device()
{
    auto &dev = *d_->dev;
    auto why = check_error(dev.reopen({{"align", "3000"}}), EINVAL,
                           {"request_alignment 3000 is not a power of two"});
    QVERIFY2(why.isEmpty(), qPrintable(why));
    QCOMPARE(dev.get_limits().request_alignment, std::uint64_t(512));
    auto e = d_->write(1, pattern(3, 700), shape::single_misaligned);
    QVERIFY2(e.empty(), qPrintable("after the refused reopen: " + QString::fromStdString(e)));
}

void tst_api_bad_input::debug_hooks_without_blkdebug()
{
    auto &dev = *d_->dev;
    QCOMPARE(dev.debug_breakpoint("pwritev", "A").error().code, ENOTSUP);
    QCOMPARE(dev.debug_resume("A").error().code, ENOTSUP);
    QCOMPARE(dev.debug_remove_breakpoint("A").error().code, ENOTSUP);
    QVERIFY(!dev.debug_is_suspended("A"));
    auto b = device::open("driver=blkdebug,image.driver=memory,image.size=64k");
    if (!b)
        GRANULE_SKIP("driver 'blkdebug' is not available: " + QString::fromStdString(b.error().message));
    auto why = check_error((*b)->debug_resume("nope"), ENOENT, {"nope"});
    QVERIFY2(why.isEmpty(), qPrintable(why));
    why = check_error((*b)->debug_breakpoint("no_such_event", "A"), ENOENT, {"no_such_event"});
    QVERIFY2(why.isEmpty(), qPrintable(why));
}

QTEST_GUILESS_MAIN(tst_api_bad_input)
#include "tst_api_bad_input.moc"
