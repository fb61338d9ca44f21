// One client's transmission phase, on the server's thread: the reader takes requests off the socket (a write's payload with it),
// checks each against the protocol and the export, and starts it as its own
// coroutine, so requests run concurrently through the device (which orders
// overlapping ones) and reply in the order they complete. Replies queue and
// go out together in one write.
//
// Ending: NBD_CMD_DISC, the client closing, a protocol violation or stop()
// ends reading; requests already started complete on the device (so
// nothing acknowledged, or even merely received, is dropped half-way) and
// their replies are sent while the socket lasts; then the socket closes.
#pragma once

#include "handshake.hpp"
#include "nbd_stream.hpp"

#include <granule/platform/buffer_pool.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace granule_nbd {

struct request_header {
    std::uint16_t flags = 0;
    std::uint16_t type = 0;
    std::uint64_t cookie = 0;
    std::uint64_t offset = 0;
    std::uint32_t length = 0;
};

// A read's or write's data, aligned so the device need not bounce it, from
// the server's pool (a fresh large buffer costs an mmap and a page fault per
// page: nbdcopy ran at 40 % of qemu-nbd's speed that way).
using data_buffer = granule::platform::pooled_buffer;
using buffer_pool = granule::platform::buffer_pool;

class session {
public:
    // pool: the server's, on the same thread, outliving the session.
    session(nbd_stream stream, negotiated agreed, buffer_pool &pool,
            std::function<void(std::string)> say);

    // The transmission phase, until the connection ends; on the stream's
    // executor.
    boost::asio::awaitable<void> serve();
    // Ends reading as NBD_CMD_DISC would. On the session's thread.
    void stop();
    // Closes the socket: replies not yet written are dropped (requests on
    // the device still complete). For a client that stopped reading them.
    void abort();

private:
    struct reply {
        std::vector<unsigned char> header;
        data_buffer data;
        std::size_t data_bytes = 0;
        std::uint64_t charged = 0;  // counted in bytes_in_flight_
    };

    // The protocol error for a request the server will not run, or 0.
    std::uint32_t refusal(const request_header &h, std::string &why) const;
    boost::asio::awaitable<void> run(request_header h, data_buffer payload);
    boost::asio::awaitable<void> read(const request_header &h);
    boost::asio::awaitable<void> block_status(const request_header &h);
    boost::asio::awaitable<void> cache(const request_header &h);
    // Replies of requests without data; error 0 is success. charged: the
    // request's data bytes were counted in bytes_in_flight_.
    void answer(const request_header &h, std::uint32_t error, const std::string &why,
                bool charged = false);
    void send(reply r);
    boost::asio::awaitable<void> write_replies();
    // A reply was written, or dropped with the connection.
    void retire(const reply &r);
    boost::asio::awaitable<void> wait_for(const std::function<bool()> &condition);

    nbd_stream stream_;
    negotiated agreed_;
    granule::device &dev_;
    std::uint64_t size_;
    std::size_t mem_alignment_;
    buffer_pool &pool_;
    std::function<void(std::string)> say_;
    std::deque<reply> replies_;
    bool writing_ = false;
    bool broken_ = false;      // a reply could not be written: drop the rest
    std::size_t in_flight_ = 0;  // started and not yet answered on the wire
    std::uint64_t bytes_in_flight_ = 0;
    boost::asio::steady_timer progress_;  // cancelled whenever a request finishes
};

}  // namespace granule_nbd
