// A small stand-in for Qt Test, so tests/unit and tests/api build and run
// on Windows, where Debian has no Qt for MinGW. It covers exactly what those
// tests use: QObject/Q_OBJECT/slots, data tables (addColumn, newRow, addRow,
// QFETCH), QCOMPARE/QVERIFY/QVERIFY2/QFAIL/QSKIP/QVERIFY_THROWS_EXCEPTION,
// currentTestFailed, qWarning, and a QString/QStringList with the handful of
// members the tests call. No moc: tests/windows/qtest_shim.cmake writes each
// test's "tst_x.moc" from its `private slots:` section, listing the
// functions for the runner below (qtest_shim_access is Q_OBJECT's friend).
//
// Output and exit code follow Qt's: PASS/FAIL!/SKIP lines, "Totals: N passed,
// M failed, K skipped", exit status = failures; arguments select functions
// ("fn" or "fn:row"), so ctest can run one function per entry as on Linux.
#pragma once

#include <any>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeindex>
#include <utility>
#include <vector>

using qint64 = long long;
using quint64 = unsigned long long;
using qlonglong = long long;
using qulonglong = unsigned long long;

class QObject {
public:
    virtual ~QObject() = default;
};
struct qtest_shim_access;  // defined by the generated .moc
#define Q_OBJECT friend struct ::qtest_shim_access;
#define slots

class QString {
public:
    QString() = default;
    QString(const char *s) : s_(s ? s : "") {}
    QString(std::string s) : s_(std::move(s)) {}
    static QString fromStdString(const std::string &s) { return QString(s); }
    template <class T, std::enable_if_t<std::is_arithmetic_v<T>, int> = 0>
    static QString number(T v) { return QString(std::to_string(v)); }
    std::string toStdString() const { return s_; }
    bool isEmpty() const { return s_.empty(); }
    bool contains(const QString &part) const { return s_.find(part.s_) != std::string::npos; }
    bool startsWith(const QString &p) const { return s_.compare(0, p.s_.size(), p.s_) == 0; }
    QString trimmed() const;
    // Replaces the lowest-numbered %N, like Qt.
    QString arg(const QString &a) const;
    QString arg(const char *a) const { return arg(QString(a)); }
    QString arg(char c) const { return arg(QString(std::string(1, c))); }
    template <class T, std::enable_if_t<std::is_arithmetic_v<T>, int> = 0>
    QString arg(T v) const { return arg(QString(std::to_string(v))); }
    QString &operator+=(const QString &o) { s_ += o.s_; return *this; }
    friend QString operator+(QString a, const QString &b) { return a += b; }
    friend QString operator+(QString a, const char *b) { return a += QString(b); }
    friend QString operator+(const char *a, const QString &b) { return QString(a) += b; }
    friend bool operator==(const QString &a, const QString &b) { return a.s_ == b.s_; }
    friend bool operator!=(const QString &a, const QString &b) { return a.s_ != b.s_; }

private:
    std::string s_;
};

class QStringList : public std::vector<QString> {
public:
    using std::vector<QString>::vector;
    QStringList &operator<<(const QString &s) { push_back(s); return *this; }
    QString join(const QString &sep) const;
    QString join(char sep) const { return join(QString(std::string(1, sep))); }
};

#define qPrintable(s) (::qtest_shim::printable(s).c_str())
void qWarning(const char *format, ...);

namespace qtest_shim {

std::string printable(const QString &s);
std::string format(const char *fmt, va_list ap);

// The current function's data table and row, and its verdict.
struct table {
    std::vector<std::pair<std::string, std::type_index>> columns;
    std::vector<std::pair<std::string, std::vector<std::any>>> rows;
    std::string error;  // a malformed row (Qt aborts): fails every row of the function
};
table &data();
const std::vector<std::any> *current_row();
void record_failure(const std::string &what, const char *file, int line);
void record_skip(const std::string &why);
bool failed();
// The column's index, or -1 (and a recorded failure) when missing/mistyped.
int column(const char *name, std::type_index type, const char *file, int line);

class row {
public:
    explicit row(std::size_t index) : index_(index) {}
    template <class T>
    row &operator<<(const T &v)
    {
        auto &t = data();
        auto &r = t.rows[index_].second;
        if (r.size() >= t.columns.size()) {
            if (t.error.empty())
                t.error = "too many values in data row '" + t.rows[index_].first + "'";
        } else if (t.columns[r.size()].second != std::type_index(typeid(T))) {
            if (t.error.empty())
                t.error = "data row '" + t.rows[index_].first + "': value " +
                          std::to_string(r.size() + 1) + " has the wrong type for column '" +
                          t.columns[r.size()].first + "'";
        }
        r.emplace_back(v);
        return *this;
    }
    row &operator<<(const char *s) { return *this << QString(s); }  // as Qt does

private:
    std::size_t index_;
};

template <class T>
T fetch(const char *name, const char *file, int line)
{
    int i = column(name, typeid(T), file, line);
    if (i < 0 || !current_row() || static_cast<std::size_t>(i) >= current_row()->size())
        return T{};
    return std::any_cast<T>((*current_row())[static_cast<std::size_t>(i)]);
}

template <class T>
std::string text(const T &v)
{
    if constexpr (std::is_same_v<T, bool>)
        return v ? "true" : "false";
    else if constexpr (std::is_enum_v<T>)
        return std::to_string(static_cast<std::underlying_type_t<T>>(v));
    else if constexpr (std::is_arithmetic_v<T>)
        return std::to_string(v);
    else if constexpr (std::is_same_v<T, QString>)
        return "\"" + v.toStdString() + "\"";
    else if constexpr (std::is_pointer_v<T> || std::is_null_pointer_v<T>) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%p", static_cast<const void *>(v));
        return buf;
    } else
        return "(not printable)";
}

