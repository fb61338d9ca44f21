#include "connection.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>

#include <poll.h>

namespace granule_nbd {

using granule::sdk::fail;
using clock = std::chrono::steady_clock;

std::string last_error()
{
    const char *e = nbd_get_error();
    return e && *e ? e : "unknown error";
}

int last_errno(int fallback)
{
    int e = nbd_get_errno();
    return e > 0 ? e : fallback;
}

namespace {

// A string libnbd allocated (nbd_get_uri, nbd_get_export_name).
std::string take(char *s)
{
    if (!s)
        return {};
    std::string out(s);
    std::free(s);
    return out;
}

bool flag(int r) { return r > 0; }  // nbd_can_* / nbd_is_*: -1 on error counts as no

bool pow2(std::uint64_t v) { return v && !(v & (v - 1)); }

void setup(nbd_handle *h, const server_config &cfg)
{
    auto check = [&](int r, const char *what) {
        if (r < 0)
            fail(last_errno(EINVAL), std::string(what) + ": " + last_error());
    };
    // Allocation from base:allocation, asked for before the handshake; the
    // server may not have it (nbd_can_meta_context says after connecting).
    check(nbd_add_meta_context(h, LIBNBD_CONTEXT_BASE_ALLOCATION), "nbd_add_meta_context");
    if (cfg.tls != tls_mode::off) {
        if (!flag(nbd_supports_tls(h)))
            fail(ENOTSUP, cfg.kind == transport::uri
                              ? "'" + cfg.uri + "' needs TLS, and this libnbd was built without it"
                              : std::string("tls=") + tls_name(cfg.tls) +
                                    ": this libnbd was built without TLS");
        if (cfg.kind != transport::uri)
            check(nbd_set_tls(h, cfg.tls == tls_mode::require ? LIBNBD_TLS_REQUIRE
                                                              : LIBNBD_TLS_ALLOW),
                  "nbd_set_tls");
        if (!cfg.tls_certificates.empty())
            check(nbd_set_tls_certificates(h, cfg.tls_certificates.c_str()),
                  "option 'tls-certificates'");
        if (!cfg.tls_psk_file.empty())
            check(nbd_set_tls_psk_file(h, cfg.tls_psk_file.c_str()), "option 'tls-psk-file'");
        if (!cfg.tls_username.empty())
            check(nbd_set_tls_username(h, cfg.tls_username.c_str()), "option 'tls-username'");
    }
    if (cfg.kind == transport::uri) {
        // The user wrote the URI: its tls-psk-file= and tls-certificates=
        // may name local files.
        check(nbd_set_uri_allow_local_file(h, true), "nbd_set_uri_allow_local_file");
    } else {
        check(nbd_set_export_name(h, cfg.export_name.c_str()), "option 'export'");
    }
}

// Drives the handshake until the handle is ready, failed, or the deadline.
void finish_handshake(nbd_handle *h, const server_config &cfg)
{
    const auto deadline = cfg.timeout_s ? clock::now() + std::chrono::seconds(cfg.timeout_s)
                                        : clock::time_point::max();
    while (nbd_aio_is_connecting(h)) {
        int wait_ms = -1;
        if (cfg.timeout_s) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
                                                                              clock::now());
            if (left.count() <= 0)
                fail(ETIMEDOUT, "no answer from " + cfg.where() + " within " +
                                    std::to_string(cfg.timeout_s) +
                                    " s (option 'timeout'): handshake not finished");
            wait_ms = static_cast<int>(std::min<long long>(left.count() + 1, 1000));
        }
        const unsigned dir = nbd_aio_get_direction(h);
        const int fd = nbd_aio_get_fd(h);
        if (fd < 0 || dir == 0) {  // nothing to wait for on the socket (yet)
            ::poll(nullptr, 0, 10);
            continue;
        }
        pollfd p{fd, 0, 0};
        if (dir & LIBNBD_AIO_DIRECTION_READ)
            p.events |= POLLIN;
        if (dir & LIBNBD_AIO_DIRECTION_WRITE)
            p.events |= POLLOUT;
        int n = ::poll(&p, 1, wait_ms);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            continue;
        int r = 0;
        if ((dir & LIBNBD_AIO_DIRECTION_READ) && (p.revents & (POLLIN | POLLHUP | POLLERR)))
            r = nbd_aio_notify_read(h);
        else if ((dir & LIBNBD_AIO_DIRECTION_WRITE) && (p.revents & (POLLOUT | POLLHUP | POLLERR)))
            r = nbd_aio_notify_write(h);
        if (r < 0)
            fail(last_errno(), "cannot connect to " + cfg.where() + ": " + last_error());
    }
    if (!nbd_aio_is_ready(h))
        fail(last_errno(), "cannot connect to " + cfg.where() + ": " + last_error());
}

