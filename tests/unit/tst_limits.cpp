// limits: how a parent inherits its children's needs, and the checks every
// driver-reported set of limits goes through.
#include <granule/limits.hpp>

#include "test_support.hpp"

using granule::limits;

namespace {

limits make(std::uint64_t req, std::uint64_t min_mem, std::uint64_t opt_mem,
            std::uint64_t max_xfer, std::uint64_t opt_xfer)
{
    limits l;
    l.request_alignment = req;
    l.min_mem_alignment = min_mem;
    l.opt_mem_alignment = opt_mem;
    l.max_transfer = max_xfer;
    l.opt_transfer = opt_xfer;
    return l;
}

}  // namespace

class tst_limits : public QObject {
    Q_OBJECT

private slots:
    void inherit_alignment_data();
    void inherit_alignment();
    void inherit_maxima_data();
    void inherit_maxima();
    void inherit_opt_transfer();
    void inherit_is_idempotent();
    void normalise_zero_is_one();
    void normalise_not_power_of_two_data();
    void normalise_not_power_of_two();
    void normalise_raises_dependents();
    void normalise_max_transfer_below_alignment();
    void normalise_max_transfer_below_mem_alignment();
    void abi_round_trip();
    void inherit_carries_sources();
    void driver_sources_are_attributed();
    void normalise_names_core_sources();
};

void tst_limits::inherit_alignment_data()
{
    QTest::addColumn<qulonglong>("parent");
    QTest::addColumn<qulonglong>("child");
    for (auto p : granule_test::alignments())
        for (auto c : granule_test::alignments())
            QTest::addRow("p%llu/c%llu", qulonglong(p), qulonglong(c)) << qulonglong(p)
                                                                        << qulonglong(c);
}

// Every alignment field takes the larger of the two.
void tst_limits::inherit_alignment()
{
    QFETCH(qulonglong, parent);
    QFETCH(qulonglong, child);
    limits p, c;
    p.request_alignment = p.min_mem_alignment = p.opt_mem_alignment = parent;
    p.pwrite_zeroes_alignment = p.pdiscard_alignment = parent;
    c.request_alignment = c.min_mem_alignment = c.opt_mem_alignment = child;
    c.pwrite_zeroes_alignment = c.pdiscard_alignment = child;
    const auto out = granule::inherit(p, c);
    const std::uint64_t want = std::max<std::uint64_t>(parent, child);
    QCOMPARE(out.request_alignment, want);
    QCOMPARE(out.min_mem_alignment, want);
    QCOMPARE(out.opt_mem_alignment, want);
    QCOMPARE(out.pwrite_zeroes_alignment, want);
    QCOMPARE(out.pdiscard_alignment, want);
}

void tst_limits::inherit_maxima_data()
{
    QTest::addColumn<qulonglong>("parent");
    QTest::addColumn<qulonglong>("child");
    QTest::addColumn<qulonglong>("expected");
    // 0 is "unlimited": the smaller NON-ZERO maximum wins.
    QTest::newRow("both_unlimited") << qulonglong(0) << qulonglong(0) << qulonglong(0);
    QTest::newRow("parent_unlimited") << qulonglong(0) << qulonglong(65536) << qulonglong(65536);
    QTest::newRow("child_unlimited") << qulonglong(4096) << qulonglong(0) << qulonglong(4096);
    QTest::newRow("child_smaller") << qulonglong(1 << 20) << qulonglong(65536)
                                   << qulonglong(65536);
    QTest::newRow("parent_smaller") << qulonglong(512) << qulonglong(1 << 20) << qulonglong(512);
    QTest::newRow("equal") << qulonglong(8192) << qulonglong(8192) << qulonglong(8192);
}

void tst_limits::inherit_maxima()
{
    QFETCH(qulonglong, parent);
    QFETCH(qulonglong, child);
    QFETCH(qulonglong, expected);
    limits p, c;
    p.max_transfer = p.max_pdiscard = parent;
    c.max_transfer = c.max_pdiscard = child;
    const auto out = granule::inherit(p, c);
    QCOMPARE(out.max_transfer, std::uint64_t(expected));
    QCOMPARE(out.max_pdiscard, std::uint64_t(expected));
}

