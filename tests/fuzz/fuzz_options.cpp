// fuzz_options: the option text functions of core/include/granule/options.hpp.
//
// Proves, for any input text x:
// - parse_options never crashes; when it succeeds, format_options(parse(x))
//   parses again to the same map and is a fixed point of format(parse(.));
// - parse_size / parse_bool never crash, their errors name what was parsed,
//   a parsed size reads back from its decimal and hex forms, and where the
//   driver SDK's parse_size / parse_bool (granule/driver.hpp) also accept the
//   text they agree on the value;
// - looks_like_options and redact_secrets never throw;
// - redact_secrets never shows a URL password: x is cut at its first two
//   newlines into PREFIX, USER and REST, and the options text
//   PREFIX,filename=iscsi://USER%P@REST (and the bare URL) must come out
//   without P, a marker made from the input that x does not contain.
#include "fuzz_common.hpp"

#include <granule/driver.hpp>
#include <granule/options.hpp>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

using granule_fuzz::fail;
using granule_fuzz::printable;

void check_round_trip(std::string_view x)
{
    auto parsed = granule::parse_options(x);
    if (!parsed)
        return;
    std::string text = granule::format_options(*parsed);
    auto again = granule::parse_options(text);
    if (!again)
        fail("parse_options(" + printable(x) + ") succeeded, but its format_options " +
             printable(text) + " does not parse: " + again.error().message);
    if (*again != *parsed)
        fail("parse(format(parse(" + printable(x) + "))) differs from parse(x); format gave " +
             printable(text));
    if (granule::format_options(*again) != text)
        fail("format_options is not a fixed point for " + printable(text));
}

void check_size(std::string_view x)
{
    auto v = granule::parse_size(x, "fuzz-size");
    if (!v) {
        if (v.error().message.rfind("fuzz-size", 0) != 0)
            fail("parse_size error does not name what it parsed: " + printable(v.error().message));
        return;
    }
    auto dec = granule::parse_size(std::to_string(*v), "dec");
    if (!dec || *dec != *v)
        fail("parse_size(" + printable(x) + ") = " + std::to_string(*v) +
             ", but its decimal form does not read back");
    char hex[32];
    std::snprintf(hex, sizeof hex, "0x%llx", static_cast<unsigned long long>(*v));
    auto h = granule::parse_size(hex, "hex");
    if (!h || *h != *v)
        fail("parse_size(" + printable(x) + ") = " + std::to_string(*v) + ", but " + hex +
             " does not read back");
    if (auto sdk = granule::sdk::parse_size(x); sdk && *sdk != *v)
        fail("parse_size(" + printable(x) + ") = " + std::to_string(*v) +
             " but the driver SDK's parse_size says " + std::to_string(*sdk));
}

void check_bool(std::string_view x)
{
    auto b = granule::parse_bool(x, "fuzz-bool");
    auto sdk = granule::sdk::parse_bool(x);
    if (b.has_value() != sdk.has_value() || (b && *b != *sdk))
        fail("parse_bool(" + printable(x) + ") and the driver SDK's parse_bool disagree");
}

std::string redact(std::string_view text)
{
    try {
        return granule::redact_secrets(text);
    } catch (const std::exception &e) {
        fail("redact_secrets(" + printable(text) + ") threw: " + e.what());
    } catch (...) {
        fail("redact_secrets(" + printable(text) + ") threw a non-std exception");
    }
}

// A marker that x does not contain, derived from x.
std::string marker_for(std::string_view x)
{
    auto h = granule_fuzz::hash(x);
    for (;;) {
        char m[32];
        std::snprintf(m, sizeof m, "Pw%016llx", static_cast<unsigned long long>(h));
        if (x.find(m) == std::string_view::npos)
            return m;
        h = granule_fuzz::hash("again", h);
    }
}

void check_password_hidden(std::string_view x)
{
    std::string_view prefix = x, user = "u", rest = "host/iqn.2026-11.org.granule:t/0";
    if (auto nl = x.find('\n'); nl != std::string_view::npos) {
        prefix = x.substr(0, nl);
        user = x.substr(nl + 1);
        if (auto nl2 = user.find('\n'); nl2 != std::string_view::npos) {
            rest = user.substr(nl2 + 1);
            user = user.substr(0, nl2);
        }
    }
    const std::string p = marker_for(x);
    const std::string url = "iscsi://" + std::string(user) + "%" + p + "@" + std::string(rest);
    for (const std::string &text : {std::string(prefix) + ",filename=" + url, url}) {
        auto shown = redact(text);
        if (shown.find(p) != std::string::npos)
            fail("redact_secrets shows the password " + p + ": input " + printable(text) +
                 ", output " + printable(shown));
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    std::string_view x(reinterpret_cast<const char *>(data), size);
    check_round_trip(x);
    check_size(x);
    check_bool(x);
    (void)granule::looks_like_options(x);
    (void)redact(x);
    check_password_hidden(x);
    return 0;
}
