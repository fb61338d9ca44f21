// Format safety on a device (core/src/format_guard.cpp): the format option,
// the probe at open, a recognised container refusing every change while
// reads go on, and on a probed raw device the refusal of any change that
// would leave a signature in the first 512 bytes — by a write, zeroes, a
// partial discard or a truncate — at alignments below, at and above 512,
// also for two writes in flight that only together would make one.
#include <granule/device.hpp>

#include <boost/asio/use_future.hpp>

#include <QtTest/QtTest>

#include <cerrno>
#include <fstream>

namespace {

using granule::device;
using granule::format_decision;

QByteArray raw(const char *data, int len) { return QByteArray(data, len); }

std::unique_ptr<device> open_ok(const std::string &spec)
{
    auto d = device::open(spec);
    if (!d)
        qWarning("%s: %s", spec.c_str(), d.error().message.c_str());
    return d ? std::move(*d) : nullptr;
}

QByteArray head_of(device &d, int n)
{
    QByteArray b(n, '\0');
    auto r = d.pread(0, b.data(), static_cast<std::size_t>(n));
    return r ? b : QByteArray("read failed");
}

granule::result<void> write_at(device &d, std::uint64_t offset, const QByteArray &data)
{
    auto r = d.pwrite(offset, data.constData(), static_cast<std::size_t>(data.size()));
    if (!r)
        return r.error();
    return {};
}

// The memory driver at request alignment a (1: byte-granular, below the
// 512-byte window; 4096: above it).
std::string memory_spec(std::uint64_t a, const std::string &more = "size=1M")
{
    return "driver=memory," + more + ",align=" + std::to_string(a);
}

const QByteArray qcow2_header = raw("QFI\xfb\0\0\0\3", 8);

}  // namespace

class tst_format_guard : public QObject {
    Q_OBJECT

private slots:
    void open_decisions();
    void format_option_values();
    void container_refuses_changes();
    void probe_read_failure();
    void guard_data();
    void guard();
    void guard_two_writes_in_flight_data();
    void guard_two_writes_in_flight();
};

void tst_format_guard::open_decisions()
{
    using basis = format_decision::basis;
    auto zeroes = open_ok("driver=memory,size=1M");
    QVERIFY(zeroes);
    QCOMPARE(zeroes->format_probe().how, basis::no_signature);
    QCOMPARE(zeroes->format_probe().format, std::string("raw"));
    QCOMPARE(zeroes->format_probe().probed, 512ull);
    QCOMPARE(zeroes->format_probe().subject, std::string("the memory device"));
    // The probe is the open's: no caller request, no driver request counted.
    QCOMPARE(zeroes->get_stats().driver_requests, 0ull);
    QCOMPARE(zeroes->get_stats().read_requests, 0ull);

    auto short_one = open_ok("driver=memory,size=100");
    QVERIFY(short_one);
    QCOMPARE(short_one->format_probe().probed, 100ull);
    auto empty = open_ok("driver=memory,size=0,growable=on");
    QVERIFY(empty);
    QCOMPARE(empty->format_probe().probed, 0ull);
    QCOMPARE(empty->format_probe().how, basis::no_signature);

    auto given = open_ok("driver=memory,size=1M,format=raw");
    QVERIFY(given);
    QCOMPARE(given->format_probe().how, basis::given);
    QCOMPARE(QString::fromStdString(given->format_probe().describe()),
             QString("raw (given: format=raw)"));

    // Through a filter, the file is named; the probe reads through the root.
    QTemporaryDir dir;
    const auto path = dir.filePath("d.img").toStdString();
    std::ofstream(path).write("QED\0", 4);
    auto stacked = open_ok("driver=blkdebug,align=4096,image.driver=raw-posix,image.filename=" +
                           path);
    QVERIFY(stacked);
    QCOMPARE(stacked->format_probe().how, basis::signature);
    QCOMPARE(stacked->format_probe().format, std::string("qed"));
    QCOMPARE(stacked->format_probe().subject, "'" + path + "'");
    QCOMPARE(stacked->format_probe().probed, 4ull);
}

