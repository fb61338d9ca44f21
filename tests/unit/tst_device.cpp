// The whole read/write pipeline through real plugins. The memory driver
// rejects every misaligned request (offset, length, iovec base and length)
// with EINVAL, so a byte-exact match with the model proves the core padded,
// bounced and split correctly.
#include "device_support.hpp"

#include <boost/asio/use_future.hpp>

#include <atomic>
#include <future>
#include <fstream>
#include <thread>

using namespace granule_test;
using granule::device;
using granule::device_description;
using granule::node_description;

namespace {

bool have_driver(const char *name)
{
    auto r = device::open(std::string("driver=") + name);
    return r || r.error().message.find("unknown driver '" + std::string(name) + "'") ==
                    std::string::npos;
}

QString spec_for(const QString &via, qulonglong align, qulonglong mem, qulonglong size)
{
    if (via == "memory")
        return QString("driver=memory,size=%1,align=%2,mem-align=%3").arg(size).arg(align).arg(mem);
    // blkdebug forces the request alignment; the child only needs 512 and mem.
    return QString("driver=blkdebug,align=%1,image.driver=memory,image.size=%2,"
                   "image.align=512,image.mem-align=%3")
        .arg(align).arg(size).arg(mem);
}

}  // namespace

class tst_device : public QObject {
    Q_OBJECT

private slots:
    void write_matrix_data();
    void write_matrix();
    void zero_copy_stats();
    void reads_past_eof();
    void write_in_last_partial_block_data();
    void write_in_last_partial_block();
    void past_end_of_fixed_size_eio();
    void growable_grows_exactly_data();
    void growable_grows_exactly();
    void max_transfer_splits_data();
    void max_transfer_splits();
    void write_zeroes_and_discard_data();
    void write_zeroes_and_discard();
    void async_zeroes_discard_block_status();
    void read_only_refuses_writes();
    void memory_growth_stays_sparse();
    void reopen_refreshes_limits_data();
    void reopen_refreshes_limits();
    void queries_during_reopen();
    void description_is_the_tree();
};

void tst_device::write_matrix_data()
{
    QTest::addColumn<QString>("via");
    QTest::addColumn<qulonglong>("align");
    QTest::addColumn<qulonglong>("mem");
    QTest::addColumn<int>("shape_index");
    for (auto a : alignments())
        for (qulonglong m : {1ull, 512ull})
            for (int s = 0; s < int(all_shapes().size()); ++s)
                QTest::addRow("memory/a%llu/m%llu/%s", qulonglong(a), m,
                              shape_name(all_shapes()[s]))
                    << QString("memory") << qulonglong(a) << m << s;
    // A filter forcing a coarser alignment than its child needs.
    for (int s = 0; s < int(all_shapes().size()); ++s)
        QTest::addRow("blkdebug/a4096/m512/%s", shape_name(all_shapes()[s]))
            << QString("blkdebug") << qulonglong(4096) << qulonglong(512) << s;
}

void tst_device::write_matrix()
{
    QFETCH(QString, via);
    QFETCH(qulonglong, align);
    QFETCH(qulonglong, mem);
    QFETCH(int, shape_index);
    if (via == "blkdebug" && !have_driver("blkdebug"))
        GRANULE_SKIP("driver 'blkdebug' is not built");
    const shape s = all_shapes()[shape_index];
    const std::uint64_t edge = std::max<std::uint64_t>(align, mem);
    const std::uint64_t size = 8 * std::max<std::uint64_t>(edge, 4096);
    modelled_device d(spec_for(via, align, mem, size).toStdString());
    QVERIFY2(d.dev, d.error.c_str());
    QCOMPARE(d.dev->get_limits().request_alignment, std::uint64_t(align));
    QCOMPARE(d.dev->get_limits().min_mem_alignment, std::uint64_t(mem));
    auto e = d.fill(1);
    QVERIFY2(e.empty(), e.c_str());

    std::uint64_t seed = 100;
    for (auto off : edge_values(edge)) {
        for (auto len : edge_values(edge, 1)) {
            const auto where = QString("%1 at offset %2 length %3: ")
                                   .arg(shape_name(s)).arg(off).arg(len);
            e = d.write(off, pattern(++seed, len), s);
            QVERIFY2(e.empty(), qPrintable(where + QString::fromStdString(e)));
            // The bytes around the write matter most: RMW must keep them.
            e = d.check_all();
            QVERIFY2(e.empty(), qPrintable(where + "whole device: " + QString::fromStdString(e)));
            e = d.check_range(off, len, s);
            QVERIFY2(e.empty(), qPrintable(where + "read back: " + QString::fromStdString(e)));
        }
    }
    QCOMPARE(d.dev->get_stats().failed_requests, std::uint64_t(0));
}

