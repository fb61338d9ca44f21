// The iscsi driver's write-zeroes decisions that a target cannot be made to
// show on demand: how a failed WRITE SAME(16) is taken (classify_write_same_
// failure, from sense data exactly as tgtd sent it), and how many blocks one
// WRITE SAME(16) covers (write_same_blocks) with the info line naming why.
// The data path itself is tested against a real tgtd
// (tests/integration/iscsi/test_zeroes.sh).
#include "scsi_limits.hpp"
#include "scsi_status.hpp"

#include <QtTest/QtTest>

#include <cstdint>
#include <string>

namespace {

using granule_iscsi::classify_write_same_failure;
using granule_iscsi::lun_geometry;
using granule_iscsi::write_same_failure;

// Sense data of CHECK CONDITION answers to WRITE SAME(16), byte for byte as
// tgtd 1.0.85 returned them to libiscsi 1.19 (task->datain after its two
// length bytes; captured 2026-12-06 with a throwaway libiscsi program): fixed format (0x70) by
// default, descriptor format (0x72) with the LU parameter sense_format=1.
const QByteArray invalid_field_fixed =  // UNMAP bit on a LUN without thin_provisioning
    QByteArray::fromHex("700005000000000a00000000240000000000");
const QByteArray invalid_opcode_fixed =  // any WRITE SAME on an aio-backed LUN
    QByteArray::fromHex("700005000000000a00000000200000000000");
const QByteArray lba_out_of_range_fixed =  // LBA = the LUN's block count
    QByteArray::fromHex("700005000000000a00000000210000000000");
const QByteArray write_protected_fixed =  // readonly=1
    QByteArray::fromHex("700007000000000a00000000270000000000");
const QByteArray invalid_opcode_descriptor = QByteArray::fromHex("7205200000000000");
const QByteArray invalid_field_descriptor = QByteArray::fromHex("7205240000000000");

}  // namespace

class tst_iscsi_zeroing : public QObject {
    Q_OBJECT
private slots:
    void classify_data();
    void classify();
    void refusal_text();
    void blocks_per_command_data();
    void blocks_per_command();
    void info_lines();
};

void tst_iscsi_zeroing::classify_data()
{
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("sense");
    QTest::addColumn<bool>("unmap_bit");
    QTest::addColumn<int>("expected");
    const int cc = SCSI_STATUS_CHECK_CONDITION;
    const int refused = int(write_same_failure::refused);
    const int unmap_refused = int(write_same_failure::unmap_bit_refused);
    const int error = int(write_same_failure::error);
    QTest::newRow("invalid opcode") << cc << invalid_opcode_fixed << false << refused;
    QTest::newRow("invalid opcode, UNMAP bit") << cc << invalid_opcode_fixed << true << refused;
    QTest::newRow("invalid opcode, descriptor") << cc << invalid_opcode_descriptor << false
                                                << refused;
    QTest::newRow("invalid field") << cc << invalid_field_fixed << false << refused;
    QTest::newRow("invalid field, UNMAP bit") << cc << invalid_field_fixed << true
                                              << unmap_refused;
    QTest::newRow("invalid field, UNMAP bit, descriptor")
        << cc << invalid_field_descriptor << true << unmap_refused;
    // ILLEGAL REQUEST that is not a refusal of the command: a real error.
    QTest::newRow("lba out of range") << cc << lba_out_of_range_fixed << false << error;
    QTest::newRow("lba out of range, UNMAP bit") << cc << lba_out_of_range_fixed << true
                                                 << error;
    QTest::newRow("write protected") << cc << write_protected_fixed << false << error;
    QTest::newRow("busy") << int(SCSI_STATUS_BUSY) << QByteArray() << false << error;
    QTest::newRow("cancelled") << int(SCSI_STATUS_CANCELLED) << QByteArray() << true << error;
    QTest::newRow("transport error") << int(SCSI_STATUS_ERROR) << QByteArray() << false
                                     << error;
}

void tst_iscsi_zeroing::classify()
{
    QFETCH(int, status);
    QFETCH(QByteArray, sense);
    QFETCH(bool, unmap_bit);
    QFETCH(int, expected);
    scsi_task task{};
    task.status = status;
    if (!sense.isEmpty())
        scsi_parse_sense_data(&task.sense, reinterpret_cast<const uint8_t *>(sense.constData()));
    QCOMPARE(int(classify_write_same_failure(status, &task, unmap_bit)), expected);
    // Without a task (libiscsi had none to give) nothing is a refusal.
    QCOMPARE(classify_write_same_failure(status, nullptr, unmap_bit), write_same_failure::error);
}

// What info shows of a refusal is status_text of the same answer.
void tst_iscsi_zeroing::refusal_text()
{
    scsi_task task{};
    task.status = SCSI_STATUS_CHECK_CONDITION;
    scsi_parse_sense_data(&task.sense,
                          reinterpret_cast<const uint8_t *>(invalid_opcode_fixed.constData()));
    QCOMPARE(QString::fromStdString(granule_iscsi::status_text(task.status, &task)),
             QString("CHECK CONDITION: ILLEGAL_REQUEST, INVALID_OPERATION_CODE (sense key "
                     "0x5, ASC/ASCQ 0x20/0x00)"));
}

