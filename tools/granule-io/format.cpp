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

std::string timestr(std::chrono::nanoseconds elapsed, bool fixed)
{
    const auto whole = static_cast<unsigned long long>(
        std::chrono::duration_cast<std::chrono::seconds>(elapsed).count());
    const double frac = std::chrono::duration<double>(elapsed % std::chrono::seconds(1)).count();
    char buf[64];
    if (fixed || whole > 0) {
        std::snprintf(buf, sizeof buf, "%llu:%02llu:%05.2f", whole / 3600, whole % 3600 / 60,
                      static_cast<double>(whole % 60) + frac);
    } else {
        std::snprintf(buf, sizeof buf, "%05.2f sec", frac);
    }
    return buf;
}

std::string report(std::string_view op, std::uint64_t offset, std::uint64_t count,
                   std::uint64_t total, std::chrono::nanoseconds elapsed, bool timing,
                   bool machine)
{
    // A request faster than the clock's tick would divide by zero (qemu
    // prints "inf"); one nanosecond keeps the rates finite.
    double secs = std::max(std::chrono::duration<double>(elapsed).count(), 1e-9);
    char line[256];
    if (machine) {
        if (!timing)
            return std::to_string(total) + ",1\n";
        std::snprintf(line, sizeof line, "%llu,%d,%s,%.3f,%.3f\n",
                      static_cast<unsigned long long>(total), 1, timestr(elapsed, true).c_str(),
                      static_cast<double>(total) / secs, 1.0 / secs);
        return line;
    }
    std::snprintf(line, sizeof line, "%.*s %llu/%llu bytes at offset %llu\n",
                  static_cast<int>(op.size()), op.data(), static_cast<unsigned long long>(total),
                  static_cast<unsigned long long>(count), static_cast<unsigned long long>(offset));
    std::string out = line;
    if (!timing) {
        return out;
    }
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