// Zero-copy: only the padding goes through Granule's buffers when the
// caller's memory suits the backend (memory alignment 512 < request 4096).
void tst_device::zero_copy_stats()
{
    modelled_device d("driver=memory,size=64k,align=4096,mem-align=512");
    QVERIFY2(d.dev, d.error.c_str());
    QVERIFY(d.fill(1).empty());
    d.dev->reset_stats();
    QVERIFY(d.write(512, pattern(2, 1024), shape::single).empty());
    auto st = d.dev->get_stats();
    QCOMPARE(st.bytes_bounced, std::uint64_t(4096 - 1024));
    QCOMPARE(st.rmw_cycles, std::uint64_t(1));  // head and tail share a block
    QCOMPARE(st.driver_requests, std::uint64_t(2));  // RMW read + write
    QCOMPARE(st.bytes_written, std::uint64_t(1024));

    // Misaligned memory: the whole padded block is bounced.
    d.dev->reset_stats();
    QVERIFY(d.write(512, pattern(3, 1024), shape::single_misaligned).empty());
    st = d.dev->get_stats();
    QCOMPARE(st.bytes_bounced, std::uint64_t(4096));
    QCOMPARE(st.rmw_cycles, std::uint64_t(1));

    // 512-multiple elements at 512-aligned addresses: zero-copy too.
    d.dev->reset_stats();
    QVERIFY(d.write(4096 + 512, pattern(4, 3 * 1024), shape::three_uneven).empty());
    QCOMPARE(d.dev->get_stats().bytes_bounced, std::uint64_t(4096 - 3072));

    // Aligned reads and writes bounce nothing.
    d.dev->reset_stats();
    QVERIFY(d.write(8192, pattern(5, 8192), shape::single).empty());
    auto e = d.check_range(8192, 8192, shape::single);
    QVERIFY2(e.empty(), e.c_str());
    QCOMPARE(d.dev->get_stats().bytes_bounced, std::uint64_t(0));
    QCOMPARE(d.dev->get_stats().rmw_cycles, std::uint64_t(0));
    e = d.check_all();
    QVERIFY2(e.empty(), e.c_str());
}

// Reads past EOF are zero-filled, also with an alignment above 512 and a
// length that is not a multiple of it (a growable node trimmed to 10000).
void tst_device::reads_past_eof()
{
    modelled_device d("driver=memory,size=0,growable=on,align=4096,mem-align=512");
    QVERIFY2(d.dev, d.error.c_str());
    auto e = d.write(0, pattern(7, 10000), shape::single);
    QVERIFY2(e.empty(), e.c_str());
    QCOMPARE(d.dev->length(), std::uint64_t(10000));
    for (auto s : all_shapes()) {
        for (auto [off, len] : {std::pair<std::uint64_t, std::size_t>{9000, 5000},
                                {8192, 4096}, {9999, 1}, {9999, 2}, {10000, 1},
                                {10000, 4096}, {12288, 100}, {1 << 30, 512}, {0, 20000}}) {
            e = d.check_range(off, len, s);
            QVERIFY2(e.empty(), qPrintable(QString("%1 at %2+%3: %4")
                                               .arg(shape_name(s)).arg(off).arg(len)
                                               .arg(QString::fromStdString(e))));
        }
    }
    QCOMPARE(d.dev->length(), std::uint64_t(10000));  // reads never grow it
}

