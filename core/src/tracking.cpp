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

std::vector<tracked_request *> request_tracker::absorb_waiting(const tracked_request &w,
                                                              std::uint64_t from, std::uint64_t to)
{
    std::vector<tracked_request *> out;
    if (!w.done)  // the first waiter creates it: nobody waits for w
        return out;
    auto overlaps = [](std::uint64_t a0, std::uint64_t a1, std::uint64_t b0, std::uint64_t b1) {
        return a0 < b1 && b0 < a1;
    };
    for (auto *c : requests_) {
        const auto c_end = c->offset + c->bytes;
        if (c == &w || c->waiting_for != &w || c->started || c->absorbed ||
            c->write_data.empty() || c->offset < from || c_end > to ||
            overlaps(c->offset, c_end, w.offset, w.offset + w.bytes))
            continue;
        // Anyone older than c (but w and those already carried) that shares
        // c's blocks would see the order change: c stays on its own.
        bool alone = true;
        for (auto *o : requests_) {
            if (o == c || o == &w || o->seq > c->seq || o->absorbed)
                continue;
            if (overlaps(o->overlap_offset, o->overlap_end, c->overlap_offset, c->overlap_end))
                alone = false;
        }
        if (!alone)
            continue;
        c->absorbed = true;
        out.push_back(c);
    }
    return out;
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
