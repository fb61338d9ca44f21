// URL user info (granule/url.hpp) and redact_secrets() over a table of hostile
// passwords: the user and password found are exactly the ones written, and no
// piece of a password survives redaction, whether the URL stands alone or sits
// in dotted options (",," escaped or not).
#include <granule/options.hpp>
#include <granule/url.hpp>

#include "test_support.hpp"

#include <QRegularExpression>

namespace {

using granule::url::find_user_info;

constexpr const char *user = "chapuser";
constexpr const char *rest = "127.0.0.1:3260/iqn.2026-11.org.granule:test/2";

// Each piece between special characters is distinctive, so that finding it
// in an output means the password leaked.
const std::vector<std::pair<const char *, QString>> &hostile_passwords()
{
    static const std::vector<std::pair<const char *, QString>> t{
        {"slash", "Qz7q/Kx4k/Wv9w"},
        {"at", "Hj2hTt@Yp8yLm"},
        {"at_many", "Nb6nNn@Mv1mMm@Fg4fFf@Zq3zZz"},
        {"percent", "Zc3zOo%Xe5xLl"},
        {"percent_many", "Rt8rRr%Pq2pPp%Dl7dDd"},
        {"colon", "Bw4bWw:Cs6cSs"},
        {"question", "Jm9jJj?Ku3kKk"},
        {"hash", "Lf5lLl#Gy2gGg"},
        {"comma", "Sd1sSs,Vn8vVv"},
        {"comma_many", "Ce2cCc,,Oe4oOo,Pe6pPp"},
        {"comma_key", "Kk3kKk,Ll4l=Mm5mMm"},  // not doubled: looks like a second option
        {"encoded", "Tk6tTt%2F%40Uh4uUu"},
        {"host_like", "Hh5hHh:9Zw9/Ii7iIi"},  // host:port/path
        {"everything", "Ux2u/Uy3u@Uz4u%Ua5u:Ub6u?Uc7u#Ud8u,Ue9u%2F%40Uf1u"},
        {"empty", ""},
    };
    return t;
}

QString url_with(const QString &password)
{
    return QString("iscsi://%1%%2@%3").arg(user, password, rest);
}
QString redacted_url() { return QString("iscsi://%1%***@%2").arg(user, rest); }
QString doubled(QString v) { return v.replace(',', ",,"); }

// The pieces of 3+ characters between non-alphanumeric characters.
QStringList pieces(const QString &secret)
{
    QStringList out;
    static const QRegularExpression special("[^A-Za-z0-9]+");
    for (const auto &p : secret.split(special, Qt::SkipEmptyParts))
        if (p.size() >= 3)
            out << p;
    return out;
}

// The first piece of secret found in text, or an empty string.
QString leaked_piece(const QString &text, const QString &secret)
{
    for (const auto &p : pieces(secret))
        if (text.contains(p))
            return p;
    return {};
}

QString redact(const QString &text)
{
    return QString::fromStdString(granule::redact_secrets(text.toStdString()));
}

}  // namespace

static_assert(find_user_info("iscsi://u%p@h/t/0").user_begin == 8);
static_assert(find_user_info("iscsi://u%p@h/t/0").password_begin == 10);
static_assert(find_user_info("iscsi://u%p@h/t/0").at == 11);
static_assert(!find_user_info("iscsi://h/t%3Ax/0").found());

class tst_url : public QObject {
    Q_OBJECT

private slots:
    void url_user_info_data();
    void url_user_info();
    void redact_options_data();
    void redact_options();
    void no_password_data();
    void no_password();
    void unchanged_without_secrets_data();
    void unchanged_without_secrets();
};

void tst_url::url_user_info_data()
{
    QTest::addColumn<QString>("password");
    for (const auto &[name, password] : hostile_passwords())
        QTest::newRow(name) << password;
}

// The URL alone: found exactly, redacted exactly, as the driver and the core see it.
void tst_url::url_user_info()
{
    QFETCH(QString, password);
    QVERIFY2(password.isEmpty() || !pieces(password).isEmpty(), "a row without a checkable piece");
    const std::string url = url_with(password).toStdString();
    const auto u = find_user_info(url);
    QVERIFY(u.found());
    QVERIFY(u.has_password());
    QCOMPARE(QString::fromStdString(std::string(u.user(url))), QString(user));
    QCOMPARE(QString::fromStdString(std::string(u.password(url))), password);
    QCOMPARE(QString::fromStdString(url.substr(u.at + 1)), QString(rest));

    QCOMPARE(QString::fromStdString(granule::url::redact_password(url)), redacted_url());
    const auto shown = redact(url_with(password));
    QCOMPARE(shown, redacted_url());
    const auto leak = leaked_piece(shown, password);
    QVERIFY2(leak.isEmpty(), qPrintable("'" + leak + "' shown in " + shown));
}

