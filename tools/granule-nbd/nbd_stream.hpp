// One client connection's byte stream (a Unix or TCP socket, in TLS once
// start_tls succeeded): reads through a buffer, so the many small messages of
// a deep queue cost few system calls, and writes a whole scatter list at
// once. Errors (EOF included)
// are thrown as boost::system::system_error: a broken stream ends the
// connection, and coroutines unwind to its top.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/generic/stream_protocol.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace granule_nbd {

class tls_credentials;
class tls_session;

class nbd_stream {
public:
    using socket_type = boost::asio::generic::stream_protocol::socket;

    explicit nbd_stream(socket_type socket);
    nbd_stream(nbd_stream &&) noexcept;
    ~nbd_stream();

    boost::asio::awaitable<void> read_exact(void *dst, std::size_t n);
    // Reads and drops n bytes (a refused write's payload).
    boost::asio::awaitable<void> skip(std::uint64_t n);
    boost::asio::awaitable<void> write(std::span<const boost::asio::const_buffer> buffers);
    boost::asio::awaitable<void> write(const std::vector<unsigned char> &bytes);

    boost::asio::any_io_executor get_executor() { return socket_.get_executor(); }

    // The TLS handshake; from then on everything goes through TLS. Fails if
    // the client sent anything after NBD_OPT_STARTTLS before the handshake
    // (plaintext that would otherwise be taken as sent under TLS).
    boost::asio::awaitable<void> start_tls(tls_credentials &creds);
    bool in_tls() const { return tls_ != nullptr; }

    // Ends reading: a pending or later read fails with EOF; replies can
    // still be written.
    void shutdown_receive();
    void close();
    bool is_tcp() const;

private:
    boost::asio::awaitable<std::size_t> read_some(void *dst, std::size_t n);

    socket_type socket_;
    std::unique_ptr<tls_session> tls_;
    std::vector<unsigned char> in_;
    std::size_t in_at_ = 0;
    std::size_t in_end_ = 0;
};

}  // namespace granule_nbd
