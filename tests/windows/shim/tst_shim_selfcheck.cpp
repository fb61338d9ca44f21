// The stand-in must fail what Qt Test fails, or every green unit test on
// Windows would prove nothing. Expected: 3 passed, 4 failed, 1 skipped
// (CMakeLists.txt checks exactly that line).
#include <QtTest/QtTest>
#include <stdexcept>
class tst_shim_selfcheck : public QObject {
    Q_OBJECT
private slots:
    void pass_data();
    void pass();
    void compare_fails();
    void verify_fails();
    void wrong_type_data();
    void wrong_type();
    void skips();
    void throws();
    void arg_works();
};
// Two rows, the second named through addRow's printf format.
void tst_shim_selfcheck::pass_data() { QTest::addColumn<int>("v"); QTest::newRow("one") << 1; QTest::addRow("two%d", 2) << 2; }
void tst_shim_selfcheck::pass() { QFETCH(int, v); QVERIFY(v > 0); }
void tst_shim_selfcheck::compare_fails() { QCOMPARE(1 + 1, 3); QFAIL("not reached"); }
void tst_shim_selfcheck::verify_fails() { QVERIFY2(false, "why"); }
// An int in a qulonglong column: Qt aborts, the stand-in fails the row.
void tst_shim_selfcheck::wrong_type_data() { QTest::addColumn<qulonglong>("v"); QTest::newRow("int") << 1; }
void tst_shim_selfcheck::wrong_type() { QFETCH(qulonglong, v); QVERIFY(v == 1); }
void tst_shim_selfcheck::skips() { QSKIP("no component"); }
void tst_shim_selfcheck::throws() { throw std::runtime_error("boom"); }
// %N replacement: lowest number first, every occurrence, %1 is not %10.
void tst_shim_selfcheck::arg_works() { QCOMPARE(QString("%2-%1-%2").arg("a").arg(7), QString("7-a-7")); QCOMPARE(QString("%1%10").arg(1).arg(2), QString("12")); }
QTEST_GUILESS_MAIN(tst_shim_selfcheck)
#include "tst_shim_selfcheck.moc"