void tst_format_guard::format_option_values()
{
    auto bad = device::open("driver=memory,size=1M,format=qcow2");
    QVERIFY(!bad);
    QCOMPARE(bad.error().code, EINVAL);
    QVERIFY2(bad.error().message.find("option 'format': 'qcow2' is not supported: Granule has "
                                      "no format drivers") != std::string::npos,
             bad.error().message.c_str());
    QVERIFY(!device::open("driver=memory,size=1M,format=RAW"));
    // A child's key is its driver's, which has no such option.
    auto child = device::open("driver=blkdebug,image.driver=memory,image.size=1M,image.format=raw");
    QVERIFY(!child);
    QVERIFY2(child.error().message.find("image.format") != std::string::npos,
             child.error().message.c_str());
}

void tst_format_guard::container_refuses_changes()
{
    QTemporaryDir dir;
    const auto path = dir.filePath("t.qcow2").toStdString();
    {
        std::ofstream f(path, std::ios::binary);
        f.write(qcow2_header.constData(), qcow2_header.size());
        f.write(std::string(65536 - 8, '\0').data(), 65536 - 8);
    }
    auto d = open_ok("driver=raw-posix,filename=" + path);
    QVERIFY(d);
    QVERIFY(d->format_probe().refuses_writes());
    const std::string looks = "'" + path + "' looks like a qcow2 image (magic 'QFI\\xfb' at "
                              "offset 0, version 3): Granule reads it as raw bytes; writes are "
                              "refused unless the image is opened with format=raw";
    auto w = write_at(*d, 32768, "data");
    QVERIFY(!w);
    QCOMPARE(w.error().code, EPERM);
    QCOMPARE(QString::fromStdString(w.error().message),
             QString::fromStdString("write at offset 32768, length 4: " + looks));
    auto z = d->pwrite_zeroes(4096, 4096);
    QVERIFY(!z);
    QCOMPARE(z.error().code, EPERM);
    QCOMPARE(QString::fromStdString(z.error().message),
             QString::fromStdString("write_zeroes at offset 4096, length 4096: " + looks));
    auto dc = d->pdiscard(0, 65536);
    QVERIFY(!dc);
    QCOMPARE(dc.error().code, EPERM);
    auto t = d->truncate(4096);
    QVERIFY(!t);
    QCOMPARE(t.error().code, EPERM);
    QCOMPARE(QString::fromStdString(t.error().message),
             QString::fromStdString("truncate to 4096 bytes: " + looks));
    QVERIFY(d->flush());
    QCOMPARE(head_of(*d, 8), qcow2_header);
    QCOMPARE(d->length(), 65536ull);
    d.reset();

    // Read-only says so first; format=raw writes.
    auto ro = device::open("driver=raw-posix,filename=" + path, {.read_only = true});
    QVERIFY(ro);
    QCOMPARE(write_at(**ro, 0, "x").error().code, EROFS);
    auto as_raw = open_ok("driver=raw-posix,filename=" + path + ",format=raw");
    QVERIFY(as_raw);
    QVERIFY(write_at(*as_raw, 3, "x"));
    as_raw.reset();
    auto probed = open_ok(path);  // 'QFIx': no signature now
    QVERIFY(probed);
    QVERIFY(probed->format_probe().guards_first_bytes());
}

void tst_format_guard::probe_read_failure()
{
    const std::string rule = "driver=blkdebug,inject-error.0.event=read_aio,inject-error.0.errno=5,"
                             "inject-error.0.offset=0,inject-error.0.once=on,image.driver=memory,"
                             "image.size=1M";
    auto d = device::open(rule);
    QVERIFY(!d);
    QCOMPARE(d.error().code, EIO);
    QVERIFY2(d.error().message.find("the blkdebug device: cannot read the first bytes to look "
                                    "for an image format signature (open it with format=raw to "
                                    "skip the check)") == 0,
             d.error().message.c_str());
    QVERIFY2(d.error().message.find("injected error 5 (Input/output error) at read_aio") != std::string::npos,
             d.error().message.c_str());
    QVERIFY(open_ok(rule + ",format=raw"));
}

