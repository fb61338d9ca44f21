// granule-img's JSON writer (tools/granule-img/json_writer.hpp): RFC 8259
// strings with its stated policy for control characters and bytes that are
// not UTF-8, numbers, and the layout of nested and empty containers.
#ifndef Q_MOC_RUN  // moc cannot parse <concepts>
#include "json_writer.hpp"
#endif

#include <QtTest/QtTest>

#include <cmath>
#include <limits>
#include <string>

using granule_img::json_quote;
using granule_img::json_writer;

class tst_json_writer : public QObject {
    Q_OBJECT
private slots:
    void quote_data();
    void quote();
    void numbers();
    void layout();
};

void tst_json_writer::quote_data()
{
    QTest::addColumn<QByteArray>("in");
    QTest::addColumn<QByteArray>("out");
    auto row = [](const char *name, std::string in, std::string out) {
        QTest::newRow(name) << QByteArray(in.data(), qsizetype(in.size()))
                            << QByteArray(out.data(), qsizetype(out.size()));
    };
    row("plain", "d.img", R"("d.img")");
    row("empty", "", R"("")");
    row("quote and backslash", R"(a"b\c)", R"("a\"b\\c")");
    row("controls as \\u00XX", std::string("\0\n\t\x1f", 4), R"("\u0000\u000a\u0009\u001f")");
    row("DEL", "\x7f", R"("\u007f")");
    row("slash stays", "/dev/sdb", R"("/dev/sdb")");
    row("2-byte UTF-8", "\xc3\xa9", "\"\xc3\xa9\"");
    row("3-byte UTF-8", "\xe2\x82\xac", "\"\xe2\x82\xac\"");
    row("4-byte UTF-8", "\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\"");
    row("U+10FFFF", "\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\"");
    row("latin-1 byte", "caf\xe9.img", R"("caf\ufffd.img")");
    row("lone continuation", "\x80", R"("\ufffd")");
    row("overlong 2-byte", "\xc0\xaf", R"("\ufffd\ufffd")");
    row("overlong 3-byte", "\xe0\x80\xaf", R"("\ufffd\ufffd\ufffd")");
    row("surrogate", "\xed\xa0\x80", R"("\ufffd\ufffd\ufffd")");
    row("above U+10FFFF", "\xf4\x90\x80\x80", R"("\ufffd\ufffd\ufffd\ufffd")");
    row("F5", "\xf5", R"("\ufffd")");
    row("truncated at the end", "a\xe2\x82", R"("a\ufffd\ufffd")");
    row("truncated before ASCII", "\xe2\x82z", R"("\ufffd\ufffdz")");
}

void tst_json_writer::quote()
{
    QFETCH(QByteArray, in);
    QFETCH(QByteArray, out);
    const std::string got = json_quote(std::string_view(in.constData(), std::size_t(in.size())));
    QCOMPARE(QByteArray(got.data(), qsizetype(got.size())), out);
}

void tst_json_writer::numbers()
{
    json_writer j;
    j.begin_array()
        .number(std::uint64_t(18446744073709551615u))
        .number(-5)
        .number(0.1)
        .number(100.0)
        .number(std::numeric_limits<double>::infinity())
        .number(std::nan(""))
        .boolean(true)
        .null()
        .end_array();
    QCOMPARE(QString::fromStdString(j.text()),
             QString("[\n    18446744073709551615,\n    -5,\n    0.1,\n    100,\n    null,\n"
                     "    null,\n    true,\n    null\n]\n"));
}

void tst_json_writer::layout()
{
    json_writer j;
    j.begin_object();
    j.member("a", 1);
    j.key("empty object").begin_object().end_object();
    j.key("empty array").begin_array().end_array();
    j.key("list").begin_array().string("x").begin_object().member("k", "v").end_object().end_array();
    j.member("t", false);
    j.end_object();
    QCOMPARE(QString::fromStdString(j.text()),
             QString("{\n    \"a\": 1,\n    \"empty object\": {},\n    \"empty array\": [],\n"
                     "    \"list\": [\n        \"x\",\n        {\n            \"k\": \"v\"\n"
                     "        }\n    ],\n    \"t\": false\n}\n"));
}

QTEST_GUILESS_MAIN(tst_json_writer)
#include "tst_json_writer.moc"
