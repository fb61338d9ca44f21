// TLS for granule-nbd (gnutls): the server's credentials, loaded once at
// start, and one connection's TLS session over a non-blocking socket, driven
// by Asio readiness waits. A server with credentials requires TLS (the
// protocol's FORCEDTLS mode): nothing but NBD_OPT_STARTTLS and NBD_OPT_ABORT
// is answered before it.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/generic/stream_protocol.hpp>

#include <cstddef>
#include <memory>
#include <string>

namespace granule_nbd {

class tls_credentials {
public:
    // DIR holds server-cert.pem and server-key.pem (qemu-nbd's names; a
    // ca-cert.pem there is not needed: clients are not asked for
    // certificates). A PSK file holds USERNAME:HEXKEY lines (psktool's).
    // nullptr with the reason in error, which names the file but never a key.
    static std::shared_ptr<tls_credentials> x509(const std::string &dir, std::string &error);
    static std::shared_ptr<tls_credentials> psk(const std::string &file, std::string &error);
    ~tls_credentials();

    struct impl;
    impl &get() { return *impl_; }

private:
    explicit tls_credentials(std::unique_ptr<impl> i);
    std::unique_ptr<impl> impl_;
};

// One connection's TLS over socket, which every call is given (the stream
// owning both may move). Errors are thrown: std::runtime_error with gnutls'
// text, boost::system::system_error for the socket's (EOF included).
class tls_session {
public:
    using socket_type = boost::asio::generic::stream_protocol::socket;
    tls_session(socket_type &socket, tls_credentials &creds);
    ~tls_session();
    tls_session(const tls_session &) = delete;
    tls_session &operator=(const tls_session &) = delete;

    boost::asio::awaitable<void> handshake(socket_type &socket);
    boost::asio::awaitable<std::size_t> read_some(socket_type &socket, void *buffer, std::size_t n);
    boost::asio::awaitable<void> write_all(socket_type &socket, const unsigned char *data,
                                           std::size_t n);
    // The TLS close alert, if it can go out without waiting.
    void bye();

private:
    // Until the socket is ready for what gnutls last wanted.
    boost::asio::awaitable<void> wait(socket_type &socket);
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace granule_nbd
