// What an nbd node connects to, parsed from the options: an NBD URI in
// `filename` (libnbd parses it at connect), or the dotted keys server.type,
// server.host, server.port, server.path and export. TLS keys apply to both.
// No secret lives here: a PSK is only ever named by its file (libnbd reads it).
#pragma once

#include <granule/driver.hpp>

#include <string>

namespace granule_nbd {

enum class transport { uri, unix_socket, inet };
// off: LIBNBD_TLS_DISABLE, on: LIBNBD_TLS_ALLOW (TLS when the server offers
// it, else plain), require: LIBNBD_TLS_REQUIRE.
enum class tls_mode { off, on, require };

struct server_config {
    transport kind = transport::uri;
    std::string uri;          // filename=, as given (kind == uri)
    std::string host;         // server.host (inet)
    std::string port = "10809";
    std::string path;         // server.path (unix)
    std::string export_name;  // export= (not for a URI: its path is the export)
    tls_mode tls = tls_mode::off;  // a URI's scheme decides (nbds*: require)
    std::string tls_certificates;  // directory (x509)
    std::string tls_psk_file;      // "username:hexkey" lines (nbdkit --tls-psk format)
    std::string tls_username;      // PSK identity (libnbd's default: the login name)
    int timeout_s = 30;            // connect/handshake and each request; 0 = none
    unsigned queue_depth = 32;     // NBD commands in flight at most

    // The server as messages name it before the connection exists: the URI,
    // "unix socket PATH" or "HOST:PORT", with the export for the dotted form.
    std::string where() const;
};

// The URI schemes libnbd 1.14 connects to; the driver claims these prefixes.
inline constexpr const char *uri_schemes[] = {"nbd://",      "nbds://",      "nbd+unix://",
                                               "nbds+unix://", "nbd+vsock://", "nbds+vsock://",
                                               nullptr};

// Throws granule::sdk::driver_error(EINVAL, ...) naming the option at fault.
server_config parse_config(const granule::sdk::options_view &options);

const char *tls_name(tls_mode t) noexcept;

}  // namespace granule_nbd