export_facts read_facts(nbd_handle *h, const server_config &cfg)
{
    export_facts f;
    const std::int64_t size = nbd_get_size(h);
    if (size < 0)
        fail(last_errno(), cfg.where() + ": no export size: " + last_error());
    f.size = static_cast<std::uint64_t>(size);
    auto block = [&](int which) -> std::uint64_t {
        std::int64_t v = nbd_get_block_size(h, which);
        return v > 0 ? static_cast<std::uint64_t>(v) : 0;
    };
    f.min_block = block(LIBNBD_SIZE_MINIMUM);
    f.pref_block = block(LIBNBD_SIZE_PREFERRED);
    f.max_block = block(LIBNBD_SIZE_MAXIMUM);
    // The protocol: a power of two from 1 to 64 KiB, and the maximum a
    // multiple of it. Anything else is a server bug we cannot align to.
    if (f.min_block && (!pow2(f.min_block) || f.min_block > 65536))
        fail(EPROTO, cfg.where() + ": the server advertises a minimum block size of " +
                         std::to_string(f.min_block) + ", not a power of two from 1 to 65536");
    if (f.max_block && f.max_block < std::max<std::uint64_t>(f.min_block, 1))
        fail(EPROTO, cfg.where() + ": the server advertises a maximum block size of " +
                         std::to_string(f.max_block) + ", below its minimum of " +
                         std::to_string(f.min_block));
    f.read_only = flag(nbd_is_read_only(h));
    f.can_flush = flag(nbd_can_flush(h));
    f.can_fua = flag(nbd_can_fua(h));
    f.can_trim = flag(nbd_can_trim(h));
    f.can_zero = flag(nbd_can_zero(h));
    f.can_fast_zero = flag(nbd_can_fast_zero(h));
    f.can_multi_conn = flag(nbd_can_multi_conn(h));
    f.can_cache = flag(nbd_can_cache(h));
    f.can_df = flag(nbd_can_df(h));
    f.is_rotational = flag(nbd_is_rotational(h));
    f.base_allocation = flag(nbd_can_meta_context(h, LIBNBD_CONTEXT_BASE_ALLOCATION));
    f.structured_replies = flag(nbd_get_structured_replies_negotiated(h));
    f.tls_negotiated = flag(nbd_get_tls_negotiated(h));
    if (const char *p = nbd_get_protocol(h))
        f.protocol = p;
    f.export_name = take(nbd_get_export_name(h));
    f.uri = take(nbd_get_uri(h));
    return f;
}

}  // namespace

connection connect(const server_config &cfg)
{
    handle_ptr h(nbd_create());
    if (!h)
        fail(last_errno(ENOMEM), "nbd_create: " + last_error());
    setup(h.get(), cfg);
    int r = -1;
    switch (cfg.kind) {
    case transport::uri: r = nbd_aio_connect_uri(h.get(), cfg.uri.c_str()); break;
    case transport::unix_socket: r = nbd_aio_connect_unix(h.get(), cfg.path.c_str()); break;
    case transport::inet:
        r = nbd_aio_connect_tcp(h.get(), cfg.host.c_str(), cfg.port.c_str());
        break;
    }
    if (r < 0)
        fail(last_errno(), "cannot connect to " + cfg.where() + ": " + last_error());
    finish_handshake(h.get(), cfg);
    connection c;
    c.facts = read_facts(h.get(), cfg);
    c.server = c.facts.uri.empty() ? cfg.where() : c.facts.uri;
    c.handle = std::move(h);
    return c;
}

}  // namespace granule_nbd
