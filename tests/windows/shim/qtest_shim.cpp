// The Qt Test stand-in's runtime: verdicts, data rows, Qt-like output.
#include "qtest_shim.hpp"

#include <algorithm>

namespace qtest_shim {
namespace {

struct verdict {
    bool failed = false;
    bool skipped = false;
    std::string function, row;
};
verdict state;
table current_table;
const std::vector<std::any> *row_values = nullptr;
const char *current_class = "";

std::string current_name()
{
    return std::string(current_class) + "::" + state.function + "(" + state.row + ")";
}

}  // namespace

std::string printable(const QString &s) { return s.toStdString(); }

std::string format(const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int n = std::vsnprintf(nullptr, 0, fmt, copy);
    va_end(copy);
    std::string out(n > 0 ? static_cast<std::size_t>(n) : 0, '\0');
    if (n > 0)
        std::vsnprintf(out.data(), out.size() + 1, fmt, ap);
    return out;
}

table &data() { return current_table; }
const std::vector<std::any> *current_row() { return row_values; }
bool failed() { return state.failed; }

void record_failure(const std::string &what, const char *file, int line)
{
    if (state.failed)
        return;  // like Qt: the first failure of a row is the one reported
    state.failed = true;
    std::printf("FAIL!  : %s %s\n   Loc: [%s(%d)]\n", current_name().c_str(), what.c_str(),
                file, line);
}

void record_skip(const std::string &why)
{
    state.skipped = true;
    std::printf("SKIP   : %s %s\n", current_name().c_str(), why.c_str());
}

int column(const char *name, std::type_index type, const char *file, int line)
{
    const auto &cols = current_table.columns;
    for (std::size_t i = 0; i < cols.size(); ++i) {
        if (cols[i].first != name)
            continue;
        if (cols[i].second != type) {
            record_failure(std::string("QFETCH: column '") + name + "' has another type", file, line);
            return -1;
        }
        return static_cast<int>(i);
    }
    record_failure(std::string("QFETCH: no column '") + name + "'", file, line);
    return -1;
}

bool runner::wanted(const char *fn, const std::string &row, int argc, char **argv) const
{
    if (argc < 2)
        return true;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto colon = a.find(':');
        if (a.substr(0, colon) == fn && (colon == std::string::npos || a.substr(colon + 1) == row))
            return true;
    }
    return false;
}

void runner::start() const
{
    std::printf("********* Start testing of %s *********\n", cls);
}

bool runner::begin(const std::string &fn, const std::string &row, std::size_t index)
{
    current_class = cls;
    state = verdict{};
    state.function = fn;
    state.row = row;
    row_values = nullptr;
    if (index < current_table.rows.size())
        row_values = &current_table.rows[index].second;
    if (!current_table.error.empty())
        record_failure(current_table.error, "data table", 0);
    return true;
}

void runner::end()
{
    if (state.failed)
        ++failed;
    else if (state.skipped)
        ++skipped;
    else {
        ++passed;
        std::printf("PASS   : %s\n", current_name().c_str());
    }
    std::fflush(stdout);
}

int runner::finish()
{
    std::printf("Totals: %d passed, %d failed, %d skipped, 0 blacklisted\n", passed, failed, skipped);
    std::printf("********* Finished testing of %s *********\n", cls);
    return failed > 127 ? 127 : failed;
}

}  // namespace qtest_shim

QString QString::trimmed() const
{
    auto b = s_.find_first_not_of(" \t\r\n");
    if (b == std::string::npos)
        return QString();
    return QString(s_.substr(b, s_.find_last_not_of(" \t\r\n") - b + 1));
}

QString QString::arg(const QString &a) const
{
    // The lowest %N (N = 1..99) present, every occurrence of it.
    int lowest = 100;
    for (std::size_t i = 0; i + 1 < s_.size(); ++i)
        if (s_[i] == '%' && s_[i + 1] >= '1' && s_[i + 1] <= '9') {
            int n = s_[i + 1] - '0';
            if (i + 2 < s_.size() && s_[i + 2] >= '0' && s_[i + 2] <= '9')
                n = n * 10 + (s_[i + 2] - '0');
            lowest = std::min(lowest, n);
        }
    if (lowest == 100)
        return *this;
    std::string key = "%" + std::to_string(lowest), out;
    for (std::size_t i = 0; i < s_.size();) {
        bool longer = i + key.size() < s_.size() && lowest < 10 && s_[i + key.size()] >= '0' &&
                      s_[i + key.size()] <= '9';
        if (s_.compare(i, key.size(), key) == 0 && !longer) {
            out += a.s_;
            i += key.size();
        } else {
            out += s_[i++];
        }
    }
    return QString(out);
}

QString QStringList::join(const QString &sep) const
{
    QString out;
    for (std::size_t i = 0; i < size(); ++i) {
        if (i)
            out += sep;
        out += (*this)[i];
    }
    return out;
}

void qWarning(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    std::string s = qtest_shim::format(fmt, ap);
    va_end(ap);
    std::printf("QWARN  : %s\n", s.c_str());
}

namespace QTest {

qtest_shim::row newRow(const char *name)
{
    auto &rows = qtest_shim::data().rows;
    rows.emplace_back(name, std::vector<std::any>{});
    return qtest_shim::row(rows.size() - 1);
}

qtest_shim::row addRow(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    std::string name = qtest_shim::format(fmt, ap);
    va_end(ap);
    return newRow(name.c_str());
}

bool currentTestFailed() { return qtest_shim::failed(); }

}  // namespace QTest