// One change on a probed raw device whose first bytes hold `before`.
void tst_format_guard::guard_data()
{
    QTest::addColumn<qulonglong>("align");
    QTest::addColumn<QString>("spec_size");  // the memory node's size/growable
    QTest::addColumn<QByteArray>("before");
    QTest::addColumn<QString>("op");  // write, zeroes, discard, truncate
    QTest::addColumn<qulonglong>("offset");
    QTest::addColumn<QByteArray>("data");  // write: the bytes; others: length as text
    QTest::addColumn<bool>("refused");
    QTest::addColumn<QByteArray>("after");  // the first bytes afterwards
    QTest::addColumn<QString>("names");     // in the error: the format it would make

    const QByteArray almost = raw("QFI\0\0\0\0\3", 8);  // byte 3 short of qcow2
    for (qulonglong a : {1ull, 512ull, 4096ull}) {
        auto row = [&](const char *name) -> QTestData & {
            return QTest::newRow(qPrintable(QString("%1@%2").arg(name).arg(a)));
        };
        row("complete_qcow2_magic") << a << "size=1M" << almost << "write" << 3ull
                                     << raw("\xfb", 1) << true << almost << "qcow2";
        row("version_completes_qcow2")
            << a << "size=1M" << raw("QFI\xfb\0\0\0\0", 8) << "write" << 7ull << raw("\2", 1)
            << true << raw("QFI\xfb\0\0\0\0", 8) << "qcow2";
        row("neighbour_byte") << a << "size=1M" << almost << "write" << 100ull << raw("x", 1)
                               << false << almost << "";
        row("whole_sector_header") << a << "size=1M" << QByteArray() << "write" << 0ull
                                    << qcow2_header + QByteArray(504, '\0') << true
                                    << QByteArray(8, '\0') << "qcow2";
        row("vdi_signature_at_64") << a << "size=1M" << QByteArray() << "write" << 64ull
                                    << raw("\x7f\x10\xda\xbe", 4) << true << QByteArray(8, '\0')
                                    << "vdi";
        row("vhdx_block") << a << "size=1M" << QByteArray() << "write" << 0ull
                           << QByteArray("vhdxfile").leftJustified(8192, '\0') << true
                           << QByteArray(8, '\0') << "vhdx";
        row("vhdx_past_first_sector") << a << "size=1M" << QByteArray() << "write" << 512ull
                                       << QByteArray("vhdxfile") << false << QByteArray(8, '\0')
                                       << "";
        row("descriptor_text") << a << "size=1M" << QByteArray("# notes\n") << "write" << 8ull
                                << QByteArray("version=1\n") << true << QByteArray("# notes\n")
                                << "vmdk";
        row("qed_by_zeroes") << a << "size=1M" << QByteArray("QEDx") << "zeroes" << 3ull
                              << QByteArray("1") << true << QByteArray("QEDx") << "qed";
        row("zeroes_over_all") << a << "size=1M" << QByteArray("QEDx") << "zeroes" << 0ull
                                << QByteArray("4096") << false << QByteArray(4, '\0') << "";
        row("short_device_qed") << a << "size=100" << QByteArray() << "write" << 0ull
                                 << raw("QED\0", 4) << true << QByteArray(4, '\0') << "qed";
        row("growable_three_bytes")
            << a << "size=0,growable=on" << QByteArray() << "write" << 0ull << QByteArray("QED")
            << false << QByteArray("QED") << "";
        row("growable_nul_after") << a << "size=0,growable=on" << QByteArray("QED") << "write"
                                   << 3ull << raw("\0", 1) << true << QByteArray("QED") << "qed";
        row("truncate_grows_nul") << a << "size=0,growable=on" << QByteArray("QED")
                                   << "truncate" << 0ull << QByteArray("4096") << true
                                   << QByteArray("QED") << "qed";
        row("truncate_keeps_head") << a << "size=1M" << QByteArray("QEDx") << "truncate" << 0ull
                                    << QByteArray("4096") << false << QByteArray("QEDx") << "";
    }
    // Byte-granular discard: a partial discard of the first bytes could
    // leave "QED" + a zero; it leaves them alone instead (no error).
    QTest::newRow("partial_discard_skipped@1")
        << 1ull << "size=1M" << QByteArray("QEDx") << "discard" << 3ull << QByteArray("65536")
        << false << QByteArray("QEDx") << "";
    QTest::newRow("discard_over_all@1") << 1ull << "size=1M" << QByteArray("QEDx") << "discard"
                                        << 0ull << QByteArray("65536") << false
                                        << QByteArray(4, '\0') << "";
}

