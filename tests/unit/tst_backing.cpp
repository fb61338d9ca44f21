// A sparse overlay over a backing node: the backing's data shows through
// the overlay's holes, writes land in the overlay only (merged with the
// backing's data around them), copy-on-read fills the overlay granule by
// granule, zeroes stay zeroes, and a copy-on-read can never write older
// data over a write that came after it (forced with a breakpoint).
#include "test_support.hpp"

#include <granule/device.hpp>

#include <boost/asio/use_future.hpp>

#include <QTemporaryDir>

#include <fstream>
#include <random>

#include <sys/stat.h>

using granule::device;

namespace {

constexpr std::uint64_t G = 65536;  // the default overlay granularity
constexpr std::uint64_t base_len = 4 * G + 777;

std::vector<std::uint8_t> read_file(const QString &path)
{
    std::ifstream f(path.toStdString(), std::ios::binary);
    return {std::istreambuf_iterator<char>(f), {}};
}

void write_file(const QString &path, const std::vector<std::uint8_t> &data)
{
    std::ofstream f(path.toStdString(), std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char *>(data.data()), std::streamsize(data.size()));
}

std::uint64_t allocated(const QString &path)
{
    struct stat st {};
    ::stat(path.toUtf8().constData(), &st);
    return std::uint64_t(st.st_blocks) * 512;
}

struct fixture {
    QTemporaryDir dir;
    QString base = dir.filePath("base.img"), overlay = dir.filePath("overlay.img");
    std::vector<std::uint8_t> data;

    fixture()
    {
        std::mt19937 rng(7);
        data.resize(base_len);
        for (auto &b : data)
            b = std::uint8_t(rng() | 1);  // never zero: holes cannot pass for data
        write_file(base, data);
        write_file(overlay, {});
    }
    std::string spec(const char *extra = "") const
    {
        return "driver=raw-posix,filename=" + overlay.toStdString() +
               ",backing.driver=raw-posix,backing.filename=" + base.toStdString() + extra;
    }
    std::vector<std::uint8_t> read_all(device &d) const
    {
        std::vector<std::uint8_t> out(d.length());
        auto r = d.pread(0, out.data(), out.size());
        return r ? out : std::vector<std::uint8_t>{};
    }
};

}  // namespace

class tst_backing : public QObject {
    Q_OBJECT

private slots:
    void reads_show_the_backing();
    void writes_merge_into_the_overlay();
    void copy_on_read_fills_granules();
    void zeroes_stay_zeroes();
    void copy_on_read_never_overwrites_a_later_write();
    void random_reads_and_writes_match_a_model();
    void bad_options();
};

void tst_backing::reads_show_the_backing()
{
    fixture f;
    auto d = device::open(f.spec());
    QVERIFY2(d, d ? "" : d.error().message.c_str());
    QCOMPARE((*d)->length(), base_len);  // the empty overlay grew, as a hole
    QVERIFY((*d)->get_limits().request_alignment >= G);
    QVERIFY(f.read_all(**d) == f.data);
    QCOMPARE((*d)->get_stats().bytes_copied_on_read, std::uint64_t(0));
    // The overlay's holes are the backing's data, not zeroes (a copy that
    // trusted the overlay alone would skip them).
    auto st = (*d)->block_status(100, base_len);
    QVERIFY(st && st->data && !st->zero);
    d->reset();
    QCOMPARE(allocated(f.overlay), std::uint64_t(0));
    QCOMPARE(read_file(f.overlay), std::vector<std::uint8_t>(base_len, 0));
}

void tst_backing::writes_merge_into_the_overlay()
{
    fixture f;
    // backing=FILE is the filename shorthand of backing.filename=FILE.
    auto d = device::open("driver=raw-posix,filename=" + f.overlay.toStdString() +
                          ",backing=" + f.base.toStdString());
    QVERIFY(d);
    std::vector<std::uint8_t> w(100, 0x77);
    QVERIFY((*d)->pwrite(G + 1000, w.data(), w.size()));
    auto expect = f.data;
    std::copy(w.begin(), w.end(), expect.begin() + G + 1000);
    QVERIFY(f.read_all(**d) == expect);
    d->reset();
    QVERIFY(read_file(f.base) == f.data);  // the backing is never written
    auto ov = read_file(f.overlay);
    // Granule 1 holds the write with the backing's bytes around it; the
    // others are still holes.
    QVERIFY(std::equal(ov.begin() + G, ov.begin() + 2 * G, expect.begin() + G));
    QVERIFY(std::all_of(ov.begin(), ov.begin() + G, [](auto b) { return b == 0; }));
    QVERIFY(std::all_of(ov.begin() + 2 * G, ov.end(), [](auto b) { return b == 0; }));
}

