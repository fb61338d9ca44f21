// recognise_format: every container signature Granule knows, near misses
// that must stay raw (one byte off, the wrong place, the wrong version), heads
// shorter than a signature, and the texts a device's messages are made of.
// Real images made by qemu-img are checked in tests/tools/test_format_peer.sh.
#include <granule/image_format.hpp>

#include <QtTest/QtTest>

namespace {

// A sector of zeroes (or `size` bytes) with `bytes` placed at `offset`.
QByteArray sector(int offset, const QByteArray &bytes, int size = 512)
{
    QByteArray s(size, '\0');
    s.replace(offset, bytes.size(), bytes);
    return s.left(size);
}

QByteArray raw(const char *data, int len) { return QByteArray(data, len); }

std::span<const std::byte> span_of(const QByteArray &b)
{
    return {reinterpret_cast<const std::byte *>(b.constData()), static_cast<std::size_t>(b.size())};
}

const QByteArray qcow_magic = raw("QFI\xfb", 4);
const QByteArray vdi_signature = raw("\x7f\x10\xda\xbe", 4);  // 0xbeda107f, little-endian
const QByteArray vdi_banner = "<<< Oracle VM VirtualBox Disk Image >>>\n";

}  // namespace

class tst_image_format : public QObject {
    Q_OBJECT

private slots:
    void recognise_data();
    void recognise();
    void only_the_first_sector();
    void decision_texts();
};

void tst_image_format::recognise_data()
{
    QTest::addColumn<QByteArray>("head");
    QTest::addColumn<QString>("format");    // "" = raw (nothing recognised)
    QTest::addColumn<QString>("evidence");  // the whole evidence text
    const QString none;

    // qcow2 / qcow: the magic, then the big-endian version.
    QTest::newRow("qcow2_v3") << sector(0, qcow_magic + raw("\0\0\0\3", 4)) << "qcow2"
                              << "magic 'QFI\\xfb' at offset 0, version 3";
    QTest::newRow("qcow2_v2") << sector(0, qcow_magic + raw("\0\0\0\2", 4)) << "qcow2"
                              << "magic 'QFI\\xfb' at offset 0, version 2";
    QTest::newRow("qcow2_future_version") << sector(0, qcow_magic + raw("\0\0\0\7", 4)) << "qcow2"
                                          << "magic 'QFI\\xfb' at offset 0, version 7";
    QTest::newRow("qcow_v1") << sector(0, qcow_magic + raw("\0\0\0\1", 4)) << "qcow"
                             << "magic 'QFI\\xfb' at offset 0, version 1";
    QTest::newRow("qcow_version_0") << sector(0, qcow_magic) << none << none;
    QTest::newRow("qcow_little_endian_version") << sector(0, qcow_magic + raw("\3\0\0\0", 4))
                                                << "qcow2"
                                                << "magic 'QFI\\xfb' at offset 0, version 50331648";
    QTest::newRow("qcow_magic_off_by_one_bit") << sector(0, raw("QFI\xfa\0\0\0\3", 8)) << none
                                               << none;
    QTest::newRow("qcow_magic_at_1") << sector(1, qcow_magic + raw("\0\0\0\3", 4)) << none << none;
    QTest::newRow("qcow_cut_before_version") << raw("QFI\xfb\0\0\0", 7) << none << none;
    QTest::newRow("qcow_just_long_enough") << raw("QFI\xfb\0\0\0\3", 8) << "qcow2"
                                           << "magic 'QFI\\xfb' at offset 0, version 3";

    // QED: "QED\0".
    QTest::newRow("qed") << sector(0, raw("QED\0", 4)) << "qed" << "magic 'QED\\0' at offset 0";
    QTest::newRow("qed_space_not_nul") << sector(0, "QED ") << none << none;
    QTest::newRow("qed_lowercase") << sector(0, raw("qed\0", 4)) << none << none;
    QTest::newRow("qed_three_bytes") << raw("QED", 3) << none << none;
    QTest::newRow("qed_four_bytes") << raw("QED\0", 4) << "qed" << "magic 'QED\\0' at offset 0";

    // VMDK: the sparse magics and the text descriptor.
    QTest::newRow("vmdk_sparse") << sector(0, raw("KDMV\1\0\0\0", 8)) << "vmdk"
                                 << "magic 'KDMV' at offset 0 (sparse extent)";
    QTest::newRow("vmdk_esx_sparse") << sector(0, "COWD") << "vmdk"
                                     << "magic 'COWD' at offset 0 (ESX sparse extent)";
    QTest::newRow("vmdk_magic_big_endian") << sector(0, "VMDK") << none << none;
    QTest::newRow("vmdk_descriptor")
        << QByteArray("# Disk DescriptorFile\nversion=1\nCID=7b230ba0\n") << "vmdk"
        << "text descriptor '# Disk DescriptorFile' at offset 0";
    QTest::newRow("vmdk_descriptor_other_comments")
        << QByteArray("# written by hand\n\n   \n#\r\nversion=2\r\ncreateType=\"vmfs\"\n") << "vmdk"
        << "text descriptor line 'version=2' at offset 26";
    QTest::newRow("vmdk_descriptor_misspelt") << QByteArray("# Disk Descriptor File\nCID=1\n")
                                              << none << none;
    QTest::newRow("vmdk_version_not_first_setting")
        << QByteArray("# comment\nCID=fffffffe\nversion=1\n") << none << none;
    QTest::newRow("vmdk_unknown_version") << QByteArray("version=4\n") << none << none;
    QTest::newRow("vmdk_version_line_cut_off") << QByteArray("# c\nversion=1") << none << none;
    QTest::newRow("vmdk_version_with_spaces") << QByteArray("version = 1\n") << none << none;

    // VHDX: the file type identifier.
    QTest::newRow("vhdx") << sector(0, "vhdxfileQ\0E\0M\0U\0") << "vhdx"
                          << "magic 'vhdxfile' at offset 0";
    QTest::newRow("vhdx_uppercase") << sector(0, "VHDXFILE") << none << none;
    QTest::newRow("vhdx_seven_bytes") << QByteArray("vhdxfil") << none << none;

    // VDI: the signature at 64 decides; the banner before it does not.
    QTest::newRow("vdi") << sector(0, vdi_banner).replace(64, 4, vdi_signature) << "vdi"
                         << "signature 0xbeda107f at offset 64";
    QTest::newRow("vdi_other_banner")
        << sector(0, "<<< QEMU VM Virtual Disk Image >>>\n").replace(64, 4, vdi_signature) << "vdi"
        << "signature 0xbeda107f at offset 64";
    QTest::newRow("vdi_banner_without_signature") << sector(0, vdi_banner) << none << none;
    QTest::newRow("vdi_signature_big_endian") << sector(64, raw("\xbe\xda\x10\x7f", 4)) << none
                                              << none;
    QTest::newRow("vdi_signature_at_63") << sector(63, vdi_signature) << none << none;
    QTest::newRow("vdi_cut_in_signature") << sector(64, vdi_signature, 67) << none << none;

    // VHD (qemu's vpc): the footer copy at 0 of a dynamic or differencing image.
    QTest::newRow("vpc") << sector(0, "conectix\0\0\0\2") << "vpc"
                         << "magic 'conectix' at offset 0 (a dynamic or differencing VHD)";
    QTest::newRow("vpc_one_letter_off") << sector(0, "conectiv") << none << none;
    // A fixed VHD's only footer is in its last 512 bytes: raw by design.
    QTest::newRow("vpc_fixed_footer_at_end") << sector(512, "conectix", 1024) << none << none;

    // Raw disks.
    QTest::newRow("empty") << QByteArray() << none << none;
    QTest::newRow("zeroes") << QByteArray(512, '\0') << none << none;
    QTest::newRow("ones") << QByteArray(512, '\xff') << none << none;
    QTest::newRow("mbr") << sector(510, raw("\x55\xaa", 2)).replace(0, 3, raw("\xeb\x63\x90", 3))
                         << none << none;
    QTest::newRow("text") << QByteArray("hello, world\n") << none << none;
}

