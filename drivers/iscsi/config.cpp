#include "config.hpp"

#include <granule/platform/system_error.hpp>
#include <granule/url.hpp>

#include <cerrno>
#include <charconv>
#include <fstream>
#include <optional>
#include <sstream>

namespace granule_iscsi {

using granule::sdk::fail;

namespace {

constexpr std::string_view scheme = "iscsi://";
constexpr int default_port = 3260;
constexpr int max_lun = 16383;          // SAM flat addressing, what libiscsi encodes
constexpr int max_timeout_s = 86400;
constexpr std::int64_t max_queue_depth = 1024;

struct url_parts {
    std::string user;
    std::optional<std::string> password;
    std::string portal;
    std::string target;
    int lun = 0;
};

std::optional<int> parse_int(std::string_view s)
{
    int v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size())
        return std::nullopt;
    return v;
}

// "%3A" -> ":" as libiscsi does for target names. Returns nullopt on a bad escape.
std::optional<std::string> percent_decode(std::string_view s)
{
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out += s[i];
            continue;
        }
        unsigned v = 0;
        if (i + 2 >= s.size())
            return std::nullopt;
        auto [end, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
        if (ec != std::errc() || end != s.data() + i + 3)
            return std::nullopt;
        out += static_cast<char>(v);
        i += 2;
    }
    return out;
}

// host, host:port, [v6], [v6]:port -> "host:port" / "[v6]:port". Returns the
// reason on failure.
std::optional<std::string> normalise_portal(std::string_view p, std::string &why)
{
    std::string_view host, port;
    if (!p.empty() && p[0] == '[') {
        auto close = p.find(']');
        if (close == std::string_view::npos) {
            why = "unterminated '[' of an IPv6 address";
            return std::nullopt;
        }
        host = p.substr(0, close + 1);
        auto rest = p.substr(close + 1);
        if (!rest.empty()) {
            if (rest[0] != ':') {
                why = "expected ':port' after ']'";
                return std::nullopt;
            }
            port = rest.substr(1);
        }
    } else {
        auto colon = p.find(':');
        host = p.substr(0, colon);
        if (colon != std::string_view::npos)
            port = p.substr(colon + 1);
        if (port.find(':') != std::string_view::npos) {
            why = "an IPv6 address needs brackets ([::1]:3260)";
            return std::nullopt;
        }
    }
    if (host.empty() || host == "[]") {
        why = "no host";
        return std::nullopt;
    }
    int n = default_port;
    if (port.empty()) {
        if (p.back() == ':') {
            why = "empty port";
            return std::nullopt;
        }
    } else if (auto v = parse_int(port); !v || *v < 1 || *v > 65535) {
        why = "port '" + std::string(port) + "' is not a number from 1 to 65535";
        return std::nullopt;
    } else {
        n = *v;
    }
    return std::string(host) + ":" + std::to_string(n);
}

std::optional<url_parts> parse_url(std::string_view url, std::string &why)
{
    if (url.substr(0, scheme.size()) != scheme) {
        why = "does not start with iscsi://";
        return std::nullopt;
    }
    url_parts u;
    // The core's redact_secrets() hides what this finds (granule/url.hpp).
    if (auto info = granule::url::find_user_info(url); info.found()) {
        u.user = std::string(info.user(url));
        if (info.has_password())
            u.password = std::string(info.password(url));
        if (u.user.empty()) {
            why = "empty user name before '@'";
            return std::nullopt;
        }
        url.remove_prefix(info.at + 1);
    } else {
        url.remove_prefix(scheme.size());
    }
    auto slash = url.find('/');
    if (slash == std::string_view::npos) {
        why = "no /target-iqn/lun after the host";
        return std::nullopt;
    }
    auto portal = normalise_portal(url.substr(0, slash), why);
    if (!portal)
        return std::nullopt;
    u.portal = *portal;
    url.remove_prefix(slash + 1);
    auto last = url.rfind('/');
    if (last == std::string_view::npos || last == 0) {
        why = last == 0 ? "empty target name" : "no /lun after the target name";
        return std::nullopt;
    }
    auto target = percent_decode(url.substr(0, last));
    if (!target) {
        why = "bad %-escape in the target name";
        return std::nullopt;
    }
    if (target->find('/') != std::string::npos) {
        why = "target name contains '/'";
        return std::nullopt;
    }
    u.target = *target;
    auto lun = parse_int(url.substr(last + 1));
    if (!lun || *lun < 0 || *lun > max_lun) {
        why = "LUN '" + std::string(url.substr(last + 1)) + "' is not a number from 0 to " +
              std::to_string(max_lun);
        return std::nullopt;
    }
    u.lun = *lun;
    return u;
}

std::string read_password_file(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        int e = errno;
        fail(e ? e : EIO, "option 'password-file': cannot read '" + path +
                              "': " + granule::platform::error_text(e ? e : EIO));
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    std::string pw = ss.str();
    // One trailing newline is the file's, not the password's (echo pw > file).
    if (!pw.empty() && pw.back() == '\n')
        pw.pop_back();
    if (!pw.empty() && pw.back() == '\r')
        pw.pop_back();
    if (pw.empty())
        fail(EINVAL, "option 'password-file': '" + path + "' holds an empty password");
    if (pw.find('\n') != std::string::npos)
        fail(EINVAL, "option 'password-file': '" + path + "' has more than one line");
    return pw;
}