// A node whose length is not a multiple of the alignment: a write that ends
// inside the device must succeed and leave the length alone, for a fixed-size
// node (the padded block crosses EOF) and a growable one (the padding must not
// extend it).
void tst_device::write_in_last_partial_block_data()
{
    QTest::addColumn<bool>("growable");
    QTest::newRow("fixed") << false;
    QTest::newRow("growable") << true;
}

void tst_device::write_in_last_partial_block()
{
    QFETCH(bool, growable);
    modelled_device d(growable ? "driver=memory,size=0,growable=on,align=4096"
                               : "driver=memory,size=10000,align=4096");
    QVERIFY2(d.dev, d.error.c_str());
    if (growable)
        QVERIFY(d.write(0, pattern(1, 10000), shape::single).empty());
    QCOMPARE(d.dev->length(), std::uint64_t(10000));
    auto e = d.write(9000, pattern(8, 1000), shape::single);
    QVERIFY2(e.empty(), e.c_str());
    e = d.write(9999, pattern(9, 1), shape::single);
    QVERIFY2(e.empty(), e.c_str());
    // reopen re-reads the node's length: the driver must agree with the device.
    auto r = d.dev->reopen({});
    QVERIFY2(r, r ? "" : r.error().message.c_str());
    e = d.check_all();
    QVERIFY2(e.empty(), e.c_str());
}

// A fixed-size device (the default) ends where it ends, as qemu's raw:
// a write or a read reaching past it fails with EIO and changes nothing.
void tst_device::past_end_of_fixed_size_eio()
{
    modelled_device d("driver=memory,size=64k,align=512");
    QVERIFY2(d.dev, d.error.c_str());
    QVERIFY(d.fill(1).empty());
    const auto data = pattern(9, 200);
    auto r = d.dev->pwrite(65536 - 100, data.data(), data.size());
    QVERIFY(!r);
    QCOMPARE(r.error().code, EIO);
    const auto msg = QString::fromStdString(r.error().message);
    QVERIFY2(msg.contains("offset 65436") && msg.contains("65536"), qPrintable(msg));
    std::vector<std::uint8_t> buf(200, 0xab);
    auto rd = d.dev->pread(65536 - 100, buf.data(), buf.size());
    QVERIFY(!rd);
    QCOMPARE(rd.error().code, EIO);
    QVERIFY(std::all_of(buf.begin(), buf.end(), [](auto b) { return b == 0xab; }));
    // Nothing was written, not even the part that fitted.
    auto e = d.check_all();
    QVERIFY2(e.empty(), e.c_str());
    QCOMPARE(d.dev->get_stats().failed_requests, std::uint64_t(2));
}

void tst_device::growable_grows_exactly_data()
{
    QTest::addColumn<qulonglong>("align");
    for (auto a : alignments())
        QTest::addRow("a%llu", qulonglong(a)) << qulonglong(a);
}

void tst_device::growable_grows_exactly()
{
    QFETCH(qulonglong, align);
    modelled_device d(QString("driver=memory,size=0,growable=on,align=%1").arg(align).toStdString());
    QVERIFY2(d.dev, d.error.c_str());
    QVERIFY(d.dev->growable());
    std::uint64_t seed = 20;
    // Unaligned ends, a gap (reads as zeroes), aligned ends, and a write that
    // ends inside the last partial block (no growth).
    for (auto [off, len] : {std::pair<std::uint64_t, std::size_t>{1000, 77},
                            {align + 3, 1}, {5 * align, align}, {0, 1},
                            {7 * align + 1, 2 * align + 1}, {9 * align + 1, 1}}) {
        auto e = d.write(off, pattern(++seed, len), shape::single_misaligned);
        QVERIFY2(e.empty(), qPrintable(QString("at %1+%2: %3").arg(off).arg(len)
                                           .arg(QString::fromStdString(e))));
        e = d.check_all();  // also compares the length
        QVERIFY2(e.empty(), qPrintable(QString("after %1+%2: %3").arg(off).arg(len)
                                           .arg(QString::fromStdString(e))));
    }
}