// The child's preference is taken only where the parent has none.
void tst_limits::inherit_opt_transfer()
{
    QCOMPARE(granule::inherit(make(1, 1, 1, 0, 0), make(1, 1, 1, 0, 65536)).opt_transfer,
             std::uint64_t(65536));
    QCOMPARE(granule::inherit(make(1, 1, 1, 0, 4096), make(1, 1, 1, 0, 65536)).opt_transfer,
             std::uint64_t(4096));
    QCOMPARE(granule::inherit(make(1, 1, 1, 0, 4096), make(1, 1, 1, 0, 0)).opt_transfer,
             std::uint64_t(4096));
}

// refresh_limits runs on open and on every reopen: inheriting twice must not
// drift.
void tst_limits::inherit_is_idempotent()
{
    const auto p = make(512, 1, 512, 1 << 20, 0);
    const auto c = make(4096, 512, 4096, 65536, 131072);
    const auto once = granule::inherit(p, c);
    QCOMPARE(granule::inherit(once, c), once);
    QCOMPARE(granule::inherit(once, once), once);
}

void tst_limits::normalise_zero_is_one()
{
    limits l{};
    l.request_alignment = l.min_mem_alignment = l.opt_mem_alignment = 0;
    l.pwrite_zeroes_alignment = l.pdiscard_alignment = 0;
    QVERIFY(!granule::normalise_and_check(l));
    QCOMPARE(l.request_alignment, std::uint64_t(1));
    QCOMPARE(l.min_mem_alignment, std::uint64_t(1));
    QCOMPARE(l.opt_mem_alignment, std::uint64_t(1));
    QCOMPARE(l.pwrite_zeroes_alignment, std::uint64_t(1));
    QCOMPARE(l.pdiscard_alignment, std::uint64_t(1));
    QCOMPARE(l.max_transfer, std::uint64_t(0));  // 0 stays "unlimited"
}

void tst_limits::normalise_not_power_of_two_data()
{
    QTest::addColumn<QString>("field");
    QTest::addColumn<qulonglong>("value");
    for (const char *f : {"request_alignment", "min_mem_alignment", "opt_mem_alignment",
                          "pwrite_zeroes_alignment", "pdiscard_alignment"})
        for (qulonglong v : {3ull, 3000ull, 4097ull, 6144ull, (1ull << 63) + 1})
            QTest::addRow("%s/%llu", f, v) << QString(f) << v;
}

void tst_limits::normalise_not_power_of_two()
{
    QFETCH(QString, field);
    QFETCH(qulonglong, value);
    limits l;
    l.request_alignment = 512;
    l.min_mem_alignment = l.opt_mem_alignment = 512;
    l.pwrite_zeroes_alignment = l.pdiscard_alignment = 512;
    if (field == "request_alignment") l.request_alignment = value;
    if (field == "min_mem_alignment") l.min_mem_alignment = value;
    if (field == "opt_mem_alignment") l.opt_mem_alignment = value;
    if (field == "pwrite_zeroes_alignment") l.pwrite_zeroes_alignment = value;
    if (field == "pdiscard_alignment") l.pdiscard_alignment = value;
    const auto why = granule::normalise_and_check(l);
    QVERIFY(why);
    QCOMPARE(QString::fromStdString(*why),
             field + " " + QString::number(value) + " is not a power of two");
}

void tst_limits::normalise_raises_dependents()
{
    // Bounce buffers use opt_mem_alignment, so it must satisfy the minimum.
    auto l = make(4096, 512, 8, 0, 0);
    QVERIFY(!granule::normalise_and_check(l));
    QCOMPARE(l.opt_mem_alignment, std::uint64_t(512));
    // Zeroing and discard cannot be finer than a request.
    QCOMPARE(l.pwrite_zeroes_alignment, std::uint64_t(4096));
    QCOMPARE(l.pdiscard_alignment, std::uint64_t(4096));
    // Coarser ones are kept.
    l = make(512, 1, 1, 0, 0);
    l.pdiscard_alignment = 1 << 20;
    QVERIFY(!granule::normalise_and_check(l));
    QCOMPARE(l.pdiscard_alignment, std::uint64_t(1 << 20));
    QCOMPARE(l.opt_mem_alignment, std::uint64_t(1));
}

void tst_limits::normalise_max_transfer_below_alignment()
{
    auto l = make(4096, 1, 1, 512, 0);
    const auto why = granule::normalise_and_check(l);
    QVERIFY(why);
    QCOMPARE(QString::fromStdString(*why),
             QString("max_transfer 512 is smaller than request_alignment 4096"));
    l = make(4096, 1, 1, 4096, 0);
    QVERIFY(!granule::normalise_and_check(l));
}