void tst_iscsi_zeroing::blocks_per_command_data()
{
    QTest::addColumn<quint32>("block_size");
    QTest::addColumn<bool>("have_b0");
    QTest::addColumn<quint64>("max_ws_len");
    QTest::addColumn<bool>("unmap");
    QTest::addColumn<quint32>("blocks");
    QTest::addColumn<QString>("source");
    const QString field = "Block Limits VPD 0xB0 MAXIMUM WRITE SAME LENGTH";
    const QString plain = "128 MiB per command without UNMAP";
    const QString with = "1 GiB per command with UNMAP";
    // tgtd: MAXIMUM WRITE SAME LENGTH 0 (no limit reported).
    QTest::newRow("4096, no limit") << quint32(4096) << true << quint64(0) << false
                                    << quint32(32768)
                                    << plain + " (" + field + " 0: no limit)";
    QTest::newRow("512, no limit") << quint32(512) << true << quint64(0) << false
                                   << quint32(262144) << plain + " (" + field + " 0: no limit)";
    QTest::newRow("512, no limit, UNMAP") << quint32(512) << true << quint64(0) << true
                                          << quint32(2097152)
                                          << with + " (" + field + " 0: no limit)";
    QTest::newRow("no VPD 0xB0") << quint32(4096) << false << quint64(0) << false
                                 << quint32(32768) << plain + " (no Block Limits VPD 0xB0)";
    // A reported limit below the fixed cap is the cap.
    QTest::newRow("limit 1000") << quint32(512) << true << quint64(1000) << false
                                << quint32(1000) << field;
    QTest::newRow("limit 1000, UNMAP") << quint32(512) << true << quint64(1000) << true
                                       << quint32(1000) << field;
    QTest::newRow("limit = 128 MiB") << quint32(4096) << true << quint64(32768) << false
                                     << quint32(32768) << field;
    // Above it (up to 64 bits): the fixed cap, saying so.
    QTest::newRow("limit 2^40") << quint32(4096) << true << (quint64(1) << 40) << false
                                << quint32(32768)
                                << plain + " (below " + field + ")";
    QTest::newRow("limit 2^40, UNMAP") << quint32(4096) << true << (quint64(1) << 40) << true
                                       << quint32(262144) << with + " (below " + field + ")";
    QTest::newRow("1 MiB blocks") << quint32(1 << 20) << true << quint64(0) << false
                                  << quint32(128) << plain + " (" + field + " 0: no limit)";
}

void tst_iscsi_zeroing::blocks_per_command()
{
    QFETCH(quint32, block_size);
    QFETCH(bool, have_b0);
    QFETCH(quint64, max_ws_len);
    QFETCH(bool, unmap);
    QFETCH(quint32, blocks);
    QFETCH(QString, source);
    lun_geometry g;
    g.block_size = block_size;
    g.blocks = 1u << 20;
    g.have_b0 = have_b0;
    g.max_ws_len = max_ws_len;
    const auto cap = granule_iscsi::write_same_blocks(g, unmap);
    QCOMPARE(quint32(cap.blocks), blocks);
    QCOMPARE(QString(cap.source), source);
}

// The info line says what write_zeroes sends and why, and a refusal
// replaces it.
void tst_iscsi_zeroing::info_lines()
{
    lun_geometry plain;  // tgtd without thin_provisioning
    plain.block_size = 4096;
    plain.blocks = 8192;
    plain.have_vpd_list = plain.have_b0 = plain.have_b2 = true;
    const auto line = [](const std::string &info, const char *key) {
        const auto at = info.find(std::string("\n") + key + ": ");
        return at == std::string::npos
                   ? QString()
                   : QString::fromStdString(info.substr(at + 1, info.find('\n', at + 1) - at - 1));
    };
    auto info = granule_iscsi::describe_geometry(plain);
    QCOMPARE(line(info, "write_zeroes"),
             QString("write_zeroes: WRITE SAME(16) without UNMAP (LBPME 0); zero buffers from "
                     "the core if the target refuses it"));
    QCOMPARE(line(info, "write_same_blocks"),
             QString("write_same_blocks: 32768 per command (128 MiB per command without UNMAP "
                     "(Block Limits VPD 0xB0 MAXIMUM WRITE SAME LENGTH 0: no limit))"));

    lun_geometry thin = plain;  // thin_provisioning=1
    thin.lbpme = thin.lbprz = thin.lbpws = thin.lbpu = true;
    info = granule_iscsi::describe_geometry(thin);
    QCOMPARE(line(info, "write_zeroes"),
             QString("write_zeroes: WRITE SAME(16), with UNMAP when the request allows it "
                     "(LBPWS 1, LBPRZ 1); zero buffers from the core if the target refuses it"));
    QCOMPARE(line(info, "write_same_blocks"),
             QString("write_same_blocks: 32768 per command (128 MiB per command without UNMAP "
                     "(Block Limits VPD 0xB0 MAXIMUM WRITE SAME LENGTH 0: no limit)), with "
                     "UNMAP 262144 (1 GiB per command with UNMAP (Block Limits VPD 0xB0 "
                     "MAXIMUM WRITE SAME LENGTH 0: no limit))"));
    info = granule_iscsi::describe_geometry(thin, {"", "WHY"});
    QCOMPARE(line(info, "write_zeroes"),
             QString("write_zeroes: WRITE SAME(16) without UNMAP (the target refused its UNMAP "
                     "bit: WHY, although LBPWS 1); zero buffers from the core if the target "
                     "refuses it"));

    info = granule_iscsi::describe_geometry(plain, {"WHY", ""});
    QCOMPARE(line(info, "write_zeroes"),
             QString("write_zeroes: zero buffers, written by the core (the target refused "
                     "WRITE SAME(16): WHY)"));
    QCOMPARE(line(info, "write_same_blocks"), QString());
}

QTEST_GUILESS_MAIN(tst_iscsi_zeroing)
#include "tst_iscsi_zeroing.moc"