void tst_device::max_transfer_splits_data()
{
    QTest::addColumn<QString>("spec");
    QTest::addColumn<qulonglong>("offset");
    QTest::addColumn<qulonglong>("bytes");
    QTest::addColumn<qulonglong>("driver_requests");
    const QString mem = "driver=memory,size=1M,align=512,max-transfer=4096";
    QTest::newRow("aligned_4_chunks") << mem << qulonglong(0) << qulonglong(16384) << qulonglong(4);
    // 2 RMW reads + [0, 10240) in 4096 + 4096 + 2048.
    QTest::newRow("unaligned") << mem << qulonglong(100) << qulonglong(10000) << qulonglong(5);
    // max-transfer not a multiple of the alignment: chunks of 512.
    QTest::newRow("odd_max") << "driver=memory,size=1M,align=512,max-transfer=1000"
                             << qulonglong(0) << qulonglong(2048) << qulonglong(4);
    QTest::newRow("blkdebug") << "driver=blkdebug,max-transfer=8192,image.driver=memory,"
                                 "image.size=1M,image.align=512"
                              << qulonglong(4096) << qulonglong(40000) << qulonglong(1 + 5);
}

void tst_device::max_transfer_splits()
{
    QFETCH(QString, spec);
    QFETCH(qulonglong, offset);
    QFETCH(qulonglong, bytes);
    QFETCH(qulonglong, driver_requests);
    if (spec.startsWith("driver=blkdebug") && !have_driver("blkdebug"))
        GRANULE_SKIP("driver 'blkdebug' is not built");
    modelled_device d(spec.toStdString());
    QVERIFY2(d.dev, d.error.c_str());
    QVERIFY(d.fill(1).empty());
    d.dev->reset_stats();
    auto e = d.write(offset, pattern(2, bytes), shape::single);
    QVERIFY2(e.empty(), e.c_str());
    QCOMPARE(d.dev->get_stats().driver_requests, std::uint64_t(driver_requests));
    e = d.check_all();
    QVERIFY2(e.empty(), e.c_str());
}

void tst_device::write_zeroes_and_discard_data()
{
    QTest::addColumn<qulonglong>("align");
    QTest::addColumn<qulonglong>("offset");
    QTest::addColumn<qulonglong>("bytes");
    for (auto a : alignments())
        for (auto [o, n] : {std::pair<qulonglong, qulonglong>{0, a}, {1, 1}, {a - 1, 2},
                            {a + 1, 3 * a}, {0, 8 * a}, {3, 7 * a}})
            QTest::addRow("a%llu/%llu+%llu", qulonglong(a), o, n) << qulonglong(a) << o << n;
}

void tst_device::write_zeroes_and_discard()
{
    QFETCH(qulonglong, align);
    QFETCH(qulonglong, offset);
    QFETCH(qulonglong, bytes);
    const auto size = 8 * std::max<qulonglong>(align, 512);
    modelled_device d(QString("driver=memory,size=%1,align=%2,mem-align=512").arg(size).arg(align).toStdString());
    QVERIFY2(d.dev, d.error.c_str());
    QVERIFY(d.fill(1).empty());
    auto z = d.dev->pwrite_zeroes(offset, bytes);
    QVERIFY2(z, z ? "" : z.error().message.c_str());
    std::fill_n(d.model.begin() + offset, bytes, 0);
    auto e = d.check_all();
    QVERIFY2(e.empty(), qPrintable("after write_zeroes: " + QString::fromStdString(e)));

    // Discard is advisory: bytes inside may read as old data or zeroes, bytes
    // outside must be untouched.
    QVERIFY(d.fill(2).empty());
    auto r = d.dev->pdiscard(offset, bytes);
    QVERIFY2(r, r ? "" : r.error().message.c_str());
    std::vector<std::uint8_t> all(d.model.size());
    QVERIFY(d.dev->pread(0, all.data(), all.size()));
    for (std::uint64_t i = 0; i < all.size(); ++i) {
        const bool inside = i >= offset && i < offset + bytes;
        if (all[i] != d.model[i] && !(inside && all[i] == 0))
            QFAIL(qPrintable(QString("byte %1 changed to %2 (inside %3)").arg(i).arg(all[i]).arg(inside)));
    }
}