void tst_url::redact_options_data()
{
    QTest::addColumn<QString>("spec");
    QTest::addColumn<QString>("password");
    QTest::addColumn<QString>("key");    // the key holding the secret; empty: spec does not parse
    QTest::addColumn<QString>("value");  // that key's value as parsed
    QTest::addColumn<QString>("shown");  // that key's value after redaction
    for (const auto &[name, password] : hostile_passwords()) {
        const QString url = url_with(password);
        const auto row = [&](const char *form) -> QTestData & {
            return QTest::addRow("%s/%s", name, form);
        };
        row("filename") << "driver=iscsi,filename=" + doubled(url) + ",timeout=5" << password
                        << "filename" << url << redacted_url();
        row("blkdebug") << "driver=blkdebug,align=4096,image.driver=iscsi,image.filename=" +
                               doubled(url) + ",image.timeout=5"
                        << password << "image.filename" << url << redacted_url();
        row("password_key") << "driver=blkdebug,image.driver=iscsi,image.password=" +
                                   doubled(password)
                            << password << "image.password" << password << "***";
        // A ',' not doubled cuts the URL, and a stray item stops the parse:
        // what is shown must still hide the whole password.
        row("not_doubled") << "driver=iscsi,filename=" + url + ",timeout=5" << password << ""
                           << "" << "";
        row("unparsable") << "driver=iscsi,filename=" + doubled(url) + ",bogus" << password << ""
                          << "" << "";
        // The URL typed where a key goes ("=" in its path): keys are not
        // values, but this one holds the password (a fuzz_options find).
        row("url_as_key") << doubled(url) + "=0,driver=iscsi" << password << "" << "" << "";
        row("two_urls") << "driver=iscsi,filename=" + doubled(url) +
                               ",backing.filename=" + doubled(url) + ",bogus"
                        << password << "" << "" << "";
    }
}

void tst_url::redact_options()
{
    QFETCH(QString, spec);
    QFETCH(QString, password);
    QFETCH(QString, key);
    QFETCH(QString, value);
    QFETCH(QString, shown);
    const auto out = redact(spec);
    const auto leak = leaked_piece(out, password);
    QVERIFY2(leak.isEmpty(), qPrintable("'" + leak + "' shown in " + out));
    if (key.isEmpty())
        return;

    // Round trip: the options hold exactly the URL (and password) written...
    auto in = granule::parse_options(spec.toStdString());
    QVERIFY2(in, in ? "" : in.error().message.c_str());
    QCOMPARE(QString::fromStdString(in->at(key.toStdString())), value);
    // ...and the redacted text is the same options with only that value hidden.
    auto back = granule::parse_options(out.toStdString());
    QVERIFY2(back, qPrintable(out));
    QCOMPARE(QString::fromStdString(back->at(key.toStdString())), shown);
    (*back)[key.toStdString()] = in->at(key.toStdString());
    QCOMPARE(QString::fromStdString(granule::format_options(*back)),
             QString::fromStdString(granule::format_options(*in)));
}

void tst_url::no_password_data()
{
    QTest::addColumn<QString>("url");
    QTest::addColumn<bool>("found");
    QTest::addColumn<QString>("user");
    QTest::newRow("no_user_info") << "iscsi://127.0.0.1/iqn.2026-11.org.x%3Ad/0" << false << "";
    QTest::newRow("user_only") << "iscsi://admin@[::1]:3260/iqn.2026-11.org.x%3Ad/0" << true
                               << "admin";
    QTest::newRow("at_before_scheme") << "a@b://host/x" << false << "";
    QTest::newRow("no_scheme") << "user%pw@host/x" << false << "";
    QTest::newRow("empty_user") << "iscsi://@host/x/0" << true << "";
}

// Without a '%' in the user info there is no password and nothing is hidden.
void tst_url::no_password()
{
    QFETCH(QString, url);
    QFETCH(bool, found);
    QFETCH(QString, user);
    const std::string s = url.toStdString();
    const auto u = find_user_info(s);
    QCOMPARE(u.found(), found);
    QVERIFY(!u.has_password());
    QCOMPARE(QString::fromStdString(std::string(u.user(s))), user);
    QVERIFY(u.password(s).empty());
    QCOMPARE(QString::fromStdString(granule::url::redact_password(s)), url);
}

void tst_url::unchanged_without_secrets_data()
{
    QTest::addColumn<QString>("text");
    QTest::newRow("options_order_kept")
        << "driver=blkdebug,align=3000,image.driver=memory,image.size=1M";
    QTest::newRow("escaped_comma") << "driver=raw-posix,filename=a,,b.img";
    QTest::newRow("iqn_escape")
        << "driver=iscsi,filename=iscsi://h/iqn.2026-11.org.x%3Ad/2,timeout=5";
    QTest::newRow("user_no_password") << "driver=iscsi,filename=iscsi://admin@h/iqn.x%3Ad/2";
    QTest::newRow("at_in_path") << "driver=raw-posix,filename=/tmp/a@b%c.img";
    QTest::newRow("shorthand") << "/tmp/disk%1@2.img";
    QTest::newRow("url_no_password") << "iscsi://127.0.0.1:3260/iqn.2026-11.org.x%3Ad/1";
}

// Messages about specs without secrets stay as typed (golden outputs rely on it).
void tst_url::unchanged_without_secrets()
{
    QFETCH(QString, text);
    QCOMPARE(redact(text), text);
}

QTEST_GUILESS_MAIN(tst_url)
#include "tst_url.moc"
