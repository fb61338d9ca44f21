// The driver ABI's promise across minor versions (docs/driver-abi.md,
// Versioning), proven with real plugins:
// - the layout of every struct of 1.0 (the frozen header in tests/abi/1.0)
//   still holds in the current header;
// - examples/driver-c built against that frozen 1.0 header loads and moves
//   the right bytes under blkdebug align=4096, its limits and their sources
//   reach the device, and max_iov (1.1) stays the children's;
// - a driver claiming a NEWER minor (1.7) with a longer table loads, works, and
//   nothing past the host's table or in the limits' reserved space is used;
// - a table that ends at the mandatory hooks loads, and no hook past its
//   struct_size is ever called (they abort);
// - a newer major version is refused naming both versions (also tst_loader).
#include <granule/device.hpp>
#include <granule/drivers.hpp>

#include <QtTest/QtTest>

#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace {

std::vector<std::uint8_t> random_bytes(std::size_t n, unsigned seed)
{
    std::mt19937 rng(seed);
    std::vector<std::uint8_t> v(n);
    for (auto &b : v)
        b = static_cast<std::uint8_t>(rng());
    return v;
}

// Unaligned writes across 512/4096 block edges (some with FUA), then the
// whole device read back against a byte model.
void check_bytes(granule::device &dev, std::vector<std::uint8_t> &model)
{
    struct w {
        std::uint64_t offset, length;
        bool fua;
    };
    const w writes[] = {{1, 1, false},       {511, 2, true},     {4095, 4098, false},
                        {8192, 4096, false}, {12000, 9000, true}, {65535, 1, false},
                        {100, 700, false},   {4096 * 20 - 3, 7, true}};
    unsigned seed = 1;
    for (const auto &x : writes) {
        auto data = random_bytes(x.length, seed++);
        auto r = dev.pwrite(x.offset, data.data(), data.size(),
                            x.fua ? granule::request_flags::fua : granule::request_flags::none);
        QVERIFY2(r, r ? "" : r.error().message.c_str());
        std::copy(data.begin(), data.end(), model.begin() + static_cast<std::ptrdiff_t>(x.offset));
    }
    QVERIFY(dev.flush());
    std::vector<std::uint8_t> back(model.size());
    auto r = dev.pread(0, back.data(), back.size());
    QVERIFY2(r, r ? "" : r.error().message.c_str());
    QVERIFY(back == model);
    // Unaligned reads too.
    std::vector<std::uint8_t> piece(5001);
    QVERIFY(dev.pread(4093, piece.data(), piece.size()));
    QVERIFY(std::equal(piece.begin(), piece.end(), model.begin() + 4093));
}

std::vector<std::string> lines_of(const QString &program)
{
    QProcess p;
    p.start(program, {});
    if (!p.waitForFinished(30000) || p.exitCode() != 0)
        return {};
    std::vector<std::string> out;
    for (const auto &l : QString::fromUtf8(p.readAllStandardOutput()).split('\n', Qt::SkipEmptyParts))
        out.push_back(l.toStdString());
    return out;
}

}  // namespace

class tst_abi_compat : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void layout_of_1_0_holds();
    void driver_built_for_1_0_works();
    void newer_minor_driver_works();
    void table_ending_at_mandatory_hooks_works();
    void newer_major_is_refused();

private:
    QTemporaryDir tmp_;
};

void tst_abi_compat::initTestCase()
{
    QVERIFY(tmp_.isValid());
    // The registry scans once per process, on first use: the 1.0 build of
    // example-c is found by name, next to the tree's own drivers.
    qputenv("GRANULE_DRIVER_PATH", GRANULE_ABI_V1_0_DIR);
}

void tst_abi_compat::layout_of_1_0_holds()
{
    const auto old_layout = lines_of(GRANULE_ABI_LAYOUT_1_0);
    const auto now = lines_of(GRANULE_ABI_LAYOUT_CURRENT);
    QVERIFY2(old_layout.size() > 100 && now.size() >= old_layout.size(), "layout programs failed");
    for (const auto &line : old_layout) {
        if (std::find(now.begin(), now.end(), line) != now.end())
            continue;
        // The tables only the driver fills may grow at their end (struct_size).
        auto grew = [&](const std::string &s) {
            const auto prefix = s + " sizeof ";
            if (line.rfind(prefix, 0) != 0)
                return false;
            for (const auto &n : now)
                if (n.rfind(prefix, 0) == 0)
                    return std::stoull(n.substr(prefix.size())) >= std::stoull(line.substr(prefix.size()));
            return false;
        };
        QVERIFY2(grew("granule_driver") || grew("granule_host"),
                 ("1.0 layout line no longer true: " + line).c_str());
    }
    // 1.1's addition comes out of the reserved space: the struct kept its size.
    QVERIFY(std::find(now.begin(), now.end(), "granule_limits.max_iov 136 16") != now.end());
}