// The async forms (what granule-nbd runs on its own event loop) do what the
// synchronous ones do, with any completion token.
void tst_device::async_zeroes_discard_block_status()
{
    modelled_device d("driver=blkdebug,align=4096,image.driver=memory,image.size=65536");
    QVERIFY2(d.dev, d.error.c_str());
    QVERIFY(d.fill(7).empty());
    auto z = d.dev->async_pwrite_zeroes(1000, 9000, granule::request_flags::may_unmap,
                                        boost::asio::use_future).get();
    QVERIFY2(z, z ? "" : z.error().message.c_str());
    std::fill_n(d.model.begin() + 1000, 9000, 0);
    auto e = d.check_all();
    QVERIFY2(e.empty(), e.c_str());

    // The callback runs on the device's executor; a refusal comes back as a value.
    std::promise<granule::result<void>> refused;
    d.dev->async_pwrite_zeroes(65000, 1000, granule::request_flags::none,
                               [&](std::exception_ptr, granule::result<void> r) { refused.set_value(r); });
    auto past_end = refused.get_future().get();
    QVERIFY(!past_end);
    QCOMPARE(past_end.error().code, EIO);

    auto sync = d.dev->block_status(12288, 40000);
    auto async = d.dev->async_block_status(12288, 40000, boost::asio::use_future).get();
    QVERIFY(sync && async);
    QCOMPARE(async->bytes, sync->bytes);
    QCOMPARE(async->zero, sync->zero);
    QCOMPARE(async->data, sync->data);

    auto r = d.dev->async_pdiscard(0, 65536, boost::asio::use_future).get();
    QVERIFY2(r, r ? "" : r.error().message.c_str());
}

void tst_device::read_only_refuses_writes()
{
    for (auto [spec, flags] : {std::pair<std::string, bool>{"driver=memory,size=64k,align=512", true},
                               {"driver=memory,size=64k,align=512,read-only=on", false}}) {
        modelled_device d(spec, granule::open_flags{.read_only = flags});
        QVERIFY2(d.dev, d.error.c_str());
        QVERIFY(d.dev->read_only());
        const auto data = pattern(1, 1000);
        auto r = d.dev->pwrite(100, data.data(), data.size());
        QVERIFY(!r);
        QCOMPARE(r.error().code, EROFS);
        QVERIFY2(QString::fromStdString(r.error().message).contains("offset 100"),
                 r.error().message.c_str());
        QCOMPARE(d.dev->pwrite_zeroes(0, 4096).error().code, EROFS);
        QCOMPARE(d.dev->pdiscard(0, 4096).error().code, EROFS);
        QCOMPARE(d.dev->truncate(0).error().code, EROFS);
        // Refused requests are failed requests, zeroing and discard included
        // (scenario 018 counts the driver's failures).
        const auto s = d.dev->get_stats();
        QCOMPARE(s.failed_requests, std::uint64_t{3});
        QCOMPARE(s.zero_requests, std::uint64_t{1});
        QCOMPARE(s.discard_requests, std::uint64_t{1});
        auto e = d.check_all();  // still all zeroes, still readable
        QVERIFY2(e.empty(), e.c_str());
    }
}

