// A memory node as the overlay of a file (raw-posix, or raw-win32 under
// Wine): the memory driver keeps holes like a sparse file, so the file's
// data shows through until written or copied on read. Portable, unlike
// tst_backing (which needs a filesystem with SEEK_HOLE).
#include "test_support.hpp"

#include <granule/device.hpp>

#include <filesystem>
#include <fstream>
#include <random>

using granule::device;

class tst_overlay : public QObject {
    Q_OBJECT

private slots:
    void memory_overlay_over_a_file();
};

void tst_overlay::memory_overlay_over_a_file()
{
    constexpr std::uint64_t G = 65536, len = 3 * G + 123;
    auto dir = std::filesystem::temp_directory_path() /
               ("granule-overlay-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(dir);
    struct cleanup {
        std::filesystem::path p;
        ~cleanup() { std::filesystem::remove_all(p); }
    } rm{dir};
    std::vector<std::uint8_t> base(len);
    std::mt19937 rng(3);
    for (auto &b : base)
        b = std::uint8_t(rng() | 1);
    const auto path = (dir / "base.img").string();
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char *>(base.data()), std::streamsize(base.size()));

    auto d = device::open("driver=memory,size=0,growable=on,copy-on-read=on,backing.filename=" +
                          path);
    QVERIFY2(d, d ? "" : d.error().message.c_str());
    auto &dev = **d;
    QCOMPARE(dev.length(), len);
    std::vector<std::uint8_t> got(len);
    QVERIFY(dev.pread(0, got.data(), G + 10));  // granules 0 and 1 copied
    QVERIFY(std::equal(got.begin(), got.begin() + G + 10, base.begin()));
    QCOMPARE(dev.get_stats().bytes_copied_on_read, 2 * G);
    auto st = dev.block_status(2 * G, G);  // not copied yet: the backing's data
    QVERIFY(st && st->data);

    std::vector<std::uint8_t> w(300, 0x5a);
    QVERIFY(dev.pwrite(2 * G + 1000, w.data(), w.size()));
    auto model = base;
    std::copy(w.begin(), w.end(), model.begin() + 2 * G + 1000);
    QVERIFY(dev.pread(0, got.data(), got.size()));
    QVERIFY(got == model);
    QVERIFY(dev.pwrite_zeroes(10, 20));
    std::fill_n(model.begin() + 10, 20, 0);
    QVERIFY(dev.pread(0, got.data(), got.size()));
    QVERIFY2(got == model, "zeroes must stay zeroes over the backing");
}

QTEST_GUILESS_MAIN(tst_overlay)
#include "tst_overlay.moc"
