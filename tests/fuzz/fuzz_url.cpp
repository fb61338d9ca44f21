// fuzz_url: the URL user-info parser (core/include/granule/url.hpp) and the
// iscsi driver's option parser (drivers/iscsi/config.cpp, compiled in).
//
// Proves, for any input:
// - find_user_info never crashes and keeps its contract: the user info runs
//   from just after the first "://" to the last '@', the password starts
//   after the first '%' in it, and user()/password() are views inside the URL;
// - redact_password replaces exactly that password by "***", leaves a URL
//   without one unchanged, and is idempotent;
// - parse_config (iscsi) never crashes and fails only with the SDK's
//   granule::sdk::driver_error; neither its error message nor the
//   config's where()/url() shows the URL's password. The input is read as
//   dotted options (else as the value of filename=); the password is then
//   replaced by a marker the input does not contain, so finding the marker in
//   a message means the password leaked. password-file= is pointed at a file
//   of this harness holding the option's value, so no other file is read.
#include "fuzz_common.hpp"

#include <granule/options.hpp>
#include <granule/url.hpp>

#ifdef GRANULE_FUZZ_ISCSI_CONFIG
#include "config.hpp"

#include <cstdio>
#include <fstream>
#include <unistd.h>
#include <vector>
#endif

#include <cstdint>
#include <string>
#include <string_view>

namespace {

using granule_fuzz::fail;
using granule_fuzz::printable;
namespace url = granule::url;

void check_user_info(std::string_view u)
{
    const auto info = url::find_user_info(u);
    const auto scheme = u.find("://");
    const auto at = u.rfind('@');
    if (!info.found()) {
        if (info.has_password() || info.user_begin != url::npos)
            fail("find_user_info(" + printable(u) + "): no '@' but positions set");
        if (scheme != url::npos && at != url::npos && at >= scheme + 3)
            fail("find_user_info(" + printable(u) + ") missed the user info");
        if (url::redact_password(u) != u)
            fail("redact_password changed " + printable(u) + ", which has no password");
        return;
    }
    if (info.user_begin != scheme + 3 || info.at != at || info.at < info.user_begin)
        fail("find_user_info(" + printable(u) + ") does not span first \"://\" to last '@'");
    auto span = u.substr(info.user_begin, info.at - info.user_begin);
    auto user = info.user(u);
    auto pw = info.password(u);
    if (user.data() != u.data() + info.user_begin || user.find('%') != url::npos)
        fail("find_user_info(" + printable(u) + "): user " + printable(user) + " is wrong");
    const std::string shown = url::redact_password(u);
    if (!info.has_password()) {
        if (span.find('%') != url::npos)
            fail("find_user_info(" + printable(u) + ") missed the '%' of a password");
        if (shown != u)
            fail("redact_password changed " + printable(u) + ", which has no password");
        return;
    }
    if (u[info.password_begin - 1] != '%' || info.password_begin > info.at ||
        pw.data() != u.data() + info.password_begin || pw.size() != info.at - info.password_begin)
        fail("find_user_info(" + printable(u) + "): password " + printable(pw) + " is misplaced");
    const std::string expect = std::string(u.substr(0, info.password_begin)) + "***" +
                               std::string(u.substr(info.at));
    if (shown != expect)
        fail("redact_password(" + printable(u) + ") = " + printable(shown) + ", expected " +
             printable(expect));
    if (url::redact_password(shown) != shown)
        fail("redact_password is not idempotent on " + printable(u));
}

#ifdef GRANULE_FUZZ_ISCSI_CONFIG

// password-file= values land here, one file per process.
const std::string &password_file()
{
    static const std::string path = [] {
        const char *dir = std::getenv("TMPDIR");
        return std::string(dir && *dir ? dir : "/tmp") + "/granule-fuzz-url-pw." +
               std::to_string(::getpid());
    }();
    return path;
}

void check_config(const granule::options &opts_in, std::string_view what)
{
    granule::options opts = opts_in;
    // The password of the filename URL, swapped for a marker.
    std::string marker;
    if (auto f = opts.find("filename"); f != opts.end()) {
        auto info = url::find_user_info(f->second);
        if (info.has_password() && info.at > info.password_begin) {
            auto h = granule_fuzz::hash(what);
            do {
                char m[32];
                std::snprintf(m, sizeof m, "Sx%016llx", static_cast<unsigned long long>(h));
                marker = m;
                h = granule_fuzz::hash("again", h);
            } while (what.find(marker) != std::string_view::npos);
            f->second.replace(info.password_begin, info.at - info.password_begin, marker);
        }
    }
    if (auto pf = opts.find("password-file"); pf != opts.end()) {
        std::ofstream(password_file(), std::ios::binary | std::ios::trunc) << pf->second;
        pf->second = password_file();
    }
    std::vector<granule_option> abi;
    for (const auto &[k, v] : opts)
        abi.push_back({k.c_str(), v.c_str()});
    auto leaks = [&](std::string_view text) {
        return !marker.empty() && text.find(marker) != std::string_view::npos;
    };
    try {
        auto c = granule_iscsi::parse_config(
            granule::sdk::options_view(abi.data(), static_cast<std::uint32_t>(abi.size())));
        if (leaks(c.where()) || leaks(c.url()))
            fail("iscsi target_config shows the URL password: " + printable(c.url()) + " / " +
                 printable(c.where()) + " for " + printable(what));
        if (!marker.empty() && c.password != marker)
            fail("iscsi parse_config took password " + printable(c.password) + ", the URL has " +
                 marker + " (" + printable(what) + ")");
    } catch (const granule::sdk::driver_error &e) {
        if (leaks(e.what()))
            fail("iscsi parse_config error shows the URL password: " + printable(e.what()) +
                 " for " + printable(what));
        if (e.code() <= 0)
            fail(std::string("iscsi parse_config error code ") + std::to_string(e.code()) +
                 " is not a positive errno: " + e.what());
    } catch (const std::exception &e) {
        fail("iscsi parse_config threw a non-SDK exception for " + printable(what) + ": " + e.what());
    } catch (...) {
        fail("iscsi parse_config threw a non-std exception for " + printable(what));
    }
}

#endif

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    std::string_view x(reinterpret_cast<const char *>(data), size);
    check_user_info(x);
#ifdef GRANULE_FUZZ_ISCSI_CONFIG
    // NUL cannot be inside a C option string: the ABI would cut it there.
    if (x.find('\0') != std::string_view::npos)
        return 0;
    if (auto opts = granule::parse_options(x)) {
        for (const auto &kv : *opts)
            check_user_info(kv.second);
        check_config(*opts, x);
    }
    check_config(granule::options{{"filename", std::string(x)}}, x);
#endif
    return 0;
}