namespace {

// Resident memory of this process in bytes (Linux), or -1.
long long resident_bytes()
{
    std::ifstream f("/proc/self/statm");
    long long size = 0, resident = -1;
    if (!(f >> size >> resident))
        return -1;
    return resident * 4096;
}

}  // namespace

// Issue 9: truncating a memory node to 2 GiB took 2.1 GB of RSS (realloc,
// then memset of the new part); opening at that size took 6 MB. Growing,
// shrinking and punching holes now touch only what the node holds.
void tst_device::memory_growth_stays_sparse()
{
    if (resident_bytes() < 0)
        QSKIP("no /proc/self/statm: resident memory cannot be measured here");
    const auto before = resident_bytes();
    auto d = device::open("driver=memory,size=1M,growable=on");
    QVERIFY2(d, d ? "" : d.error().message.c_str());
    auto &dev = **d;
    const auto data = pattern(7, 100000);
    QVERIFY(dev.pwrite(1000, data.data(), data.size()));
    QVERIFY(dev.truncate(2ull << 30));
    QVERIFY(dev.pwrite((2ull << 30) - 5000, data.data(), 5000));
    QVERIFY(dev.truncate(3ull << 30));  // grows again: copies what it holds
    QVERIFY(dev.pdiscard(0, 1ull << 30));  // a hole punched over mostly holes
    QVERIFY(dev.truncate(4096));            // shrinks over holes
    QVERIFY(dev.truncate(2ull << 30));
    const auto grown = resident_bytes() - before;
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    (void)grown;  // the sanitizers' calloc writes the zeroes, so every page is resident
#else
    QVERIFY2(grown < (64ll << 20), qPrintable(QString("resident memory grew by %1 bytes").arg(grown)));
#endif
    // The region cut off by the shrink to 4096 reads as zeroes when regrown.
    std::vector<std::uint8_t> tail(5000);
    QVERIFY(dev.pread((2ull << 30) - 5000, tail.data(), tail.size()));
    QVERIFY(std::all_of(tail.begin(), tail.end(), [](auto b) { return b == 0; }));
    QCOMPARE(dev.length(), 2ull << 30);
}

void tst_device::reopen_refreshes_limits_data()
{
    QTest::addColumn<QString>("spec");
    QTest::addColumn<QString>("key_prefix");  // where the changed options go
    QTest::newRow("memory") << "driver=memory,size=64k,align=512" << "";
    QTest::newRow("blkdebug_child") << "driver=blkdebug,image.driver=memory,image.size=64k,"
                                       "image.align=512" << "image.";
}

// Limits are refreshed bottom-up on reopen (as when O_DIRECT is toggled) and
// the pipeline honours the new ones at once.
void tst_device::reopen_refreshes_limits()
{
    QFETCH(QString, spec);
    QFETCH(QString, key_prefix);
    if (spec.startsWith("driver=blkdebug") && !have_driver("blkdebug"))
        GRANULE_SKIP("driver 'blkdebug' is not built");
    modelled_device d(spec.toStdString());
    QVERIFY2(d.dev, d.error.c_str());
    QVERIFY(d.fill(1).empty());
    const auto p = key_prefix.toStdString();
    auto r = d.dev->reopen({{p + "align", "4096"}, {p + "mem-align", "512"},
                            {p + "max-transfer", "8192"}});
    QVERIFY2(r, r ? "" : r.error().message.c_str());
    const auto l = d.dev->get_limits();
    QCOMPARE(l.request_alignment, std::uint64_t(4096));
    QCOMPARE(l.min_mem_alignment, std::uint64_t(512));
    QCOMPARE(l.max_transfer, std::uint64_t(8192));
    std::uint64_t seed = 10;
    for (auto s : all_shapes()) {
        auto e = d.write(4095, pattern(++seed, 20000), s);
        QVERIFY2(e.empty(), e.c_str());
        e = d.check_all();
        QVERIFY2(e.empty(), e.c_str());
    }
}

