// Option parsing: every malformed key or value is an error naming it, and
// ",," round-trips.
#include <granule/driver.hpp>
#include <granule/options.hpp>

#include "test_support.hpp"

using granule::options;

namespace {

QString text(const options &o)
{
    QStringList items;
    for (const auto &[k, v] : o)
        items << QString::fromStdString(k + "=" + v);
    return items.join('|');
}

}  // namespace

class tst_options : public QObject {
    Q_OBJECT

private slots:
    void parse_options_ok_data();
    void parse_options_ok();
    void parse_options_errors_data();
    void parse_options_errors();
    void format_round_trip();
    void sub_options_prefix();
    void parse_size_ok_data();
    void parse_size_ok();
    void parse_size_errors_data();
    void parse_size_errors();
    void parse_bool_values();
    void driver_sdk_parses_alike();
};

void tst_options::parse_options_ok_data()
{
    QTest::addColumn<QString>("input");
    QTest::addColumn<QString>("expected");  // sorted "k=v" joined by '|'
    QTest::newRow("one") << "driver=memory" << "driver=memory";
    QTest::newRow("dotted") << "driver=blkdebug,align=4096,image.driver=raw-posix,image.filename=d.img"
                            << "align=4096|driver=blkdebug|image.driver=raw-posix|image.filename=d.img";
    QTest::newRow("escaped_comma") << "filename=a,,b.img,x=1" << "filename=a,b.img|x=1";
    QTest::newRow("escaped_at_end") << "filename=a,," << "filename=a,";
    QTest::newRow("escaped_then_sep") << "a=1,,,b=2" << "a=1,|b=2";
    QTest::newRow("double_escape") << "a=,,,,,b=2" << "a=,,|b=2";
    QTest::newRow("trailing_comma") << "a=1,b=2," << "a=1|b=2";
    QTest::newRow("equals_in_value") << "a==b=c" << "a==b=c";
    QTest::newRow("empty_value") << "a=" << "a=";
}

void tst_options::parse_options_ok()
{
    QFETCH(QString, input);
    QFETCH(QString, expected);
    auto r = granule::parse_options(input.toStdString());
    QVERIFY2(r, r ? "" : r.error().message.c_str());
    QCOMPARE(text(*r), expected);
}

void tst_options::parse_options_errors_data()
{
    QTest::addColumn<QString>("input");
    QTest::addColumn<QString>("message");  // must be contained in the error
    QTest::newRow("missing_eq") << "driver=memory,size" << "option 'size' has no value";
    QTest::newRow("missing_eq_first") << "bogus,a=1" << "option 'bogus' has no value";
    QTest::newRow("empty_key") << "=5" << "option '=5' has an empty key";
    QTest::newRow("empty_key_later") << "a=1,=x" << "option '=x' has an empty key";
    QTest::newRow("duplicate") << "align=512,size=1M,align=4096" << "option 'align' given twice";
    QTest::newRow("duplicate_dotted") << "image.size=1,image.size=2"
                                      << "option 'image.size' given twice";
    QTest::newRow("leading_comma") << ",a=1" << "empty option";
    QTest::newRow("double_sep_as_empty") << "a=1, ,b=2" << "option ' ' has no value";
    QTest::newRow("empty") << "" << "empty option";
    // Found by fuzz_options: a key holding an escaped comma parsed, and
    // format_options wrote it back as text that does not parse.
    QTest::newRow("comma_in_key") << ",,x=1" << "the key ',x' contains a ','";
    QTest::newRow("comma_in_dotted_key") << "a=1,im,,age.size=2" << "the key 'im,age.size' contains a ','";
}

void tst_options::parse_options_errors()
{
    QFETCH(QString, input);
    QFETCH(QString, message);
    auto r = granule::parse_options(input.toStdString());
    QVERIFY2(!r, qPrintable("parsed: " + (r ? text(*r) : QString())));
    QCOMPARE(r.error().code, EINVAL);
    const auto got = QString::fromStdString(r.error().message);
    QVERIFY2(got.contains(message), qPrintable(got));
}

