// The user info of a URL, "scheme://[user[%password]@]rest" (the iscsi://
// syntax of libiscsi and QEMU). The one parser shared by the core's
// redact_secrets() and the iscsi driver, so that the password the driver logs
// in with is exactly what the core hides. Header-only and standard C++ only:
// driver plugins include the core's headers but never link libgranule.
//
// Contract (positions are byte offsets into the string passed in; npos means
// "absent"):
// - The user info starts just after the FIRST "://" and ends at the LAST '@'
//   of the string: target names and LUNs never contain an '@', passwords may.
//   No "://", or no '@' after it: no user info, every position is npos.
// - The user runs up to the first '%' in the user info (or to the '@'); the
//   password is everything after that '%' up to the '@', possibly empty
//   ("u%@host"), with any byte in it ('/', '@', '%', ':', '?', '#', ',').
// - Nothing is percent-decoded: libiscsi takes the password as written, so a
//   "%2F" in it is three bytes of the secret.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace granule::url {

inline constexpr std::size_t npos = std::string_view::npos;

struct user_info {
    std::size_t user_begin = npos;      // first byte of the user, just after "://"
    std::size_t password_begin = npos;  // first byte after the '%'; npos: no password
    std::size_t at = npos;              // the '@' ending the user info; npos: none

    constexpr bool found() const { return at != npos; }
    constexpr bool has_password() const { return password_begin != npos; }
    // Views into the url these positions came from; empty when absent.
    constexpr std::string_view user(std::string_view url) const
    {
        if (!found())
            return {};
        return url.substr(user_begin, (has_password() ? password_begin - 1 : at) - user_begin);
    }
    constexpr std::string_view password(std::string_view url) const
    {
        return has_password() ? url.substr(password_begin, at - password_begin)
                              : std::string_view{};
    }
};

constexpr user_info find_user_info(std::string_view url)
{
    user_info u;
    const auto scheme = url.find("://");
    const auto at = url.rfind('@');
    if (scheme == npos || at == npos || at < scheme + 3)
        return u;
    u.user_begin = scheme + 3;
    u.at = at;
    if (auto pct = url.substr(u.user_begin, at - u.user_begin).find('%'); pct != npos)
        u.password_begin = u.user_begin + pct + 1;
    return u;
}

// url with its password, even an empty one, replaced by "***"
// ("iscsi://u%***@host/iqn/0"); url unchanged when it has none. Applied to any
// text, it hides from the first '%' after the first "://" to the last '@':
// every later URL's password lies inside that span.
inline std::string redact_password(std::string_view url)
{
    std::string out(url);
    if (auto u = find_user_info(url); u.has_password())
        out.replace(u.password_begin, u.at - u.password_begin, "***");
    return out;
}

}  // namespace granule::url
