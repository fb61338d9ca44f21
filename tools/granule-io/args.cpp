#include "args.hpp"

#include <granule/options.hpp>
#include <granule/value_parse.hpp>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <limits>

namespace granule_io {

bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

std::optional<std::vector<std::string>> split_words(std::string_view line, std::string &error)
{
    std::vector<std::string> words;
    std::string word;
    bool in_word = false;
    bool in_quotes = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        char c = line[i];
        if (in_quotes) {
            if (c == '"') {
                in_quotes = false;
            } else if (c == '\\' && i + 1 < line.size() && (line[i + 1] == '"' || line[i + 1] == '\\')) {
                word += line[++i];
            } else {
                word += c;
            }
        } else if (c == '"') {
            // An empty "" is still a word, so track in_word separately.
            in_quotes = true;
            in_word = true;
        } else if (is_blank(c)) {
            if (in_word) {
                words.push_back(std::move(word));
                word.clear();
                in_word = false;
            }
        } else {
            word += c;
            in_word = true;
        }
    }
    if (in_quotes) {
        error = "unterminated quote in '" + std::string(line) + "'";
        return std::nullopt;
    }
    if (in_word) {
        words.push_back(std::move(word));
    }
    return words;
}

bool parsed_args::has(char letter) const { return value(letter) != nullptr; }

const std::string *parsed_args::value(char letter) const
{
    const std::string *found = nullptr;
    for (const auto &[l, v] : options) {
        if (l == letter) {
            found = &v;
        }
    }
    return found;
}

std::optional<parsed_args> parse_args(std::string_view cmd, std::span<const std::string> words,
                                      std::string_view spec,
                                      std::span<const long_flag> long_flags, std::string &error)
{
    parsed_args out;
    bool options_ended = false;
    for (std::size_t i = 0; i < words.size(); ++i) {
        const std::string &w = words[i];
        // As getopt: "-1" is option '1' (qemu-io says "invalid option -- '1'").
        bool looks_like_option = !options_ended && w.size() > 1 && w[0] == '-';
        if (!looks_like_option) {
            out.positional.push_back(w);
            continue;
        }
        if (w == "--") {
            options_ended = true;
            continue;
        }
        if (w.starts_with("--")) {
            std::string_view name = std::string_view(w).substr(2);
            bool known = false;
            for (const auto &lf : long_flags) {
                if (lf.name == name) {
                    out.options.emplace_back(lf.letter, std::string());
                    known = true;
                }
            }
            if (!known) {
                error = std::string(cmd) + ": invalid option '" + w + "'";
                return std::nullopt;
            }
            continue;
        }
        for (std::size_t j = 1; j < w.size(); ++j) {
            char letter = w[j];
            auto pos = spec.find(letter);
            if (letter == ':' || pos == std::string_view::npos) {
                error = std::string(cmd) + ": invalid option -- '" + letter + "'";
                return std::nullopt;
            }
            bool takes_value = pos + 1 < spec.size() && spec[pos + 1] == ':';
            if (!takes_value) {
                out.options.emplace_back(letter, std::string());
                continue;
            }
            if (j + 1 < w.size()) {
                out.options.emplace_back(letter, w.substr(j + 1));
            } else if (i + 1 < words.size()) {
                out.options.emplace_back(letter, words[++i]);
            } else {
                error = std::string(cmd) + ": option requires an argument -- '" + letter + "'";
                return std::nullopt;
            }
            break;
        }
    }
    return out;
}

std::optional<std::uint64_t> parse_number(std::string_view, std::string_view,
                                          const std::string &text, std::string &error)
{
    // qemu-io's cvtnum: a byte count up to 2^63 - 1, and its two messages.
    auto v = granule::values::parse_size(text);
    constexpr auto max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    bool too_large = v ? v.value > max : std::string_view(v.error) == "too large";
    if (too_large) {
        error = "Parsing error: argument too large -- " + text;
        return std::nullopt;
    }
    if (!v) {
        error = "Parsing error: non-numeric argument, or extraneous/unrecognized suffix -- " + text;
        return std::nullopt;
    }
    return v.value;
}

std::optional<std::uint64_t> parse_length(std::string_view cmd, const std::string &text,
                                          std::string &error)
{
    auto v = parse_number(cmd, "length", text, error);
    if (v && *v == 0) {
        error = std::string(cmd) + ": length 0: the range must not be empty";
        return std::nullopt;
    }
    return v;
}

std::optional<std::uint8_t> parse_pattern(std::string_view cmd, const std::string &text,
                                          std::string &error)
{
    char *end = nullptr;
    errno = 0;
    long v = text.empty() ? -1 : std::strtol(text.c_str(), &end, 0);
    if (text.empty() || errno != 0 || *end != '\0' || v < 0 || v > 255) {
        error = text + " is not a valid pattern byte";
        return std::nullopt;
    }
    return static_cast<std::uint8_t>(v);
}

bool check_range(std::string_view cmd, std::uint64_t offset, std::uint64_t length,
                 std::string &error)
{
    constexpr std::uint64_t max = std::numeric_limits<std::int64_t>::max();
    if (offset > max || length > max - offset) {
        error = std::string(cmd) + " at offset " + std::to_string(offset) + ", length " +
                std::to_string(length) + ": ends beyond the largest offset 2^63-1";
        return false;
    }
    return true;
}

}  // namespace granule_io
