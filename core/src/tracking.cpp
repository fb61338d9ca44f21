#include "tracking.hpp"
#include "padding.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <limits>

namespace granule {

namespace asio = boost::asio;

void request_tracker::add(tracked_request &r)
{
    r.seq = next_seq_++;
    r.pos = requests_.insert(requests_.end(), &r);
}

void request_tracker::remove(tracked_request &r)
{
    requests_.erase(r.pos);
    // Waiters are woken by cancellation; the handlers are queued on the
    // executor before r (and its timer) goes away.
    if (r.done)
        r.done->cancel();
}

void request_tracker::mark_serialising(tracked_request &r, std::uint64_t align)
{
    r.serialising = true;
    r.overlap_offset = std::min(r.overlap_offset, align_down(r.offset, align));
    r.overlap_end = std::max(r.overlap_end, align_up(r.offset + r.bytes, align));
}

void request_tracker::mark_serialising_to_end(tracked_request &r, std::uint64_t offset,
                                              std::uint64_t align)
{
    mark_serialising(r, align);
    r.overlap_offset = std::min(r.overlap_offset, align_down(offset, align));
    r.overlap_end = std::numeric_limits<std::uint64_t>::max();
}

tracked_request *request_tracker::find_conflict(const tracked_request &r) const
{
    for (auto *other : requests_) {
        if (other == &r || (!r.serialising && !other->serialising))
            continue;
        if (other->overlap_end <= r.overlap_offset || r.overlap_end <= other->overlap_offset)
            continue;
        if (other->waiting_for == &r)
            continue;
        if (other->seq < r.seq || other->started)
            return other;
    }
    return nullptr;
}

asio::awaitable<unsigned> request_tracker::wait(tracked_request &r)
{
    unsigned waits = 0;
    while (auto *other = find_conflict(r)) {
        if (!other->done)
            other->done.emplace(co_await asio::this_coro::executor,
                                asio::steady_timer::time_point::max());
        r.waiting_for = other;
        boost::system::error_code ec;
        co_await other->done->async_wait(asio::redirect_error(asio::use_awaitable, ec));
        r.waiting_for = nullptr;
        ++waits;
    }
    co_return waits;
}

}  // namespace granule
