// platform::aligned_alloc: any power of two, including those below
// sizeof(void*) that posix_memalign refuses; anything else is nullptr.
#include <granule/platform/aligned_buffer.hpp>

#include "test_support.hpp"

#include <cstring>
#include <new>

namespace platform = granule::platform;

class tst_aligned_alloc : public QObject {
    Q_OBJECT

private slots:
    void powers_of_two_data();
    void powers_of_two();
    void size_zero_is_unique();
    void not_power_of_two_data();
    void not_power_of_two();
    void buffer_throws_on_bad_alignment();
    void page_size_is_sane();
};

void tst_aligned_alloc::powers_of_two_data()
{
    QTest::addColumn<qulonglong>("alignment");
    QTest::addColumn<qulonglong>("size");
    for (qulonglong a = 1; a <= 65536; a *= 2)
        for (qulonglong s : std::set<qulonglong>{0, 1, 7, a - 1, a + 1, 3 * a + 5, 1000003})
            QTest::addRow("a%llu/s%llu", a, s) << a << s;
}

void tst_aligned_alloc::powers_of_two()
{
    QFETCH(qulonglong, alignment);
    QFETCH(qulonglong, size);
    // Several at once, so the allocator cannot hand back one lucky block.
    void *p[8];
    for (auto &q : p) {
        q = platform::aligned_alloc(alignment, size);
        QVERIFY(q);
        QCOMPARE(reinterpret_cast<std::uintptr_t>(q) % alignment, std::uintptr_t(0));
        // Writable over its whole size (ASan/valgrind would flag overruns).
        std::memset(q, 0xa5, size);
        if (size)
            QCOMPARE(static_cast<unsigned char *>(q)[size - 1], (unsigned char)0xa5);
    }
    for (auto &q : p)
        platform::aligned_free(q);
}

void tst_aligned_alloc::size_zero_is_unique()
{
    void *a = platform::aligned_alloc(1, 0);
    void *b = platform::aligned_alloc(1, 0);
    QVERIFY(a && b);
    QVERIFY(a != b);
    platform::aligned_free(a);
    platform::aligned_free(b);
    platform::aligned_free(nullptr);  // like free(NULL)
}

void tst_aligned_alloc::not_power_of_two_data()
{
    QTest::addColumn<qulonglong>("alignment");
    for (qulonglong a : {0ull, 3ull, 6ull, 24ull, 1000ull, 4097ull, 3ull << 20})
        QTest::addRow("a%llu", a) << a;
}

void tst_aligned_alloc::not_power_of_two()
{
    QFETCH(qulonglong, alignment);
    QCOMPARE(platform::aligned_alloc(alignment, 64), nullptr);
    QCOMPARE(platform::aligned_alloc(alignment, 0), nullptr);
}

void tst_aligned_alloc::buffer_throws_on_bad_alignment()
{
    QVERIFY_THROWS_EXCEPTION(std::bad_alloc, platform::aligned_buffer(3, 16));
    platform::aligned_buffer ok(4096, 10);
    QVERIFY(ok.data());
    QCOMPARE(ok.size(), std::size_t(10));
    QCOMPARE(reinterpret_cast<std::uintptr_t>(ok.data()) % 4096, std::uintptr_t(0));
    platform::aligned_buffer empty;
    QCOMPARE(empty.data(), nullptr);
    QCOMPARE(empty.size(), std::size_t(0));
}

void tst_aligned_alloc::page_size_is_sane()
{
    const auto ps = platform::page_size();
    QVERIFY(platform::is_power_of_two(ps));
    QVERIFY(ps >= 4096);
}

QTEST_GUILESS_MAIN(tst_aligned_alloc)
#include "tst_aligned_alloc.moc"