void tst_image_format::recognise()
{
    QFETCH(QByteArray, head);
    QFETCH(QString, format);
    QFETCH(QString, evidence);
    const auto found = granule::recognise_format(span_of(head));
    if (format.isEmpty()) {
        QVERIFY2(!found, found ? qPrintable(QString::fromStdString(found->format + ": " +
                                                                   found->evidence))
                               : "");
        return;
    }
    QVERIFY(found);
    QCOMPARE(QString::fromStdString(found->format), format);
    QCOMPARE(QString::fromStdString(found->evidence), evidence);
}

// Only the first 512 bytes are looked at: a descriptor line past them, or a
// signature in the next sector, is not seen; one inside a longer head is.
void tst_image_format::only_the_first_sector()
{
    QByteArray comments;
    while (comments.size() < 600)
        comments += "# padding comment line\n";
    QVERIFY(!granule::recognise_format(span_of(comments + "version=1\n")));
    QVERIFY(!granule::recognise_format(span_of(sector(512, "vhdxfile", 4096))));
    auto big = granule::recognise_format(span_of(sector(0, "vhdxfile", 65536)));
    QVERIFY(big);
    QCOMPARE(QString::fromStdString(big->format), QString("vhdx"));
}

void tst_image_format::decision_texts()
{
    using granule::format_decision;
    format_decision d;
    d.how = format_decision::basis::signature;
    d.format = "qcow2";
    d.evidence = "magic 'QFI\\xfb' at offset 0, version 3";
    d.probed = 512;
    d.subject = "'t.qcow2'";
    QVERIFY(d.refuses_writes());
    QVERIFY(!d.guards_first_bytes());
    QCOMPARE(QString::fromStdString(d.looks_like()),
             QString("'t.qcow2' looks like a qcow2 image (magic 'QFI\\xfb' at offset 0, version 3)"));
    QCOMPARE(QString::fromStdString(d.describe()),
             QString("qcow2 (recognised: magic 'QFI\\xfb' at offset 0, version 3; writes are "
                     "refused unless opened with format=raw)"));

    format_decision given;
    QVERIFY(!given.refuses_writes());
    QVERIFY(!given.guards_first_bytes());
    QCOMPARE(QString::fromStdString(given.describe()), QString("raw (given: format=raw)"));

    format_decision probed;
    probed.how = format_decision::basis::no_signature;
    probed.probed = 512;
    QVERIFY(probed.guards_first_bytes());
    QCOMPARE(QString::fromStdString(probed.describe()),
             QString("raw (no signature in the first 512 bytes; writes that would put one "
                     "there are refused)"));
    probed.probed = 0;
    QCOMPARE(QString::fromStdString(probed.describe()),
             QString("raw (no signature: the device is empty; writes that would put one into "
                     "the first 512 bytes are refused)"));
}

QTEST_APPLESS_MAIN(tst_image_format)
#include "tst_image_format.moc"