// Every request's iovec lengths must be multiples of min_mem_alignment, so a
// max_transfer below it can never be met: the device would open and then fail
// every request. It must be refused like one below request_alignment.
void tst_limits::normalise_max_transfer_below_mem_alignment()
{
    auto l = make(512, 4096, 4096, 512, 0);
    const auto why = granule::normalise_and_check(l);
    QVERIFY2(why, "max_transfer 512 with min_mem_alignment 4096 accepted");
    QVERIFY2(QString::fromStdString(*why).contains("max_transfer 512"), why->c_str());
    l = make(512, 4096, 4096, 8192, 0);
    QVERIFY(!granule::normalise_and_check(l));
}

void tst_limits::abi_round_trip()
{
    limits l{1, 2, 4, 5, 6, 8, 16, 7, 9};
    l.sources[0] = "statx STATX_DIOALIGN";
    const auto abi = granule::to_abi(l);
    QCOMPARE(abi.struct_size, std::uint32_t(sizeof(granule_limits)));
    QCOMPARE(abi.request_alignment.value, std::uint64_t(1));
    QCOMPARE(abi.max_pdiscard.value, std::uint64_t(7));
    QCOMPARE(abi.pdiscard_alignment.value, std::uint64_t(16));
    QCOMPARE(abi.max_iov.value, std::uint64_t(9));
    QCOMPARE(std::string(abi.request_alignment.source), std::string("statx STATX_DIOALIGN"));
    const auto back = granule::from_abi(abi);
    QCOMPARE(back, l);
    QCOMPARE(back.sources, l.sources);
}

// Each value travels with its source: the winner's, field by field.
void tst_limits::inherit_carries_sources()
{
    auto p = make(512, 512, 512, 1 << 20, 0);
    auto c = make(4096, 512, 4096, 65536, 131072);
    for (auto &s : p.sources)
        s = "parent";
    for (auto &s : c.sources)
        s = "child";
    const auto m = granule::inherit(p, c);
    using granule::limit_id;
    QCOMPARE(m.source(limit_id::request_alignment), std::string("child"));   // larger
    QCOMPARE(m.source(limit_id::min_mem_alignment), std::string("parent"));  // equal: kept
    QCOMPARE(m.source(limit_id::max_transfer), std::string("child"));        // smaller
    QCOMPARE(m.source(limit_id::opt_transfer), std::string("child"));        // parent has none
    QCOMPARE(m.source(limit_id::max_pdiscard), std::string("parent"));       // both unlimited
}

// What a driver did in refresh_limits: a source it set is qualified with its
// name; a value changed without a source is said to be the driver's; an
// untouched one keeps what was sent.
void tst_limits::driver_sources_are_attributed()
{
    limits before = make(512, 512, 512, 0, 0);
    before.sources[0] = "raw-posix: statx STATX_DIOALIGN";
    const auto sent = granule::to_abi(before);
    auto after = sent;
    granule_limit_raise(&after.request_alignment, 4096, "READ CAPACITY(16)");
    granule_limit_raise(&after.min_mem_alignment, 256, "never");  // smaller: no change
    after.max_transfer.value = 1 << 20;                           // no source given
    const auto got = granule::from_driver(after, sent, before, "iscsi");
    using granule::limit_id;
    QCOMPARE(got.request_alignment, std::uint64_t(4096));
    QCOMPARE(got.source(limit_id::request_alignment), std::string("iscsi: READ CAPACITY(16)"));
    QCOMPARE(got.min_mem_alignment, std::uint64_t(512));
    QCOMPARE(got.source(limit_id::min_mem_alignment), before.source(limit_id::min_mem_alignment));
    QCOMPARE(got.source(limit_id::max_transfer), std::string("iscsi: set by the driver"));
    QCOMPARE(got.source(limit_id::opt_transfer), std::string("no preference"));
}

void tst_limits::normalise_names_core_sources()
{
    auto l = make(4096, 512, 8, 0, 0);
    QVERIFY(!granule::normalise_and_check(l));
    using granule::limit_id;
    QCOMPARE(l.source(limit_id::opt_mem_alignment), std::string("core: min_mem_alignment"));
    QCOMPARE(l.source(limit_id::pwrite_zeroes_alignment), std::string("core: request_alignment"));
    QCOMPARE(l.source(limit_id::max_transfer), std::string("unlimited"));
    QCOMPARE(l.source(limit_id::max_iov), std::string("unlimited"));
}

QTEST_GUILESS_MAIN(tst_limits)
#include "tst_limits.moc"
