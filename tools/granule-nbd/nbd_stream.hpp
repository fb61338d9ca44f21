// One client connection's byte stream (a Unix or TCP socket): reads through
// a buffer, so the many small messages of a deep queue cost few system
// calls, and writes a whole scatter list at once. Errors (EOF included)
// are thrown as boost::system::system_error: a broken stream ends the
// connection, and coroutines unwind to its top.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/generic/stream_protocol.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace granule_nbd {

class nbd_stream {
public:
    using socket_type = boost::asio::generic::stream_protocol::socket;

    explicit nbd_stream(socket_type socket);

    boost::asio::awaitable<void> read_exact(void *dst, std::size_t n);
    // Reads and drops n bytes (a refused write's payload).
    boost::asio::awaitable<void> skip(std::uint64_t n);
    boost::asio::awaitable<void> write(std::span<const boost::asio::const_buffer> buffers);
    boost::asio::awaitable<void> write(const std::vector<unsigned char> &bytes);

    boost::asio::any_io_executor get_executor() { return socket_.get_executor(); }

    // Ends reading: a pending or later read fails with EOF; replies can
    // still be written.
    void shutdown_receive();
    void close();
    bool is_tcp() const;

private:
    socket_type socket_;
    std::vector<unsigned char> in_;
    std::size_t in_at_ = 0;
    std::size_t in_end_ = 0;
};

}  // namespace granule_nbd
