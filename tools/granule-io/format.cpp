#include "format.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace granule_io {

std::string cvtstr(double value)
{
    static constexpr struct {
        int shift;
        const char *suffix;
    } units[] = {{60, " EiB"}, {50, " PiB"}, {40, " TiB"}, {30, " GiB"}, {20, " MiB"}, {10, " KiB"}};
    char buf[64];
    const char *suffix = " bytes";
    int n = -1;
    for (const auto &u : units) {
        double unit = std::ldexp(1.0, u.shift);
        if (value >= unit) {
            n = std::snprintf(buf, sizeof buf, "%.3f", value / unit);
            suffix = u.suffix;
            break;
        }
    }
    if (n < 0) {
        std::snprintf(buf, sizeof buf, "%f", value);
    }
    std::string s = buf;
    // qemu trims ".000" wherever it first appears, which for "%f" bytes is
    // always the fraction: "512.000000" -> "512 bytes".
    if (auto pos = s.find(".000"); pos != std::string::npos) {
        s.erase(pos);
    }
    return s + suffix;
}

std::string size_to_str(std::uint64_t value)
{
    static const char *const prefixes[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
    // frexp's exponent minus one is floor(log2(value * 1024 / 1000)); the
    // correction switches to the next unit once the integer part reaches
    // 1000, so we never print "1020 KiB".
    int exp = 0;
    std::frexp(static_cast<double>(value) / (1000.0 / 1024.0), &exp);
    int i = exp > 0 ? (exp - 1) / 10 : 0;
    double div = std::ldexp(1.0, i * 10);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%0.3g %sB", static_cast<double>(value) / div, prefixes[i]);
    return buf;
}

std::string timestr(std::chrono::nanoseconds elapsed)
{
    double secs = std::chrono::duration<double>(elapsed).count();
    char buf[64];
    if (secs < 3600.0) {
        std::snprintf(buf, sizeof buf, "%05.2f sec", secs);
    } else {
        auto whole = static_cast<unsigned long long>(secs);
        std::snprintf(buf, sizeof buf, "%llu:%02llu:%05.2f", whole / 3600, whole % 3600 / 60,
                      secs - static_cast<double>(whole - whole % 60));
    }
    return buf;
}

std::string report(std::string_view op, std::uint64_t offset, std::uint64_t count,
                   std::uint64_t total, std::chrono::nanoseconds elapsed, bool timing)
{
    char line[256];
    std::snprintf(line, sizeof line, "%.*s %llu/%llu bytes at offset %llu\n",
                  static_cast<int>(op.size()), op.data(), static_cast<unsigned long long>(total),
                  static_cast<unsigned long long>(count), static_cast<unsigned long long>(offset));
    std::string out = line;
    if (!timing) {
        return out;
    }
    // A request faster than the clock's tick would divide by zero (qemu
    // prints "inf"); one nanosecond keeps the rates finite.
    double secs = std::max(std::chrono::duration<double>(elapsed).count(), 1e-9);
    std::snprintf(line, sizeof line, "%s, %d ops; %s (%s/sec and %.4f ops/sec)\n",
                  cvtstr(static_cast<double>(total)).c_str(), 1, timestr(elapsed).c_str(),
                  cvtstr(static_cast<double>(total) / secs).c_str(), 1.0 / secs);
    return out + line;
}

std::string hexdump(std::span<const std::uint8_t> bytes, std::uint64_t offset)
{
    std::string out;
    out.reserve(bytes.size() / 16 * 78 + 80);
    char cell[32];
    for (std::size_t i = 0; i < bytes.size(); i += 16) {
        std::snprintf(cell, sizeof cell, "%08llx:  ", static_cast<unsigned long long>(offset + i));
        out += cell;
        std::size_t n = std::min<std::size_t>(16, bytes.size() - i);
        for (std::size_t j = 0; j < n; ++j) {
            std::snprintf(cell, sizeof cell, "%02x ", bytes[i + j]);
            out += cell;
        }
        out += ' ';
        for (std::size_t j = 0; j < n; ++j) {
            // qemu-io uses isalnum, not isprint; the C locale keeps it stable.
            std::uint8_t c = bytes[i + j];
            bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
            out += alnum ? static_cast<char>(c) : '.';
        }
        out += '\n';
    }
    return out;
}

}  // namespace granule_io
