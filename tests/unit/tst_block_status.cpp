// device::block_status: holes of a sparse file read as zero without I/O,
// written ranges as data, the end of the device as zero; unaligned queries
// under a 4096-byte alignment answer for the byte asked, never for the
// block around it; bad ranges are refused by name.
#include "test_support.hpp"

#include <granule/device.hpp>

#include <QTemporaryDir>

#include <fcntl.h>
#include <unistd.h>

using granule::device;

namespace {

constexpr std::uint64_t MiB = 1 << 20;

// 3 MiB: a 1 MiB hole, 64 KiB of data, then a hole to the end. Empty when
// the filesystem keeps no holes (then the test cannot say anything).
QString make_sparse(const QTemporaryDir &dir)
{
    QString path = dir.filePath("sparse.img");
    int fd = ::open(path.toUtf8().constData(), O_CREAT | O_RDWR | O_TRUNC, 0644);
    if (fd < 0)
        return {};
    std::vector<char> data(64 * 1024, 'x');
    bool ok = ::pwrite(fd, data.data(), data.size(), MiB) == ssize_t(data.size()) &&
              ::ftruncate(fd, 3 * MiB) == 0;
    bool holes = ::lseek(fd, 0, SEEK_DATA) == off_t(MiB);
    ::close(fd);
    return ok && holes ? path : QString();
}

}  // namespace

class tst_block_status : public QObject {
    Q_OBJECT

private slots:
    void sparse_file_data();
    void sparse_file();
    void memory_and_end();
    void bad_ranges();
};

void tst_block_status::sparse_file_data()
{
    QTest::addColumn<QString>("stack");
    QTest::newRow("raw-posix") << QString("driver=raw-posix,filename=%1");
    QTest::newRow("blkdebug-4096") << QString("driver=blkdebug,align=4096,image.filename=%1");
}

void tst_block_status::sparse_file()
{
    QFETCH(QString, stack);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QString path = make_sparse(dir);
    if (path.isEmpty())
        GRANULE_SKIP("the temporary directory's filesystem keeps no holes");
    auto d = device::open(stack.arg(path).toStdString());
    QVERIFY2(d, d ? "" : d.error().message.c_str());
    device &dev = **d;

    struct expect {
        std::uint64_t off, len, bytes;
        bool zero;
    };
    const expect cases[] = {
        {0, 3 * MiB, MiB, true},                         // the leading hole
        {100, 3 * MiB, MiB - 100, true},                 // unaligned, inside it
        {MiB - 1, 10, 1, true},                          // its last byte
        {MiB, 3 * MiB, 64 * 1024, false},                // the data
        {MiB + 1000, 4096, 4096, false},                 // unaligned, inside it
        {MiB + 64 * 1024, 3 * MiB, 2 * MiB - 64 * 1024, true},  // the trailing hole
        {3 * MiB, 100, 100, true},                       // past the end
    };
    for (const auto &c : cases) {
        auto r = dev.block_status(c.off, c.len);
        QString where = QString("offset %1 length %2: ").arg(c.off).arg(c.len);
        QVERIFY2(r, qPrintable(where + (r ? "" : r.error().message.c_str())));
        QVERIFY2(r->bytes == c.bytes,
                 qPrintable(where + QString("bytes %1, expected %2").arg(r->bytes).arg(c.bytes)));
        QVERIFY2(r->zero == c.zero, qPrintable(where + "zero flag"));
        QVERIFY2(r->data == !c.zero, qPrintable(where + "data flag"));
    }
}

// The memory driver keeps holes like a sparse file: what was written is
// data, what was never written or was discarded is zero, so is the end.
void tst_block_status::memory_and_end()
{
    auto d = device::open("driver=memory,size=10000");
    QVERIFY2(d, d ? "" : d.error().message.c_str());
    auto &dev = **d;
    std::vector<std::uint8_t> buf(3000, 0x42);
    QVERIFY(dev.pwrite(2000, buf.data(), buf.size()));
    QVERIFY(dev.pwrite(5000, buf.data(), 1000));  // merges with the first
    QVERIFY(dev.pdiscard(3000, 1000));
    struct expect {
        std::uint64_t off, len, bytes;
        bool zero;
    };
    const expect cases[] = {
        {0, MiB, 2000, true},      {2000, MiB, 1000, false}, {3000, MiB, 1000, true},
        {4000, MiB, 2000, false},  {5999, 10, 1, false},     {6000, MiB, 4000, true},
        {10000, 7, 7, true},
    };
    for (const auto &c : cases) {
        auto r = dev.block_status(c.off, c.len);
        QString where = QString("offset %1: ").arg(c.off);
        QVERIFY2(r, qPrintable(where + (r ? "" : r.error().message.c_str())));
        QVERIFY2(r->bytes == c.bytes,
                 qPrintable(where + QString("bytes %1, expected %2").arg(r->bytes).arg(c.bytes)));
        QVERIFY2(r->zero == c.zero && r->data == !c.zero, qPrintable(where + "flags"));
    }
}

void tst_block_status::bad_ranges()
{
    auto d = device::open("driver=memory,size=10000");
    QVERIFY(d);
    auto r = (*d)->block_status(100, 0);
    QVERIFY(!r);
    QCOMPARE(r.error().code, EINVAL);
    QVERIFY2(r.error().message.find("block_status at offset 100: length 0") != std::string::npos,
             r.error().message.c_str());
    r = (*d)->block_status(std::uint64_t(1) << 62, std::uint64_t(1) << 62);
    QVERIFY(!r);
    QVERIFY2(r.error().message.find("overflows") != std::string::npos, r.error().message.c_str());
}

QTEST_GUILESS_MAIN(tst_block_status)
#include "tst_block_status.moc"