void tst_format_guard::guard()
{
    QFETCH(qulonglong, align);
    QFETCH(QString, spec_size);
    QFETCH(QByteArray, before);
    QFETCH(QString, op);
    QFETCH(qulonglong, offset);
    QFETCH(QByteArray, data);
    QFETCH(bool, refused);
    QFETCH(QByteArray, after);
    QFETCH(QString, names);

    auto d = open_ok(memory_spec(align, spec_size.toStdString()));
    QVERIFY(d);
    QVERIFY(d->format_probe().guards_first_bytes());
    if (!before.isEmpty())
        QVERIFY(write_at(*d, 0, before));
    granule::result<void> r;
    if (op == "write")
        r = write_at(*d, offset, data);
    else if (op == "zeroes")
        r = d->pwrite_zeroes(offset, data.toULongLong());
    else if (op == "discard")
        r = d->pdiscard(offset, data.toULongLong());
    else
        r = d->truncate(data.toULongLong());
    if (!refused) {
        QVERIFY2(r, r ? "" : r.error().message.c_str());
    } else {
        QVERIFY(!r);
        QCOMPARE(r.error().code, EPERM);
        const auto &m = r.error().message;
        QVERIFY2(m.find(": refused: the memory device would then look like a " +
                        names.toStdString() + " image (") != std::string::npos,
                 m.c_str());
        QVERIFY2(m.find("open the image with format=raw to write such bytes") != std::string::npos,
                 m.c_str());
    }
    if (d->length())
        QCOMPARE(head_of(*d, std::min<int>(after.size(), static_cast<int>(d->length()))), after);
}

// Two writes in flight that together would make "QFI\xfb" + version 3: the
// first bytes are serialised, so the second is checked against the first's
// result and refused, whatever the alignment.
void tst_format_guard::guard_two_writes_in_flight_data()
{
    QTest::addColumn<qulonglong>("align");
    for (qulonglong a : {1ull, 512ull, 4096ull})
        QTest::newRow(qPrintable(QString::number(a))) << a;
}

void tst_format_guard::guard_two_writes_in_flight()
{
    QFETCH(qulonglong, align);
    auto d = open_ok(memory_spec(align));
    QVERIFY(d);
    QByteArray magic = raw("QFI\xfb", 4), version = raw("\0\0\0\3", 4);
    auto first = d->async_pwritev(0, {{magic.data(), 4}}, boost::asio::use_future);
    auto second = d->async_pwritev(4, {{version.data(), 4}}, boost::asio::use_future);
    auto r1 = first.get(), r2 = second.get();
    QVERIFY2(r1, r1 ? "" : r1.error().message.c_str());
    QVERIFY(!r2);
    QCOMPARE(r2.error().code, EPERM);
    QCOMPARE(head_of(*d, 8), raw("QFI\xfb\0\0\0\0", 8));
}

QTEST_APPLESS_MAIN(tst_format_guard)
#include "tst_format_guard.moc"