void tst_options::format_round_trip()
{
    const options in{{"a", "x,y"}, {"b", ","}, {"c.d", ",,x,"}, {"e", ""}};
    const auto formatted = granule::format_options(in);
    QCOMPARE(QString::fromStdString(formatted), QString("a=x,,y,b=,,,c.d=,,,,x,,,e="));
    auto back = granule::parse_options(formatted);
    QVERIFY(back);
    QCOMPARE(text(*back), text(in));
}

void tst_options::sub_options_prefix()
{
    const options o{{"driver", "blkdebug"},       {"image", "d.img"},
                    {"image.driver", "memory"},   {"image.size", "1M"},
                    {"image.file.align", "512"},  {"imagex.size", "2"},
                    {"image.", "empty-name"},     {"backing.driver", "memory"}};
    QCOMPARE(text(granule::sub_options(o, "image")),
             QString("driver=memory|file.align=512|size=1M"));
    QCOMPARE(text(granule::sub_options(o, "image.file")), QString("align=512"));
    QCOMPARE(text(granule::sub_options(o, "backing")), QString("driver=memory"));
    QVERIFY(granule::sub_options(o, "nope").empty());
}

void tst_options::parse_size_ok_data()
{
    QTest::addColumn<QString>("input");
    QTest::addColumn<qulonglong>("expected");
    QTest::newRow("zero") << "0" << qulonglong(0);
    QTest::newRow("plain") << "4096" << qulonglong(4096);
    QTest::newRow("bytes_suffix") << "512b" << qulonglong(512);
    QTest::newRow("k") << "4k" << qulonglong(4096);
    QTest::newRow("fraction_k") << "1.5k" << qulonglong(1536);  // as qemu sizes
    QTest::newRow("fraction_M") << "0.25M" << qulonglong(262144);
    QTest::newRow("fraction_truncated") << "1.1k" << qulonglong(1126);
    QTest::newRow("K") << "64K" << qulonglong(65536);
    QTest::newRow("M") << "1M" << qulonglong(1 << 20);
    QTest::newRow("m") << "3m" << qulonglong(3 << 20);
    QTest::newRow("G") << "2G" << qulonglong(2ull << 30);
    QTest::newRow("T") << "1T" << qulonglong(1ull << 40);
    QTest::newRow("P") << "1P" << qulonglong(1ull << 50);
    QTest::newRow("E") << "15E" << qulonglong(15ull << 60);
    QTest::newRow("hex") << "0x1000" << qulonglong(4096);
    QTest::newRow("HEX") << "0XfF" << qulonglong(255);
    QTest::newRow("max") << "18446744073709551615" << qulonglong(~0ull);
    QTest::newRow("max_hex") << "0xffffffffffffffff" << qulonglong(~0ull);
    QTest::newRow("leading_zeros") << "000512" << qulonglong(512);
}

void tst_options::parse_size_ok()
{
    QFETCH(QString, input);
    QFETCH(qulonglong, expected);
    auto r = granule::parse_size(input.toStdString(), "option 'size'");
    QVERIFY2(r, r ? "" : r.error().message.c_str());
    QCOMPARE(qulonglong(*r), expected);
}

void tst_options::parse_size_errors_data()
{
    QTest::addColumn<QString>("input");
    QTest::addColumn<QString>("why");
    QTest::newRow("empty") << "" << "empty";
    QTest::newRow("negative") << "-1" << "negative";
    QTest::newRow("negative_suffix") << "-4k" << "negative";
    QTest::newRow("junk") << "abc" << "not a number";
    QTest::newRow("only_suffix") << "k" << "not a number";
    QTest::newRow("hex_no_digits") << "0x" << "suffix";
    QTest::newRow("trailing") << "12kb" << "trailing";
    QTest::newRow("fraction_without_suffix") << "1.5" << "a fraction needs a suffix";
    QTest::newRow("fraction_of_bytes") << "1.5b" << "a fraction needs a suffix";
    QTest::newRow("fraction_no_digits") << "1.k" << "not a number";
    QTest::newRow("fraction_hex") << "0x1.5k" << "trailing";
    QTest::newRow("space") << "4 k" << "trailing";
    QTest::newRow("unknown_suffix") << "4q" << "unknown suffix";
    QTest::newRow("hex_suffix") << "0x10k" << "trailing";
    QTest::newRow("overflow_digits") << "18446744073709551616" << "too large";
    QTest::newRow("overflow_hex") << "0x10000000000000000" << "too large";
    QTest::newRow("overflow_suffix") << "16E" << "too large";
    QTest::newRow("overflow_suffix_big") << "17179869184G" << "too large";
    QTest::newRow("overflow_long") << "99999999999999999999999999999999999999999" << "too large";
}

