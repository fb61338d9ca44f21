#include "config.hpp"

#include <granule/platform/system_error.hpp>

#include <cerrno>
#include <charconv>
#include <optional>

#include <sys/stat.h>
#include <unistd.h>

namespace granule_nbd {

using granule::sdk::fail;

namespace {

constexpr int max_timeout_s = 86400;
constexpr std::int64_t max_queue_depth = 1024;
constexpr const char *uri_forms =
    "nbd://host[:port]/export, nbd+unix:///export?socket=PATH, nbds:// and nbds+unix:// "
    "(TLS), nbd+vsock://cid[:port]/export";

bool starts_with_scheme(std::string_view s)
{
    for (auto p = uri_schemes; *p; ++p)
        if (s.starts_with(*p))
            return true;
    return false;
}

bool tls_scheme(std::string_view uri) { return uri.starts_with("nbds"); }

std::optional<int> parse_port(std::string_view s)
{
    int v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v < 1 || v > 65535)
        return std::nullopt;
    return v;
}

// A file or directory libnbd will read during the handshake: a missing one
// is named now, not as a TLS failure later.
void check_path(const char *key, const std::string &path, bool want_dir)
{
    if (path.empty())
        fail(EINVAL, std::string("option '") + key + "': empty path");
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || ::access(path.c_str(), R_OK) != 0) {
        int e = errno ? errno : EIO;
        fail(e, std::string("option '") + key + "': cannot read '" + path +
                    "': " + granule::platform::error_text(e));
    }
    if (want_dir != S_ISDIR(st.st_mode))
        fail(EINVAL, std::string("option '") + key + "': '" + path + "' is not a " +
                         (want_dir ? "directory" : "file"));
}

}  // namespace

const char *tls_name(tls_mode t) noexcept
{
    switch (t) {
    case tls_mode::off: return "off";
    case tls_mode::on: return "on";
    case tls_mode::require: return "require";
    }
    return "?";
}

std::string server_config::where() const
{
    switch (kind) {
    case transport::uri: return uri;
    case transport::unix_socket: return "unix socket " + path + ", export '" + export_name + "'";
    case transport::inet: {
        // A literal IPv6 address gets its brackets back for host:port.
        const bool v6 = host.find(':') != std::string::npos;
        return (v6 ? "[" + host + "]" : host) + ":" + port + ", export '" + export_name + "'";
    }
    }
    return "?";
}

server_config parse_config(const granule::sdk::options_view &o)
{
    server_config c;
    const auto filename = o.find("filename");
    const auto type = o.find("server.type");
    const auto host = o.find("server.host");
    const auto port = o.find("server.port");
    const auto path = o.find("server.path");
    const auto exp = o.find("export");
    const auto tls = o.find("tls");

    if (filename) {
        if (!starts_with_scheme(*filename))
            fail(EINVAL, "option 'filename': '" + std::string(*filename) +
                             "' is not an NBD URI (" + uri_forms + ")");
        for (const char *key : {"server.type", "server.host", "server.port", "server.path",
                                "export"})
            if (o.has(key))
                fail(EINVAL, std::string("option '") + key +
                                 "': give either 'filename' (an NBD URI, which names the server "
                                 "and the export) or the server.* keys and 'export', not both");
        if (tls)
            fail(EINVAL, "option 'tls': with 'filename' the URI's scheme decides TLS (nbds:// "
                         "and nbds+unix:// require it; nbd:// and nbd+unix:// turn it off)");
        c.kind = transport::uri;
        c.uri = std::string(*filename);
        c.tls = tls_scheme(c.uri) ? tls_mode::require : tls_mode::off;
    } else {
        std::string t;
        if (type) {
            t = std::string(*type);
            if (t != "inet" && t != "unix")
                fail(EINVAL, "option 'server.type': '" + t + "' is not inet or unix");
        } else if (path && !host) {
            t = "unix";
        } else if (host && !path) {
            t = "inet";
        } else if (host && path) {
            fail(EINVAL, "option 'server.path': a unix socket path and 'server.host' exclude "
                         "each other");
        } else {
            fail(EINVAL, "missing option 'filename' (an NBD URI: " + std::string(uri_forms) +
                             ") or 'server.type' (inet with 'server.host', unix with "
                             "'server.path')");
        }
        if (t == "inet") {
            if (path)
                fail(EINVAL, "option 'server.path': only for server.type=unix");
            if (!host || host->empty())
                fail(EINVAL, "missing option 'server.host' (server.type=inet)");
            c.kind = transport::inet;
            c.host = std::string(*host);
            // Brackets are URI syntax; libnbd takes the bare address.
            if (c.host.size() > 2 && c.host.front() == '[' && c.host.back() == ']')
                c.host = c.host.substr(1, c.host.size() - 2);
            if (port) {
                auto p = parse_port(*port);
                if (!p)
                    fail(EINVAL, "option 'server.port': '" + std::string(*port) +
                                     "' is not a number from 1 to 65535");
                c.port = std::to_string(*p);
            }
        } else {
            if (host)
                fail(EINVAL, "option 'server.host': only for server.type=inet");
            if (port)
                fail(EINVAL, "option 'server.port': only for server.type=inet");
            if (!path || path->empty())
                fail(EINVAL, "missing option 'server.path' (server.type=unix)");
            c.kind = transport::unix_socket;
            c.path = std::string(*path);
        }
        if (exp)
            c.export_name = std::string(*exp);
        if (c.export_name.size() > 4096)  // the NBD protocol's limit on names
            fail(EINVAL, "option 'export': longer than 4096 bytes");
        if (tls) {
            if (*tls == "off")
                c.tls = tls_mode::off;
            else if (*tls == "on")
                c.tls = tls_mode::on;
            else if (*tls == "require")
                c.tls = tls_mode::require;
            else
                fail(EINVAL, "option 'tls': '" + std::string(*tls) + "' is not off, on or require");
        }
    }

    for (const char *key : {"tls-certificates", "tls-psk-file", "tls-username"}) {
        if (!o.has(key) || c.tls != tls_mode::off)
            continue;
        if (c.kind == transport::uri)
            fail(EINVAL, std::string("option '") + key + "': the URI '" + c.uri +
                             "' does not use TLS (nbds://, nbds+unix:// do)");
        fail(EINVAL, std::string("option '") + key + "': needs tls=on or tls=require");
    }
    if (auto v = o.find("tls-certificates")) {
        c.tls_certificates = std::string(*v);
        check_path("tls-certificates", c.tls_certificates, true);
    }
    if (auto v = o.find("tls-psk-file")) {
        c.tls_psk_file = std::string(*v);
        check_path("tls-psk-file", c.tls_psk_file, false);
    }
    if (auto v = o.find("tls-username")) {
        if (v->empty())
            fail(EINVAL, "option 'tls-username': empty name");
        c.tls_username = std::string(*v);
    }

    c.timeout_s = static_cast<int>(o.get_int_in("timeout", 0, max_timeout_s, c.timeout_s, "seconds"));
    c.queue_depth =
        static_cast<unsigned>(o.get_int_in("queue-depth", 1, max_queue_depth, c.queue_depth));
    return c;
}

}  // namespace granule_nbd
