#include "nbd_stream.hpp"

#include "tls.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace asio = boost::asio;

namespace granule_nbd {

namespace {
// Big enough for a deep queue's headers and small writes in one read; a
// larger payload is read straight into its own buffer.
constexpr std::size_t read_ahead_bytes = 64 * 1024;
}

nbd_stream::nbd_stream(socket_type socket) : socket_(std::move(socket)), in_(read_ahead_bytes)
{
    if (is_tcp()) {
        // Replies are written whole; Nagle would hold the last one back.
        boost::system::error_code ignored;
        socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
    }
}

nbd_stream::nbd_stream(nbd_stream &&) noexcept = default;
nbd_stream::~nbd_stream() = default;

bool nbd_stream::is_tcp() const
{
    boost::system::error_code ec;
    const int family = socket_.local_endpoint(ec).protocol().family();
    return family == AF_INET || family == AF_INET6;
}

asio::awaitable<void> nbd_stream::read_exact(void *dst, std::size_t n)
{
    if (n == 0)
        co_return;  // dst may be null then (an empty option's data), memcpy's UB
    auto *out = static_cast<unsigned char *>(dst);
    const std::size_t buffered = std::min(n, in_end_ - in_at_);
    std::memcpy(out, in_.data() + in_at_, buffered);
    in_at_ += buffered;
    out += buffered;
    n -= buffered;
    if (n >= in_.size()) {
        if (!tls_) {
            co_await asio::async_read(socket_, asio::buffer(out, n), asio::use_awaitable);
            co_return;
        }
        while (n > 0) {
            const auto part = co_await read_some(out, n);
            out += part;
            n -= part;
        }
        co_return;
    }
    while (n > 0) {
        in_at_ = 0;
        in_end_ = co_await read_some(in_.data(), in_.size());
        const std::size_t part = std::min(n, in_end_);
        std::memcpy(out, in_.data(), part);
        in_at_ = part;
        out += part;
        n -= part;
    }
}

asio::awaitable<std::size_t> nbd_stream::read_some(void *dst, std::size_t n)
{
    if (tls_)
        co_return co_await tls_->read_some(socket_, dst, n);
    co_return co_await socket_.async_read_some(asio::buffer(dst, n), asio::use_awaitable);
}

asio::awaitable<void> nbd_stream::start_tls(tls_credentials &creds)
{
    if (in_at_ != in_end_)
        throw std::runtime_error("client sent data after NBD_OPT_STARTTLS before the TLS handshake");
    tls_ = std::make_unique<tls_session>(socket_, creds);
    co_await tls_->handshake(socket_);
}

asio::awaitable<void> nbd_stream::skip(std::uint64_t n)
{
    std::vector<unsigned char> sink(std::min<std::uint64_t>(n, 1 << 20));
    while (n > 0) {
        const auto part = static_cast<std::size_t>(std::min<std::uint64_t>(n, sink.size()));
        co_await read_exact(sink.data(), part);
        n -= part;
    }
}

asio::awaitable<void> nbd_stream::write(std::span<const asio::const_buffer> buffers)
{
    if (!tls_) {
        co_await asio::async_write(socket_, buffers, asio::use_awaitable);
        co_return;
    }
    // TLS encrypts record by record anyway: one contiguous copy lets gnutls
    // fill whole records across the replies' pieces.
    std::vector<unsigned char> flat(asio::buffer_size(buffers));
    asio::buffer_copy(asio::buffer(flat), buffers);
    co_await tls_->write_all(socket_, flat.data(), flat.size());
}

asio::awaitable<void> nbd_stream::write(const std::vector<unsigned char> &bytes)
{
    const asio::const_buffer one = asio::buffer(bytes);
    co_await write(std::span<const asio::const_buffer>(&one, 1));
}

void nbd_stream::shutdown_receive()
{
    boost::system::error_code ignored;
    socket_.shutdown(socket_type::shutdown_receive, ignored);
}

void nbd_stream::close()
{
    if (tls_)
        tls_->bye();
    boost::system::error_code ignored;
    socket_.shutdown(socket_type::shutdown_both, ignored);
    socket_.close(ignored);
}

}  // namespace granule_nbd