void tst_abi_compat::driver_built_for_1_0_works()
{
    const auto catalogue = granule::list_drivers();
    const granule::driver_info *v1_0 = nullptr;
    for (const auto &d : catalogue.drivers)
        if (d.name == "example-c")
            v1_0 = &d;
    QVERIFY2(v1_0, "example-c (built against the 1.0 header) not found in " GRANULE_ABI_V1_0_DIR);
    QCOMPARE(QString::fromStdString(v1_0->abi), QString("1.0"));

    const auto file = tmp_.filePath("v1_0.img").toStdString();
    auto model = random_bytes(1 << 20, 99);
    std::ofstream(file, std::ios::binary).write(reinterpret_cast<const char *>(model.data()),
                                                static_cast<std::streamsize>(model.size()));
    {
        auto dev = granule::device::open("driver=blkdebug,align=4096,image.driver=example-c,"
                                         "image.filename=" + file);
        QVERIFY2(dev, dev ? "" : dev.error().message.c_str());
        const auto l = (*dev)->get_limits();
        QCOMPARE(l.request_alignment, std::uint64_t(4096));
        QCOMPARE(QString::fromStdString(l.source(granule::limit_id::request_alignment)),
                 QString("blkdebug: option align"));
        QVERIFY(l.opt_transfer > 0);  // st_blksize
        QCOMPARE(QString::fromStdString(l.source(granule::limit_id::opt_transfer)),
                 QString("example-c: fstat st_blksize"));
        // max_iov was reserved space to a 1.0 driver: the children's value (none).
        QCOMPARE(l.max_iov, std::uint64_t(0));
        QCOMPARE(QString::fromStdString(l.source(granule::limit_id::max_iov)), QString("unlimited"));
        check_bytes(**dev, model);
        if (QTest::currentTestFailed())
            return;
        // No write_zeroes hook in example-c: no_fallback is refused up front,
        // and a plain one is written as zero buffers.
        auto z = (*dev)->pwrite_zeroes(8192, 8192, granule::request_flags::no_fallback);
        QVERIFY(!z);
        QCOMPARE(z.error().code, ENOTSUP);
        QVERIFY((*dev)->pwrite_zeroes(8190, 8195, granule::request_flags::may_unmap));
        std::fill_n(model.begin() + 8190, 8195, std::uint8_t{0});
    }
    // The bytes in the file itself, read without Granule.
    std::vector<std::uint8_t> on_disk(model.size());
    std::ifstream(file, std::ios::binary).read(reinterpret_cast<char *>(on_disk.data()),
                                               static_cast<std::streamsize>(on_disk.size()));
    QVERIFY(on_disk == model);
}

void tst_abi_compat::newer_minor_driver_works()
{
    auto dev = granule::device::open(std::string("driver=") + GRANULE_ABI_COMPAT_NEWER);
    QVERIFY2(dev, dev ? "" : dev.error().message.c_str());
    const auto l = (*dev)->get_limits();
    QCOMPARE(l.request_alignment, std::uint64_t(512));
    QCOMPARE(QString::fromStdString(l.source(granule::limit_id::request_alignment)),
             QString("compat-newer: sector"));
    QCOMPARE(l.max_iov, std::uint64_t(0));  // its "1.7 limit" in the reserve is not read
    const auto text = QString::fromStdString((*dev)->describe());
    QVERIFY2(text.contains("host abi: 1.1"), qPrintable(text));
    std::vector<std::uint8_t> model(1 << 20, 0);
    check_bytes(**dev, model);
}

void tst_abi_compat::table_ending_at_mandatory_hooks_works()
{
    auto dev = granule::device::open(std::string("driver=") + GRANULE_ABI_COMPAT_SHORT);
    QVERIFY2(dev, dev ? "" : dev.error().message.c_str());
    QCOMPARE((*dev)->get_limits().request_alignment, std::uint64_t(1));
    (void)(*dev)->describe();  // info is past its struct_size: never called
    std::vector<std::uint8_t> model(1 << 20, 0);
    check_bytes(**dev, model);  // flushes: a NULL flush succeeds
    QVERIFY((*dev)->pwrite_zeroes(100, 5000));  // zero buffers, not the trap
    std::vector<std::uint8_t> back(5000, 1);
    QVERIFY((*dev)->pread(100, back.data(), back.size()));
    QVERIFY(std::all_of(back.begin(), back.end(), [](auto b) { return b == 0; }));
}

void tst_abi_compat::newer_major_is_refused()
{
    auto dev = granule::device::open(std::string("driver=") + GRANULE_ABI_NEWER_MAJOR);
    QVERIFY(!dev);
    const auto msg = QString::fromStdString(dev.error().message);
    QVERIFY2(msg.contains("built for driver ABI 2.0; this Granule speaks driver ABI 1.1"),
             qPrintable(msg));
    QVERIFY2(msg.contains(GRANULE_ABI_NEWER_MAJOR), qPrintable(msg));
}

QTEST_GUILESS_MAIN(tst_abi_compat)
#include "tst_abi_compat.moc"
