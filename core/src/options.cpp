#include <granule/options.hpp>
#include <granule/value_parse.hpp>
#include <granule/url.hpp>

#include <algorithm>
#include <cerrno>
#include <cctype>
#include <limits>

namespace granule {

// "driver=..." or "...,filename=..." is meant as options even when it does
// not parse; a filename containing "driver=" must be given as filename=.
bool looks_like_options(std::string_view spec)
{
    for (std::string_view key : {"driver=", "filename="})
        if (spec.substr(0, key.size()) == key ||
            spec.find("," + std::string(key)) != std::string_view::npos)
            return true;
    return false;
}

result<options> parse_options(std::string_view text)
{
    options out;
    std::size_t i = 0;
    while (i <= text.size()) {
        std::string item;
        // ",," is a literal comma (QEMU's escaping).
        while (i < text.size()) {
            if (text[i] == ',') {
                if (i + 1 < text.size() && text[i + 1] == ',') {
                    item += ',';
                    i += 2;
                    continue;
                }
                break;
            }
            item += text[i++];
        }
        ++i;
        if (item.empty()) {
            if (i > text.size() && !out.empty())
                break;  // tolerate one trailing comma
            return make_error(EINVAL, "empty option in '" + std::string(text) + "'");
        }
        auto eq = item.find('=');
        if (eq == std::string::npos)
            return make_error(EINVAL, "option '" + item + "' has no value (expected key=value)");
        std::string key = item.substr(0, eq);
        if (key.empty())
            return make_error(EINVAL, "option '" + item + "' has an empty key");
        // ",," escapes a comma in values only: a key holding one could not
        // be written back (format_options), and no option is named so.
        if (key.find(',') != std::string::npos)
            return make_error(EINVAL, "option '" + item + "': the key '" + key +
                                          "' contains a ','");
        if (!out.emplace(key, item.substr(eq + 1)).second)
            return make_error(EINVAL, "option '" + key + "' given twice");
    }
    return out;
}

std::string format_options(const options &opts)
{
    std::string out;
    for (const auto &[k, v] : opts) {
        if (!out.empty())
            out += ',';
        out += k;
        out += '=';
        for (char c : v) {
            out += c;
            if (c == ',')
                out += ',';
        }
    }
    return out;
}

options sub_options(const options &opts, std::string_view child)
{
    options out;
    std::string prefix = std::string(child) + ".";
    for (const auto &[k, v] : opts)
        if (k.size() > prefix.size() && k.compare(0, prefix.size(), prefix) == 0)
            out.emplace(k.substr(prefix.size()), v);
    return out;
}

options take_sub_options(options &opts, std::string_view child)
{
    options out = sub_options(opts, child);
    std::string prefix = std::string(child) + ".";
    std::erase_if(opts, [&](const auto &kv) { return kv.first.starts_with(prefix); });
    return out;
}

result<std::uint64_t> parse_size(std::string_view text, std::string_view what)
{
    auto v = values::parse_size(text);
    if (!v)
        return make_error(EINVAL, std::string(what) + ": invalid value '" + std::string(text) +
                                      "': " + v.error);
    return v.value;
}

namespace {

// The last dotted component is "password" ("image.password").
bool is_password_key(std::string_view key)
{
    return key == "password" || key.ends_with(".password");
}

// An '@' outside any URL: the tail of a URL whose password held a ',' that was
// not doubled ("filename=iscsi://u%ab,c=d@h/iqn/0" parses as two options).
bool has_stray_at(std::string_view s)
{
    return s.find('@') < s.find("://");
}

// For text that is not well-formed options: hides at least what the parsed
// view would. url::redact_password over the whole text hides from the first
// '%' after the first "://" to the last '@', which holds every URL's password;
// a password= item is hidden up to the next single ','.
std::string redact_unparsed(std::string_view text)
{
    std::string out = url::redact_password(text);
    constexpr std::string_view key = "password=";
    for (auto p = out.find(key); p != std::string::npos; p = out.find(key, p + 1)) {
        if (p != 0 && out[p - 1] != ',' && out[p - 1] != '.')
            continue;
        auto begin = p + key.size(), end = begin;
        // ",," is part of the value; a single ',' ends it.
        while (end < out.size() && !(out[end] == ',' && out.compare(end, 2, ",,") != 0))
            end += out[end] == ',' ? 2 : 1;
        out.replace(begin, end - begin, "***");
    }
    return out;
}

}  // namespace

std::string redact_secrets(std::string_view text)
{
    if (!looks_like_options(text))
        return url::redact_password(text);
    auto opts = parse_options(text);
    if (!opts || std::ranges::any_of(*opts, [](const auto &kv) {
            // A key is never redacted, so any '@' in it (a URL typed as
            // a key) sends the whole text to the over-redacting path.
            return kv.first.find('@') != std::string::npos || has_stray_at(kv.second);
        }))
        return redact_unparsed(text);
    bool changed = false;
    for (auto &[k, v] : *opts) {
        std::string shown = is_password_key(k) ? "***" : url::redact_password(v);
        changed |= shown != v;
        v = std::move(shown);
    }
    // Unchanged text keeps its order: messages without secrets stay as typed.
    return changed ? format_options(*opts) : std::string(text);
}

result<bool> parse_bool(std::string_view text, std::string_view what)
{
    auto v = values::parse_bool(text);
    if (!v)
        return make_error(EINVAL, std::string(what) + ": invalid value '" + std::string(text) +
                                      "': " + v.error);
    return v.value;
}

}  // namespace granule
