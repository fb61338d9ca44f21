#include "tls.hpp"

#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include <gnutls/gnutls.h>

#include <filesystem>
#include <stdexcept>

namespace asio = boost::asio;

namespace granule_nbd {

namespace {

[[noreturn]] void throw_tls(int code, const char *what)
{
    throw std::runtime_error(std::string(what) + ": " + gnutls_strerror(code));
}

// gnutls_global_init is reference-counted; one per credentials object.
struct global_init {
    global_init() { gnutls_global_init(); }
    ~global_init() { gnutls_global_deinit(); }
};

}  // namespace

struct tls_credentials::impl {
    global_init init;
    gnutls_certificate_credentials_t x509 = nullptr;
    gnutls_psk_server_credentials_t psk = nullptr;
    ~impl()
    {
        if (x509)
            gnutls_certificate_free_credentials(x509);
        if (psk)
            gnutls_psk_free_server_credentials(psk);
    }
};

tls_credentials::tls_credentials(std::unique_ptr<impl> i) : impl_(std::move(i)) {}
tls_credentials::~tls_credentials() = default;

std::shared_ptr<tls_credentials> tls_credentials::x509(const std::string &dir, std::string &error)
{
    auto i = std::make_unique<impl>();
    const auto cert = (std::filesystem::path(dir) / "server-cert.pem").string();
    const auto key = (std::filesystem::path(dir) / "server-key.pem").string();
    for (const auto &f : {cert, key})
        if (!std::filesystem::is_regular_file(f)) {
            error = "--tls-certs " + dir + ": no " + f;
            return nullptr;
        }
    gnutls_certificate_allocate_credentials(&i->x509);
    if (int r = gnutls_certificate_set_x509_key_file(i->x509, cert.c_str(), key.c_str(),
                                                     GNUTLS_X509_FMT_PEM);
        r < 0) {
        error = "--tls-certs " + dir + ": loading " + cert + " and " + key + ": " + gnutls_strerror(r);
        return nullptr;
    }
    return std::shared_ptr<tls_credentials>(new tls_credentials(std::move(i)));
}

std::shared_ptr<tls_credentials> tls_credentials::psk(const std::string &file, std::string &error)
{
    if (!std::filesystem::is_regular_file(file)) {
        error = "--tls-psk " + file + ": no such file";
        return nullptr;
    }
    auto i = std::make_unique<impl>();
    gnutls_psk_allocate_server_credentials(&i->psk);
    // gnutls reads the file at each handshake; the key never passes here.
    if (int r = gnutls_psk_set_server_credentials_file(i->psk, file.c_str()); r < 0) {
        error = "--tls-psk " + file + ": " + gnutls_strerror(r);
        return nullptr;
    }
    return std::shared_ptr<tls_credentials>(new tls_credentials(std::move(i)));
}

struct tls_session::impl {
    gnutls_session_t session = nullptr;
    ~impl()
    {
        if (session)
            gnutls_deinit(session);
    }
};

tls_session::tls_session(socket_type &socket, tls_credentials &creds) : impl_(std::make_unique<impl>())
{
    auto &c = creds.get();
    gnutls_init(&impl_->session, GNUTLS_SERVER);
    if (c.psk) {
        gnutls_priority_set_direct(impl_->session, "NORMAL:+ECDHE-PSK:+DHE-PSK:+PSK", nullptr);
        gnutls_credentials_set(impl_->session, GNUTLS_CRD_PSK, c.psk);
    } else {
        gnutls_set_default_priority(impl_->session);
        gnutls_credentials_set(impl_->session, GNUTLS_CRD_CERTIFICATE, c.x509);
    }
    // gnutls reads and writes the descriptor itself; non-blocking, so it
    // says GNUTLS_E_AGAIN and the coroutine waits for readiness.
    socket.non_blocking(true);
    gnutls_transport_set_int(impl_->session, socket.native_handle());
}

tls_session::~tls_session() = default;

asio::awaitable<void> tls_session::wait(socket_type &socket)
{
    co_await socket.async_wait(gnutls_record_get_direction(impl_->session) ? socket_type::wait_write
                                                                           : socket_type::wait_read,
                               asio::use_awaitable);
}

asio::awaitable<void> tls_session::handshake(socket_type &socket)
{
    for (;;) {
        const int r = gnutls_handshake(impl_->session);
        if (r == GNUTLS_E_SUCCESS)
            co_return;
        if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED || !gnutls_error_is_fatal(r)) {
            co_await wait(socket);
            continue;
        }
        throw_tls(r, "TLS handshake");
    }
}

asio::awaitable<std::size_t> tls_session::read_some(socket_type &socket, void *buffer, std::size_t n)
{
    for (;;) {
        const auto r = gnutls_record_recv(impl_->session, buffer, n);
        if (r > 0)
            co_return static_cast<std::size_t>(r);
        if (r == 0 || r == GNUTLS_E_PREMATURE_TERMINATION)
            throw boost::system::system_error(asio::error::eof);
        if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
            co_await wait(socket);
            continue;
        }
        throw_tls(static_cast<int>(r), "TLS read");
    }
}

asio::awaitable<void> tls_session::write_all(socket_type &socket, const unsigned char *data,
                                             std::size_t n)
{
    while (n > 0) {
        const auto r = gnutls_record_send(impl_->session, data, n);
        if (r > 0) {
            data += r;
            n -= static_cast<std::size_t>(r);
        } else if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
            // gnutls wants the same call again with the same data.
            co_await wait(socket);
        } else {
            throw_tls(static_cast<int>(r), "TLS write");
        }
    }
}

void tls_session::bye() { gnutls_bye(impl_->session, GNUTLS_SHUT_WR); }

}  // namespace granule_nbd