template <class A, class B>
bool compare(const A &a, const B &b, const char *as, const char *bs, const char *file, int line)
{
    bool same;
    if constexpr (std::is_integral_v<A> && std::is_integral_v<B> && !std::is_same_v<A, bool>)
        same = std::cmp_equal(a, b);
    else
        same = a == b;
    if (!same)
        record_failure(std::string("Compared values are not the same\n   Actual   (") + as +
                           "): " + text(a) + "\n   Expected (" + bs + "): " + text(b),
                       file, line);
    return same;
}

template <class T>
struct test_function {
    const char *name;
    void (T::*fn)();
    void (T::*data_fn)();  // or nullptr
};
template <class T>
struct fixture {
    void (T::*init_case)() = nullptr;
    void (T::*cleanup_case)() = nullptr;
    void (T::*init)() = nullptr;
    void (T::*cleanup)() = nullptr;
};

// One outcome per data row (or per function without data).
struct runner {
    const char *cls;
    int passed = 0, failed = 0, skipped = 0;
    bool wanted(const char *fn, const std::string &row, int argc, char **argv) const;
    void start() const;
    // Resets the verdict; index is the data row (SIZE_MAX: none).
    bool begin(const std::string &fn, const std::string &row, std::size_t index);
    void end();                                                 // prints and counts
    int finish();
};

template <class T>
int run(int argc, char **argv, const char *cls, const std::vector<test_function<T>> &fns,
        const fixture<T> &fx)
{
    runner r{cls};
    r.start();
    T obj;
    auto call = [&obj](void (T::*f)()) {
        if (f)
            (obj.*f)();
    };
    call(fx.init_case);
    for (const auto &f : fns) {
        data() = table{};
        bool has_rows = f.data_fn != nullptr;
        if (has_rows)
            (obj.*(f.data_fn))();
        std::size_t rows = has_rows ? data().rows.size() : 1;
        for (std::size_t i = 0; i < rows; ++i) {
            std::string tag = has_rows ? data().rows[i].first : std::string();
            if (!r.wanted(f.name, tag, argc, argv) || !r.begin(f.name, tag, has_rows ? i : SIZE_MAX))
                continue;
            try {
                call(fx.init);
                if (!failed())
                    call(f.fn);
                call(fx.cleanup);
            } catch (const std::exception &e) {
                record_failure(std::string("Caught unhandled exception: ") + e.what(), __FILE__, __LINE__);
            } catch (...) {
                record_failure("Caught unhandled exception", __FILE__, __LINE__);
            }
            r.end();
        }
    }
    call(fx.cleanup_case);
    return r.finish();
}

}  // namespace qtest_shim

namespace QTest {
template <class T>
void addColumn(const char *name)
{
    qtest_shim::data().columns.emplace_back(name, std::type_index(typeid(T)));
}
qtest_shim::row newRow(const char *name);
qtest_shim::row addRow(const char *format, ...);
bool currentTestFailed();
}  // namespace QTest

#define QVERIFY2(cond, message)                                                                    \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            ::qtest_shim::record_failure(std::string("'" #cond "' returned FALSE. (") +            \
                                             (message) + ")", __FILE__, __LINE__);                 \
            return;                                                                                \
        }                                                                                          \
    } while (0)
#define QVERIFY(cond) QVERIFY2(cond, "")
#define QCOMPARE(actual, expected)                                                                 \
    do {                                                                                           \
        if (!::qtest_shim::compare(actual, expected, #actual, #expected, __FILE__, __LINE__))      \
            return;                                                                                \
    } while (0)
#define QFAIL(message)                                                                             \
    do {                                                                                           \
        ::qtest_shim::record_failure(message, __FILE__, __LINE__);                                 \
        return;                                                                                    \
    } while (0)
#define QSKIP(message)                                                                             \
    do {                                                                                           \
        ::qtest_shim::record_skip(message);                                                        \
        return;                                                                                    \
    } while (0)
#define QFETCH(Type, name)                                                                         \
    Type name = ::qtest_shim::fetch<Type>(#name, __FILE__, __LINE__);                              \
    if (::qtest_shim::failed())                                                                    \
        return
#define QVERIFY_THROWS_EXCEPTION(Type, ...)                                                        \
    do {                                                                                           \
        try {                                                                                      \
            __VA_ARGS__;                                                                           \
            QFAIL("Expected exception of type " #Type " to be thrown, but no exception caught");   \
        } catch (const Type &) {                                                                   \
        } catch (...) {                                                                            \
            QFAIL("Expected exception of type " #Type ", but another one was caught");             \
        }                                                                                          \
    } while (0)
// The generated .moc defines qtest_shim_main with the test list.
#define QTEST_GUILESS_MAIN(T)                                                                      \
    int qtest_shim_main(int argc, char **argv);                                                    \
    int main(int argc, char **argv) { return qtest_shim_main(argc, argv); }
