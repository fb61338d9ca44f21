#include "json_writer.hpp"

#include <cassert>
#include <charconv>
#include <cmath>

namespace granule_img {

namespace {

// Length of the valid UTF-8 sequence at s[i], 0 when it is none (RFC 3629:
// no overlong forms, no surrogates, nothing above U+10FFFF).
std::size_t utf8_sequence(std::string_view s, std::size_t i)
{
    const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
    const unsigned char c = b(0);
    std::size_t n;
    unsigned char lo = 0x80, hi = 0xbf;  // the second byte's range
    if (c < 0x80)
        return 1;
    else if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0)
            lo = 0xa0;  // overlong
        else if (c == 0xed)
            hi = 0x9f;  // surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0)
            lo = 0x90;  // overlong
        else if (c == 0xf4)
            hi = 0x8f;  // above U+10FFFF
    } else
        return 0;  // a continuation byte, 0xc0/0xc1 (overlong), 0xf5..0xff
    if (i + n > s.size() || b(1) < lo || b(1) > hi)
        return 0;
    for (std::size_t k = 2; k < n; ++k)
        if (b(k) < 0x80 || b(k) > 0xbf)
            return 0;
    return n;
}

}  // namespace

std::string json_quote(std::string_view text)
{
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(text.size() + 2);
    out += '"';
    for (std::size_t i = 0; i < text.size();) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
            ++i;
        } else if (c < 0x20 || c == 0x7f) {
            out += "\\u00";
            out += hex[c >> 4];
            out += hex[c & 15];
            ++i;
        } else if (std::size_t n = utf8_sequence(text, i)) {
            out.append(text.substr(i, n));
            i += n;
        } else {
            out += "\\ufffd";
            ++i;
        }
    }
    out += '"';
    return out;
}

void json_writer::before_value()
{
    if (stack_.empty()) {
        assert(out_.empty() && "one top-level value");
        return;
    }
    level &l = stack_.back();
    if (l.object) {
        assert(after_key_ && "a value in an object needs a key");
        after_key_ = false;
        return;
    }
    out_ += l.empty ? "\n" : ",\n";
    out_.append(4 * stack_.size(), ' ');
    l.empty = false;
}

json_writer &json_writer::key(std::string_view name)
{
    assert(!stack_.empty() && stack_.back().object && !after_key_);
    level &l = stack_.back();
    out_ += l.empty ? "\n" : ",\n";
    out_.append(4 * stack_.size(), ' ');
    l.empty = false;
    out_ += json_quote(name);
    out_ += ": ";
    after_key_ = true;
    return *this;
}

json_writer &json_writer::open(char bracket)
{
    before_value();
    out_ += bracket;
    stack_.push_back({bracket == '{'});
    return *this;
}

json_writer &json_writer::close(char bracket)
{
    assert(!stack_.empty() && stack_.back().object == (bracket == '}') && !after_key_);
    const bool empty = stack_.back().empty;
    stack_.pop_back();
    if (!empty) {
        out_ += '\n';
        out_.append(4 * stack_.size(), ' ');
    }
    out_ += bracket;
    if (stack_.empty())
        out_ += '\n';
    return *this;
}

json_writer &json_writer::begin_object() { return open('{'); }
json_writer &json_writer::end_object() { return close('}'); }
json_writer &json_writer::begin_array() { return open('['); }
json_writer &json_writer::end_array() { return close(']'); }

json_writer &json_writer::raw(std::string_view token)
{
    before_value();
    out_ += token;
    if (stack_.empty())
        out_ += '\n';
    return *this;
}

json_writer &json_writer::string(std::string_view text) { return raw(json_quote(text)); }

json_writer &json_writer::number(double v)
{
    if (!std::isfinite(v))
        return null();
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    return raw(std::string_view(buf, static_cast<std::size_t>(r.ptr - buf)));
}

json_writer &json_writer::boolean(bool v) { return raw(v ? "true" : "false"); }
json_writer &json_writer::null() { return raw("null"); }

}  // namespace granule_img
