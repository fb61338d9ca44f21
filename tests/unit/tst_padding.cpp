// make_pad_plan is pure arithmetic: every row is checked against an
// independent, block-by-block computation, plus the plan's invariants.
#include "padding.hpp"
#include "test_support.hpp"

#include <random>

using granule::make_pad_plan;

namespace {

// The blocks of [offset, offset + bytes) that are only partly covered: these
// are what an unaligned write must read back. Counted block by block rather
// than from head/tail, so it does not share the implementation's reasoning.
int partial_blocks(std::uint64_t offset, std::uint64_t bytes, std::uint64_t a)
{
    const std::uint64_t end = offset + bytes;
    std::set<std::uint64_t> partial;
    for (std::uint64_t blk : {offset / a, (end - 1) / a}) {
        std::uint64_t b0 = blk * a, b1 = b0 + a;
        if (std::max(b0, offset) != b0 || std::min(b1, end) != b1)
            partial.insert(blk);
    }
    return static_cast<int>(partial.size());
}

void check_plan(std::uint64_t offset, std::uint64_t bytes, std::uint64_t a)
{
    const auto p = make_pad_plan(offset, bytes, a);
    const std::uint64_t end = offset + bytes;
    // Aligned and covering the request.
    QCOMPARE(p.offset % a, 0ull);
    QCOMPARE(p.bytes % a, 0ull);
    QVERIFY(p.offset <= offset);
    QVERIFY(p.end() >= end);
    // Minimal: neither end pads by a whole block.
    QVERIFY(p.head < a);
    QVERIFY(p.tail < a);
    QCOMPARE(p.offset, offset / a * a);
    QCOMPARE(p.end(), (end + a - 1) / a * a);
    QCOMPARE(p.head, offset - p.offset);
    QCOMPARE(p.tail, p.end() - end);
    QCOMPARE(p.head + bytes + p.tail, p.bytes);
    QCOMPARE(p.needed(), offset % a != 0 || end % a != 0);
    // same_block: both ends are partial and lie in one block.
    const bool one_block = offset / a == (end - 1) / a;
    QCOMPARE(p.same_block, p.head != 0 && p.tail != 0 && one_block);
    QCOMPARE(p.rmw_blocks(), partial_blocks(offset, bytes, a));
}

}  // namespace

class tst_padding : public QObject {
    Q_OBJECT

private slots:
    void plan_matrix_data();
    void plan_matrix();
    void random_plans_data();
    void random_plans();
    void examples();
    void near_largest_offset();
};

void tst_padding::plan_matrix_data()
{
    QTest::addColumn<qulonglong>("align");
    QTest::addColumn<qulonglong>("offset");
    QTest::addColumn<qulonglong>("bytes");
    for (auto a : granule_test::alignments())
        for (auto off : granule_test::edge_values(a))
            for (auto len : granule_test::edge_values(a, 1))
                QTest::addRow("a%llu/off%llu/len%llu", qulonglong(a), qulonglong(off),
                              qulonglong(len))
                    << qulonglong(a) << qulonglong(off) << qulonglong(len);
}

void tst_padding::plan_matrix()
{
    QFETCH(qulonglong, align);
    QFETCH(qulonglong, offset);
    QFETCH(qulonglong, bytes);
    check_plan(offset, bytes, align);
}

void tst_padding::random_plans_data()
{
    QTest::addColumn<qulonglong>("align");
    for (auto a : granule_test::alignments())
        QTest::addRow("a%llu", qulonglong(a)) << qulonglong(a);
}

void tst_padding::random_plans()
{
    QFETCH(qulonglong, align);
    std::mt19937_64 rng(align * 7919);
    for (int i = 0; i < 20000; ++i) {
        std::uint64_t off = rng() % (1ull << 40);
        std::uint64_t len = 1 + rng() % (4 * align + 3);
        check_plan(off, len, align);
        if (QTest::currentTestFailed()) {
            qWarning("failed at offset %llu length %llu", qulonglong(off), qulonglong(len));
            return;
        }
    }
}

// Hand-computed cases, so the suite does not only check the code against a
// restatement of itself.
void tst_padding::examples()
{
    // 1024 bytes at 512 in a 4096 block: one RMW block, both ends padded.
    auto p = make_pad_plan(512, 1024, 4096);
    QCOMPARE(p.offset, 0ull);
    QCOMPARE(p.bytes, 4096ull);
    QCOMPARE(p.head, 512ull);
    QCOMPARE(p.tail, 2560ull);
    QVERIFY(p.same_block);
    QCOMPARE(p.rmw_blocks(), 1);

    // Crossing one boundary: two different partial blocks.
    p = make_pad_plan(4095, 2, 4096);
    QCOMPARE(p.offset, 0ull);
    QCOMPARE(p.bytes, 8192ull);
    QCOMPARE(p.head, 4095ull);
    QCOMPARE(p.tail, 4095ull);
    QVERIFY(!p.same_block);
    QCOMPARE(p.rmw_blocks(), 2);

    // Ends exactly on a block edge: head only.
    p = make_pad_plan(100, 412, 512);
    QCOMPARE(p.head, 100ull);
    QCOMPARE(p.tail, 0ull);
    QVERIFY(!p.same_block);
    QCOMPARE(p.rmw_blocks(), 1);

    // Aligned: nothing to do.
    p = make_pad_plan(65536, 131072, 65536);
    QVERIFY(!p.needed());
    QCOMPARE(p.rmw_blocks(), 0);
    QCOMPARE(p.offset, 65536ull);
    QCOMPARE(p.bytes, 131072ull);
}

// The device admits ends up to 2^63-1; rounding that up must not overflow.
void tst_padding::near_largest_offset()
{
    const std::uint64_t max_end = (1ull << 63) - 1;
    for (auto a : granule_test::alignments()) {
        check_plan(max_end - 1, 1, a);
        check_plan(max_end - a, a, a);
        auto p = make_pad_plan(max_end - 1, 1, a);
        QCOMPARE(p.end(), (max_end + a - 1) / a * a);
    }
}

QTEST_GUILESS_MAIN(tst_padding)
#include "tst_padding.moc"