void tst_backing::copy_on_read_fills_granules()
{
    fixture f;
    auto d = device::open(f.spec(",copy-on-read=on"));
    QVERIFY2(d, d ? "" : d.error().message.c_str());
    QVERIFY((*d)->describe().find("copy-on-read: on (overlay-granularity 65536)") !=
            std::string::npos);
    std::vector<std::uint8_t> buf(10);
    QVERIFY((*d)->pread(2 * G + 5, buf.data(), buf.size()));
    QVERIFY(std::equal(buf.begin(), buf.end(), f.data.begin() + 2 * G + 5));
    QCOMPARE((*d)->get_stats().bytes_copied_on_read, G);
    // The whole device: every granule but the partial last one is copied.
    QVERIFY(f.read_all(**d) == f.data);
    QCOMPARE((*d)->get_stats().bytes_copied_on_read, 4 * G);  // every whole granule, once
    d->reset();
    auto ov = read_file(f.overlay);
    QCOMPARE(ov.size(), std::size_t(base_len));
    QVERIFY(std::equal(ov.begin(), ov.begin() + 4 * G, f.data.begin()));
    // The overlay alone (no backing) now reads the copied data.
    auto alone = device::open("driver=raw-posix,filename=" + f.overlay.toStdString());
    QVERIFY(alone);
    std::vector<std::uint8_t> got(4 * G);
    QVERIFY((*alone)->pread(0, got.data(), got.size()));
    QVERIFY(std::equal(got.begin(), got.end(), f.data.begin()));
}

void tst_backing::zeroes_stay_zeroes()
{
    fixture f;
    auto d = device::open(f.spec());
    QVERIFY(d);
    QVERIFY((*d)->pwrite_zeroes(G + 10, 2 * G));
    QVERIFY((*d)->pdiscard(0, base_len));  // advisory: must not expose the backing
    auto expect = f.data;
    std::fill(expect.begin() + G + 10, expect.begin() + 3 * G + 10, 0);
    QVERIFY(f.read_all(**d) == expect);
}

// R, a copy-on-read of granule 0, is held while it reads the backing; W
// writes granule 0 meanwhile. R must not write the backing's older data
// over W's: W waits for R, and W's data is what stays.
void tst_backing::copy_on_read_never_overwrites_a_later_write()
{
    fixture f;
    auto d = device::open("driver=raw-posix,filename=" + f.overlay.toStdString() +
                          ",backing.driver=blkdebug,backing.image.filename=" +
                          f.base.toStdString() + ",copy-on-read=on");
    QVERIFY2(d, d ? "" : d.error().message.c_str());
    auto &dev = **d;
    QVERIFY(dev.debug_breakpoint("read_aio", "R"));
    std::vector<std::uint8_t> rbuf(G), wbuf(G, 0x99);
    auto r = dev.async_preadv(0, {{rbuf.data(), rbuf.size()}}, boost::asio::use_future);
    QVERIFY(granule_test::eventually([&] { return dev.debug_is_suspended("R"); }));
    auto w = dev.async_pwritev(0, {{wbuf.data(), wbuf.size()}}, boost::asio::use_future);
    std::vector<std::uint8_t> other(10);
    QVERIFY(dev.pread(3 * G, other.data(), other.size()));  // barrier: W has been seen
    QVERIFY(w.wait_for(std::chrono::milliseconds(0)) != std::future_status::ready);
    QVERIFY(dev.debug_remove_breakpoint("R"));
    auto rr = r.get();
    auto wr = w.get();
    QVERIFY(rr && wr);
    QVERIFY(std::equal(rbuf.begin(), rbuf.end(), f.data.begin()));  // R saw the backing
    QVERIFY(dev.get_stats().serialisation_waits > 0);
    std::vector<std::uint8_t> now(G);
    QVERIFY(dev.pread(0, now.data(), now.size()));
    QVERIFY2(now == wbuf, "the copy-on-read wrote older data over the write");
}

