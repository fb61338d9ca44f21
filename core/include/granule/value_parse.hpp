// The one parser of option values, shared by the host (options.cpp, node.cpp)
// and the driver SDK (driver.hpp): header-only, no allocation, constexpr, so
// a size or an integer means the same on both sides of the ABI.
//
//   size: decimal, or 0x hex; decimal may end in one suffix b k M G T P E
//         (case-insensitive, powers of 1024); no sign, no spaces
//   bool: on/off, true/false, yes/no, 1/0
//   int:  optional '-', decimal digits; no '+', no spaces
// Each returns the value, or why not (a static string for the caller to
// put after the option's name).
#pragma once

#include <cstdint>
#include <limits>
#include <string_view>

namespace granule::values {

template <class T>
struct parsed {
    T value{};
    const char *error = nullptr;  // nullptr: value is good
    constexpr explicit operator bool() const { return error == nullptr; }
};

constexpr parsed<std::uint64_t> parse_size(std::string_view text)
{
    using out = parsed<std::uint64_t>;
    if (text.empty())
        return out{0, "empty"};
    if (text[0] == '-')
        return out{0, "must not be negative"};
    unsigned base = 10;
    std::size_t i = 0;
    if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        base = 16;
        i = 2;
    }
    constexpr auto max = std::numeric_limits<std::uint64_t>::max();
    std::uint64_t value = 0;
    std::size_t digits = 0;
    for (; i < text.size(); ++i, ++digits) {
        const char c = text[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = static_cast<unsigned>(c - '0');
        else if (base == 16 && c >= 'a' && c <= 'f')
            d = static_cast<unsigned>(c - 'a' + 10);
        else if (base == 16 && c >= 'A' && c <= 'F')
            d = static_cast<unsigned>(c - 'A' + 10);
        else
            break;
        if (value > (max - d) / base)
            return out{0, "too large"};
        value = value * base + d;
    }
    if (digits == 0)
        return out{0, "not a number"};
    if (i == text.size())
        return out{value, nullptr};
    if (i + 1 != text.size() || base == 16)
        return out{0, "trailing characters (suffixes: k, M, G, T, P, E)"};
    int shift;
    switch (text[i]) {
    case 'b': case 'B': shift = 0; break;
    case 'k': case 'K': shift = 10; break;
    case 'm': case 'M': shift = 20; break;
    case 'g': case 'G': shift = 30; break;
    case 't': case 'T': shift = 40; break;
    case 'p': case 'P': shift = 50; break;
    case 'e': case 'E': shift = 60; break;
    default: return out{0, "unknown suffix (use k, M, G, T, P, E)"};
    }
    if (shift && value > (max >> shift))
        return out{0, "too large"};
    return out{value << shift, nullptr};
}

constexpr parsed<bool> parse_bool(std::string_view text)
{
    for (std::string_view t : {"on", "true", "yes", "1"})
        if (text == t)
            return {true, nullptr};
    for (std::string_view f : {"off", "false", "no", "0"})
        if (text == f)
            return {false, nullptr};
    return {false, "expected on or off"};
}

constexpr parsed<std::int64_t> parse_int(std::string_view text)
{
    using out = parsed<std::int64_t>;
    const bool negative = !text.empty() && text[0] == '-';
    if (negative)
        text.remove_prefix(1);
    if (text.empty())
        return out{0, "not an integer"};
    // Accumulated as a negative number: its range holds INT64_MIN.
    constexpr auto min = std::numeric_limits<std::int64_t>::min();
    std::int64_t v = 0;
    for (char c : text) {
        if (c < '0' || c > '9')
            return out{0, "not an integer"};
        const int d = c - '0';
        if (v < (min + d) / 10)
            return out{0, "out of range"};
        v = v * 10 - d;
    }
    if (!negative && v == min)
        return out{0, "out of range"};
    return out{negative ? v : -v, nullptr};
}

// What the parsers promise, checked where they are defined.
static_assert(parse_size("4k").value == 4096 && parse_size("0x1000").value == 4096);
static_assert(parse_size("512b").value == 512 && !parse_size("0x10k") && !parse_size(" 1"));
static_assert(!parse_size("16E") && parse_size("15E").value == 15ull << 60);
static_assert(parse_int("-9223372036854775808").value == std::numeric_limits<std::int64_t>::min());
static_assert(!parse_int("9223372036854775808") && !parse_int("+1") && !parse_int(" 1"));
static_assert(parse_bool("yes").value && !parse_bool("maybe"));

}  // namespace granule::values