void tst_options::parse_size_errors()
{
    QFETCH(QString, input);
    QFETCH(QString, why);
    auto r = granule::parse_size(input.toStdString(), "option 'image.align'");
    QVERIFY2(!r, qPrintable(QString("accepted as %1").arg(r ? qulonglong(*r) : 0)));
    QCOMPARE(r.error().code, EINVAL);
    const auto msg = QString::fromStdString(r.error().message);
    // The error names what was being parsed, the value, and why.
    QVERIFY2(msg.startsWith("option 'image.align'"), qPrintable(msg));
    QVERIFY2(msg.contains("'" + input + "'"), qPrintable(msg));
    QVERIFY2(msg.contains(why), qPrintable(msg));
}

void tst_options::parse_bool_values()
{
    for (const char *t : {"on", "true", "yes", "1"}) {
        auto r = granule::parse_bool(t, "option 'growable'");
        QVERIFY2(r && *r, t);
    }
    for (const char *f : {"off", "false", "no", "0"}) {
        auto r = granule::parse_bool(f, "option 'growable'");
        QVERIFY2(r && !*r, f);
    }
    for (const char *bad : {"", "2", "onn", "maybe", " on"}) {
        auto r = granule::parse_bool(bad, "option 'growable'");
        QVERIFY2(!r, bad);
        QCOMPARE(r.error().code, EINVAL);
        const auto msg = QString::fromStdString(r.error().message);
        QVERIFY2(msg.contains("option 'growable'") && msg.contains(QString("'") + bad + "'"),
                 qPrintable(msg));
    }
}

QTEST_GUILESS_MAIN(tst_options)
// One parser for both sides of the ABI: the driver SDK (driver.hpp) accepts
// exactly the sizes, bools and integers the host does, with the same values.
// Before, only the host took a 'b' suffix and only it took " 5" as an integer.
void tst_options::driver_sdk_parses_alike()
{
    for (const char *t : {"0", "512", "512b", "4k", "4K", "1M", "3G", "2T", "1P", "15E", "16E", "0x1000",
                          "0X1f", "0x10k", "", "-1", " 1", "1 ", "+1", "1kb", "k", "0x", "1.5k",
                          "18446744073709551615", "18446744073709551616", "18014398509481984k"}) {
        const auto host = granule::parse_size(t, "x");
        const auto sdk = granule::sdk::parse_size(t);
        QVERIFY2(bool(host) == sdk.has_value(), t);
        if (host)
            QCOMPARE(*sdk, *host);
    }
    for (const char *t : {"on", "off", "true", "false", "yes", "no", "1", "0", "ON", "", "2"}) {
        const auto host = granule::parse_bool(t, "x");
        const auto sdk = granule::sdk::parse_bool(t);
        QVERIFY2(bool(host) == sdk.has_value(), t);
        if (host)
            QCOMPARE(*sdk, *host);
    }
    QCOMPARE(granule::sdk::parse_size("512b").value_or(0), std::uint64_t(512));
    for (const char *t : {"0", "-1", "42", "-9223372036854775808", "9223372036854775807"})
        QVERIFY2(granule::values::parse_int(t), t);
    for (const char *t : {"", "-", "+1", " 1", "1 ", "1x", "9223372036854775808", "--1"})
        QVERIFY2(!granule::values::parse_int(t), t);
}

#include "tst_options.moc"
