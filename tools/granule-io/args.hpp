// Command-line words, getopt-style options and the numbers commands take.
// Every parse error is returned as a complete output line that names the
// command and the offending value, ready to print.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace granule_io {

// The one definition of a blank between words (the C locale's isspace:
// space, \t, \n, \v, \f, \r), for splitting and for blank lines alike.
bool is_blank(char c);

// Splits on blanks; "double quotes" group words, and inside them a
// backslash escapes '"' or a backslash. Fails only on an unterminated quote.
std::optional<std::vector<std::string>> split_words(std::string_view line, std::string &error);

struct parsed_args {
    std::vector<std::pair<char, std::string>> options;  // in command-line order
    std::vector<std::string> positional;

    bool has(char letter) const;
    // The last value given for letter, or nullptr.
    const std::string *value(char letter) const;
};

struct long_flag {
    std::string_view name;  // without the leading "--"
    char letter;
};

// getopt-like: spec "P:vq" means -P takes a value ("-P 5" or "-P5"), -v and
// -q are flags and may be combined ("-qv"). As with GNU getopt, options may
// follow positionals, "--" ends options, and "-1" is option '1' (so a
// negative number is an invalid option, as in qemu-io). Errors are getopt's
// lines ("read: invalid option -- 'x'"), which go to stderr.
std::optional<parsed_args> parse_args(std::string_view cmd, std::span<const std::string> words,
                                      std::string_view spec,
                                      std::span<const long_flag> long_flags, std::string &error);

// qemu-io's numbers: decimal, 0x hex, k/K/M/G/T/P/E suffixes and fractions
// with one (1.5k), at most 2^63 - 1; the error is qemu-io's "Parsing error:
// ... -- TEXT" line. cmd and what are unused by the message (it names TEXT,
// as qemu-io's does) but kept for callers' clarity.
std::optional<std::uint64_t> parse_number(std::string_view cmd, std::string_view what,
                                          const std::string &text, std::string &error);
// As parse_number, and 0 is refused.
std::optional<std::uint64_t> parse_length(std::string_view cmd, const std::string &text,
                                          std::string &error);
// A byte for -P: like qemu-io, strtol base 0 (so 0x41, 65 and 0101 agree);
// the error is qemu-io's "TEXT is not a valid pattern byte".
std::optional<std::uint8_t> parse_pattern(std::string_view cmd, const std::string &text,
                                          std::string &error);

// offset + length must stay within a signed 64-bit offset, like qemu's
// int64_t request ranges; false (with the message) when it does not.
bool check_range(std::string_view cmd, std::uint64_t offset, std::uint64_t length,
                 std::string &error);

}  // namespace granule_io