// Takes `value` from option `key` unless the URL already gave a different one.
template <class T>
void merge(T &field, const std::optional<T> &from_url, const std::optional<T> &from_key,
           const char *key, const std::string &shown_key_value, const std::string &shown_url_value)
{
    if (from_url && from_key && *from_url != *from_key)
        fail(EINVAL, std::string("option '") + key + "': '" + shown_key_value +
                         "' conflicts with '" + shown_url_value + "' from option 'filename'");
    if (from_key)
        field = *from_key;
    else if (from_url)
        field = *from_url;
}

}  // namespace

std::string target_config::where() const
{
    return "portal " + portal + ", target " + target + ", lun " + std::to_string(lun);
}

std::string target_config::url() const
{
    return std::string(scheme) + (user.empty() ? "" : user + "@") + portal + "/" + target + "/" +
           std::to_string(lun);
}

std::string redact_url(const std::string &url)
{
    return granule::url::redact_password(url);
}

target_config parse_config(const granule::sdk::options_view &o)
{
    target_config c;
    std::optional<url_parts> url;
    if (auto f = o.find("filename")) {
        std::string why;
        url = parse_url(*f, why);
        if (!url)
            fail(EINVAL, "option 'filename': '" + redact_url(std::string(*f)) +
                             "' is not an iSCSI URL (iscsi://[user[%password]@]host[:port]/"
                             "target-iqn/lun): " + why);
    }

    std::optional<std::string> portal;
    if (auto p = o.find("portal")) {
        std::string why;
        portal = normalise_portal(*p, why);
        if (!portal)
            fail(EINVAL, "option 'portal': '" + std::string(*p) + "' is not host[:port]: " + why);
    }
    std::optional<std::string> target;
    if (auto t = o.find("target")) {
        if (t->empty())
            fail(EINVAL, "option 'target': empty target name");
        target = std::string(*t);
    }
    std::optional<int> lun;
    if (o.has("lun")) {
        auto v = o.get_int("lun");
        if (v < 0 || v > max_lun)
            fail(EINVAL, "option 'lun': " + std::to_string(v) + " is not from 0 to " +
                             std::to_string(max_lun));
        lun = static_cast<int>(v);
    }
    if (!url) {
        const char *missing = !portal ? "portal" : !target ? "target" : !lun ? "lun" : nullptr;
        if (missing)
            fail(EINVAL, std::string("missing option '") + missing +
                             "' (give 'filename=iscsi://host[:port]/target-iqn/lun', or "
                             "'portal', 'target' and 'lun')");
    }
    auto u_portal = url ? std::optional(url->portal) : std::nullopt;
    auto u_target = url ? std::optional(url->target) : std::nullopt;
    auto u_lun = url ? std::optional(url->lun) : std::nullopt;
    merge(c.portal, u_portal, portal, "portal", portal.value_or(""), u_portal.value_or(""));
    merge(c.target, u_target, target, "target", target.value_or(""), u_target.value_or(""));
    merge(c.lun, u_lun, lun, "lun", std::to_string(lun.value_or(0)),
          std::to_string(u_lun.value_or(0)));

    std::optional<std::string> user;
    if (auto v = o.find("user")) {
        if (v->empty())
            fail(EINVAL, "option 'user': empty user name");
        user = std::string(*v);
    }
    auto u_user = url && !url->user.empty() ? std::optional(url->user) : std::nullopt;
    merge(c.user, u_user, user, "user", user.value_or(""), u_user.value_or(""));

    if (auto pf = o.find("password-file")) {
        if (url && url->password)
            fail(EINVAL, "option 'password-file': the URL in option 'filename' already "
                         "carries a password; give only one");
        c.password = read_password_file(std::string(*pf));
    } else if (url && url->password) {
        c.password = *url->password;
        if (c.password.empty())
            fail(EINVAL, "option 'filename': empty password after '%' in the URL");
    }
    if (!c.password.empty() && c.user.empty())
        fail(EINVAL, "option 'password-file': a password needs a CHAP user (option 'user' "
                     "or user@ in the URL)");
    if (!c.user.empty() && c.password.empty())
        fail(EINVAL, "option 'user': CHAP user '" + c.user +
                         "' has no password (give option 'password-file')");

    if (auto v = o.find("initiator-name")) {
        if (v->empty() || v->find_first_of(" \t\r\n") != std::string_view::npos)
            fail(EINVAL, "option 'initiator-name': '" + std::string(*v) +
                             "' is not an iSCSI name (iqn.YYYY-MM.domain:name)");
        c.initiator = std::string(*v);
    }
    if (auto v = o.find("header-digest")) {
        static const std::pair<std::string_view, iscsi_header_digest> digests[] = {
            {"none", ISCSI_HEADER_DIGEST_NONE},
            {"crc32c", ISCSI_HEADER_DIGEST_CRC32C},
            {"none-crc32c", ISCSI_HEADER_DIGEST_NONE_CRC32C},
            {"crc32c-none", ISCSI_HEADER_DIGEST_CRC32C_NONE},
        };
        bool found = false;
        for (auto [name, d] : digests)
            if (*v == name) {
                c.digest = d;
                c.digest_name = std::string(name);
                found = true;
            }
        if (!found)
            fail(EINVAL, "option 'header-digest': '" + std::string(*v) +
                             "' is not one of none, crc32c, none-crc32c, crc32c-none");
    }
    c.timeout_s = static_cast<int>(o.get_int_in("timeout", 0, max_timeout_s, c.timeout_s, "seconds"));
    c.queue_depth =
        static_cast<unsigned>(o.get_int_in("queue-depth", 1, max_queue_depth, c.queue_depth));
    return c;
}

}  // namespace granule_iscsi