// The queries other threads make (get_limits, describe, read_only,
// growable) while reopens change what they read (issue 9: describe and
// get_limits read on the caller's thread what reopen wrote on the device's,
// a data race TSan reports): each answer is the state before or after one
// reopen, never a mix, and nothing races (the TSan job runs this).
void tst_device::queries_during_reopen()
{
    auto d = device::open("driver=memory,size=64k,align=512,mem-align=1");
    QVERIFY2(d, d ? "" : d.error().message.c_str());
    auto &dev = **d;
    std::atomic<bool> stop{false};
    std::atomic<int> reopens{0};
    std::thread writer([&] {
        for (int i = 0; i < 200 && !stop; ++i) {
            const bool big = i % 2 == 0;
            auto r = dev.reopen({{"align", big ? "4096" : "512"}, {"mem-align", big ? "512" : "1"}});
            if (!r)
                break;
            ++reopens;
        }
        stop = true;
    });
    int mixed = 0, queries = 0;
    while (!stop) {
        const auto l = dev.get_limits();
        const bool before = l.request_alignment == 512 && l.min_mem_alignment == 1;
        const bool after = l.request_alignment == 4096 && l.min_mem_alignment == 512;
        mixed += !(before || after);
        const auto text = dev.describe();
        mixed += text.find("memory") == std::string::npos;
        mixed += dev.read_only() || dev.growable();
        ++queries;
    }
    writer.join();
    QCOMPARE(reopens.load(), 200);
    QCOMPARE(mixed, 0);
    QVERIFY(queries > 0);
}

// description() is the tree describe() prints, structured: names, drivers,
// own options (normalised), info lines, children, backing, throttle.
void tst_device::description_is_the_tree()
{
    auto d = device::open("driver=blkdebug,align=4k,image.driver=memory,image.size=1M,"
                          "backing.driver=memory,backing.size=1M,copy-on-read=on,"
                          "overlay-granularity=128k,throttle.iops-write=50,throttle.bps-read=1M");
    QVERIFY2(d, d ? "" : d.error().message.c_str());
    const device_description desc = (*d)->description();
    QCOMPARE(desc.root.name, std::string());
    QCOMPARE(desc.root.driver, std::string("blkdebug"));
    QCOMPARE(desc.root.own_options.at("align"), std::string("4096"));
    QCOMPARE(desc.root.children.size(), std::size_t(1));
    const node_description &image = desc.root.children[0];
    QCOMPARE(image.name, std::string("image"));
    QCOMPARE(image.driver, std::string("memory"));
    QCOMPARE(image.own_options.at("size"), std::string("1048576"));
    QVERIFY(image.children.empty());
    QVERIFY(desc.backing);
    QCOMPARE(desc.backing->name, std::string("backing"));
    QCOMPARE(desc.backing->driver, std::string("memory"));
    QVERIFY(desc.copy_on_read);
    QCOMPARE(desc.overlay_granularity, std::uint64_t(131072));
    using setting = std::pair<std::string, std::uint64_t>;
    QCOMPARE(desc.throttle, (std::vector<setting>{{"bps-read", 1048576}, {"iops-write", 50}, {"burst-ms", 100}}));

    // The text is the same tree: one line per node and info line, in order.
    std::string want = "blkdebug (align=4096)\n";
    for (const auto &l : desc.root.info)
        want += "  " + l + "\n";
    want += "  image: memory (size=1048576)\n";
    for (const auto &l : image.info)
        want += "    " + l + "\n";
    want += "backing: memory (size=1048576)\n";
    for (const auto &l : desc.backing->info)
        want += "  " + l + "\n";
    want += "copy-on-read: on (overlay-granularity 131072)\n"
            "throttle: bps-read=1048576,iops-write=50,burst-ms=100\n";
    QCOMPARE((*d)->describe(), want);
}

QTEST_GUILESS_MAIN(tst_device)
#include "tst_device.moc"
