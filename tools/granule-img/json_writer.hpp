// JSON for granule-img's --output=json (RFC 8259), written as it goes:
// objects keep their keys in the order written, 4-space indentation like
// qemu-img's, one value per line, a final newline.
//
// Strings: the input is taken as UTF-8. '"' and '\' are escaped, control
// characters (U+0000..U+001F and U+007F) are written as \u00XX, valid UTF-8
// passes through, and every byte that is not part of a valid UTF-8 sequence
// (overlong forms, surrogates, above U+10FFFF, truncated sequences
// included) becomes \ufffd, so the output is always valid UTF-8 and valid
// JSON; the human output shows such bytes as they are (a filename in
// another encoding, say). Numbers: integers exactly; doubles as the
// shortest text that reads back the same, and a non-finite double as null.
//
// Misuse (a value without a key inside an object, a container left open)
// is a programming error: assert.
#pragma once

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace granule_img {

// text as a JSON string literal, quotes included (the rules above).
std::string json_quote(std::string_view text);

class json_writer {
public:
    json_writer &begin_object();
    json_writer &end_object();
    json_writer &begin_array();
    json_writer &end_array();
    // Inside an object: the next value's key.
    json_writer &key(std::string_view name);

    json_writer &string(std::string_view text);
    template <std::integral T>
        requires(!std::same_as<T, bool>)
    json_writer &number(T v)
    {
        if constexpr (std::is_signed_v<T>)
            return raw(std::to_string(static_cast<long long>(v)));
        else
            return raw(std::to_string(static_cast<unsigned long long>(v)));
    }
    json_writer &number(double v);
    json_writer &boolean(bool v);
    json_writer &null();

    // key(name) and the value.
    json_writer &member(std::string_view name, std::string_view text) { return key(name).string(text); }
    json_writer &member(std::string_view name, const char *text) { return key(name).string(text); }
    json_writer &member(std::string_view name, const std::string &text) { return key(name).string(text); }
    template <std::integral T>
        requires(!std::same_as<T, bool>)
    json_writer &member(std::string_view name, T v)
    {
        return key(name).number(v);
    }
    json_writer &member(std::string_view name, double v) { return key(name).number(v); }
    json_writer &member(std::string_view name, bool v) { return key(name).boolean(v); }

    // The document so far; complete (with its final newline) once the
    // outermost container is closed.
    const std::string &text() const { return out_; }

private:
    json_writer &raw(std::string_view token);
    void before_value();
    json_writer &open(char bracket);
    json_writer &close(char bracket);

    struct level {
        bool object;
        bool empty = true;
    };
    std::string out_;
    std::vector<level> stack_;
    bool after_key_ = false;
};

}  // namespace granule_img