// Batches of 32 concurrent requests: writes never overlap each other
// byte-wise; a third of them are whole granules (they do not serialise by
// themselves). Reads go anywhere: those that share bytes with a write of
// their batch may see either data and are not checked, but their
// copy-on-read races with the write, which must win. Every other read must
// see the model; at the end so must the device and the overlay (where it is
// no longer a hole). Each batch starts from an empty overlay, so there is
// always something left to copy.
void tst_backing::random_reads_and_writes_match_a_model()
{
    fixture f;
    std::mt19937_64 rng(20261125);
    std::uint64_t copied = 0;
    using range = std::pair<std::uint64_t, std::uint64_t>;
    auto overlap = [](const range &a, const range &b) {
        return a.first < b.first + b.second && b.first < a.first + a.second;
    };
    using io_future = std::future<granule::result<std::size_t>>;
    for (int batch = 0; batch < 100; ++batch) {
        write_file(f.overlay, {});
        auto d = device::open(f.spec(",copy-on-read=on"));
        QVERIFY2(d, d ? "" : d.error().message.c_str());
        auto &dev = **d;
        auto model = f.data;
        std::vector<range> writes, reads;
        std::vector<bool> checked;
        std::vector<std::vector<std::uint8_t>> wbufs, rbufs;
        std::vector<io_future> done;
        for (int i = 0; i < 32; ++i) {
            range r;
            if (rng() % 2) {  // a write
                if (rng() % 3 == 0) {
                    std::uint64_t granules = 1 + rng() % 2;
                    r = {(rng() % (base_len / G - granules + 1)) * G, granules * G};
                } else {
                    std::uint64_t len = 1 + rng() % 20000;
                    r = {rng() % (base_len - len), len};
                }
                if (std::any_of(writes.begin(), writes.end(),
                                [&](const range &w) { return overlap(r, w); }))
                    continue;
                for (std::size_t k = 0; k < reads.size(); ++k)
                    if (overlap(r, reads[k]))
                        checked[k] = false;
                writes.push_back(r);
                wbufs.emplace_back(r.second);
                for (auto &b : wbufs.back())
                    b = std::uint8_t(rng() | 1);
                done.push_back(dev.async_pwritev(r.first, {{wbufs.back().data(), r.second}},
                                                 boost::asio::use_future));
            } else {
                std::uint64_t len = 1 + rng() % 100000;
                r = {rng() % (base_len - len), len};
                reads.push_back(r);
                checked.push_back(std::none_of(writes.begin(), writes.end(),
                                               [&](const range &w) { return overlap(r, w); }));
                rbufs.emplace_back(r.second);
                done.push_back(dev.async_preadv(r.first, {{rbufs.back().data(), r.second}},
                                                boost::asio::use_future));
            }
        }
        for (auto &fut : done) {
            auto r = fut.get();
            QVERIFY2(r, r ? "" : r.error().message.c_str());
        }
        for (std::size_t i = 0; i < reads.size(); ++i) {
            auto [off, len] = reads[i];
            QVERIFY2(!checked[i] || std::equal(rbufs[i].begin(), rbufs[i].end(), model.begin() + off),
                     qPrintable(QString("batch %1: read at %2+%3 differs from the model")
                                    .arg(batch).arg(off).arg(len)));
        }
        for (std::size_t i = 0; i < writes.size(); ++i)
            std::copy(wbufs[i].begin(), wbufs[i].end(), model.begin() + writes[i].first);
        copied += dev.get_stats().bytes_copied_on_read;
        d->reset();
        auto ov = read_file(f.overlay);
        for (std::uint64_t g = 0; g + G <= base_len; g += G) {
            bool hole = std::all_of(ov.begin() + g, ov.begin() + g + G, [](auto b) { return b == 0; });
            QVERIFY2(hole || std::equal(ov.begin() + g, ov.begin() + g + G, model.begin() + g),
                     qPrintable(QString("batch %1: overlay granule at %2 is neither a hole nor "
                                        "the model (a write lost?)").arg(batch).arg(g)));
        }
        auto again = device::open(f.spec());
        QVERIFY(again);
        auto now = f.read_all(**again);
        auto bad = std::mismatch(now.begin(), now.end(), model.begin());
        QVERIFY2(bad.first == now.end(),
                 qPrintable(QString("batch %1: byte %2 differs from the model (a write lost)")
                                .arg(batch).arg(bad.first - now.begin())));
    }
    QVERIFY(copied > 0);
}

void tst_backing::bad_options()
{
    fixture f;
    auto check = [](const std::string &spec, const std::string &want) {
        auto d = device::open(spec);
        QVERIFY2(!d, spec.c_str());
        QVERIFY2(d.error().message.find(want) != std::string::npos,
                 (d.error().message + " (wanted: " + want + ")").c_str());
    };
    check("driver=memory,size=1M,copy-on-read=on", "option 'copy-on-read' needs a backing node");
    check(f.spec(",backing=x.img"), "option 'backing' given both as a filename and as backing.*");
    check(f.spec(",overlay-granularity=1000"),
          "option 'overlay-granularity': 1000 is not a power of two of at least 512");
    check(f.spec(",copy-on-read=maybe"), "copy-on-read");
    check("driver=raw-posix,filename=" + f.overlay.toStdString() +
              ",backing.driver=raw-posix,backing.filename=/nonexistent/base.img",
          "/nonexistent/base.img");
    // A shorter overlay is resized to the backing's length, when its driver
    // can truncate: null-c cannot.
    check("driver=null-c,size=1k,backing.driver=raw-posix,backing.filename=" +
              f.base.toStdString(),
          "the overlay (1024 bytes) is shorter than the backing (" + std::to_string(base_len));
    auto ro = device::open(f.spec(",copy-on-read=on"), granule::open_flags{.read_only = true});
    QVERIFY(!ro);
    QVERIFY2(ro.error().message.find("copy-on-read needs a writable overlay") != std::string::npos,
             ro.error().message.c_str());
}

QTEST_GUILESS_MAIN(tst_backing)
#include "tst_backing.moc"
