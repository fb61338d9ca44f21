// The one parser of option values, shared by the host (options.cpp, node.cpp)
// and the driver SDK (driver.hpp): header-only, no allocation, constexpr, so
// a size or an integer means the same on both sides of the ABI.
//
//   size: decimal, or 0x hex; decimal may end in one suffix b k M G T P E
//         (case-insensitive, powers of 1024), and with k..E may have a
//         fraction, truncated to whole bytes ("1.5k" = 1536, as qemu's
//         sizes); no sign, no spaces
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
    // A decimal fraction: numerator / denominator, at most 18 digits.
    std::uint64_t numerator = 0, denominator = 1;
    if (base == 10 && i < text.size() && text[i] == '.') {
        std::size_t fraction_digits = 0;
        for (++i; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i, ++fraction_digits) {
            if (fraction_digits == 18)
                return out{0, "too many decimals"};
            numerator = numerator * 10 + static_cast<unsigned>(text[i] - '0');
            denominator *= 10;
        }
        if (fraction_digits == 0)
            return out{0, "not a number"};
        if (i == text.size())
            return out{0, "a fraction needs a suffix (k, M, G, T, P, E)"};
    }
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
    if (denominator > 1 && shift == 0)
        return out{0, "a fraction needs a suffix (k, M, G, T, P, E)"};
    // The fraction's whole bytes, bit by bit (exact, no overflow: the
    // numerator stays below the denominator <= 10^18).
    std::uint64_t fraction = 0;
    for (int b = 0; b < shift; ++b) {
        numerator *= 2;
        fraction = fraction * 2 + (numerator >= denominator ? 1 : 0);
        if (numerator >= denominator)
            numerator -= denominator;
    }
    if ((value << shift) > max - fraction)
        return out{0, "too large"};
    return out{(value << shift) + fraction, nullptr};
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
static_assert(parse_size("1.5k").value == 1536 && parse_size("0.5M").value == 524288);
static_assert(parse_size("1.1k").value == 1126 && !parse_size("1.5") && !parse_size("1.5b"));
static_assert(!parse_size("1.k") && !parse_size("0x1.5k") && parse_size("15.99E").value > (15ull << 60));
static_assert(!parse_size("1.0000000000000000001k"));  // 19 decimals
static_assert(parse_int("-9223372036854775808").value == std::numeric_limits<std::int64_t>::min());
static_assert(!parse_int("9223372036854775808") && !parse_int("+1") && !parse_int(" 1"));
static_assert(parse_bool("yes").value && !parse_bool("maybe"));

}  // namespace granule::values
