#include "tracking.hpp"
#include "padding.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <vector>

namespace granule {

namespace asio = boost::asio;

#if !defined(NDEBUG) || defined(GRANULE_CHECK_INVARIANTS)
constexpr bool checking = true;
#else
constexpr bool checking = false;
#endif

void request_tracker::add(tracked_request &r)
{
    r.seq = next_seq_++;
    r.waiting_for = 0;
    r.pos = requests_.insert(requests_.end(), &r);
    if constexpr (checking)
        check_invariants();
}

void request_tracker::remove(tracked_request &r)
{
    requests_.erase(r.pos);
    // Waiters are woken by cancellation; the handlers are queued on the
    // executor before r (and its timer) goes away. Until they run, nothing
    // may take them for waiters of r: a request added meanwhile could sit
    // where r sat and would pass them (issue 9: the older data overwrote
    // the newer). Only requests that someone waited for have a timer.
    if (r.done) {
        for (auto *o : requests_)
            if (o->waiting_for == r.seq)
                o->waiting_for = 0;
        r.done->cancel();
    }
    if constexpr (checking)
        check_invariants();
}

namespace {

[[noreturn]] void invariant_failed(const char *what, const tracked_request &r,
                                   const tracked_request *o)
{
    std::fprintf(stderr,
                 "granule: request tracker invariant violated: %s (request #%llu at %llu+%llu"
                 ", waiting for #%llu",
                 what, static_cast<unsigned long long>(r.seq),
                 static_cast<unsigned long long>(r.offset),
                 static_cast<unsigned long long>(r.bytes),
                 static_cast<unsigned long long>(r.waiting_for));
    if (o)
        std::fprintf(stderr, "; older request #%llu at %llu+%llu",
                     static_cast<unsigned long long>(o->seq),
                     static_cast<unsigned long long>(o->offset),
                     static_cast<unsigned long long>(o->bytes));
    std::fprintf(stderr, ")\n");
    std::abort();
}

bool bytes_overlap(const tracked_request &a, const tracked_request &b)
{
    return a.offset < b.offset + b.bytes && b.offset < a.offset + a.bytes;
}

bool ranges_overlap(std::uint64_t a0, std::uint64_t a1, std::uint64_t b0, std::uint64_t b1)
{
    return a0 < b1 && b0 < a1;
}

// r is a caller's write that starts where the caller's write w ends.
bool continues(const tracked_request &r, const tracked_request &w)
{
    return !r.write_data.empty() && !w.write_data.empty() && r.offset == w.offset + w.bytes;
}

}  // namespace

void request_tracker::check_invariants(const tracked_request *after_wait) const
{
    // requests_ is in seq order (add appends a new, larger seq).
    std::vector<std::uint64_t> live;
    live.reserve(requests_.size());
    for (const auto *r : requests_)
        live.push_back(r->seq);
    for (const auto *r : requests_)
        if (r->waiting_for && !std::binary_search(live.begin(), live.end(), r->waiting_for))
            invariant_failed("waits for a request that is gone", *r, nullptr);
    if (!after_wait)
        return;
    const auto &r = *after_wait;
    if (r.landed)  // done by its carrier, in issue order with the others it carried
        return;
    for (const auto *o : requests_) {
        if (o == &r || o->seq > r.seq || o->landed || !(o->serialising || r.serialising) ||
            !bytes_overlap(*o, r) || o->waiting_for == r.seq)
            continue;
        invariant_failed("passes an older request that overlaps its bytes", r, o);
    }
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
        if (other->waiting_for == r.seq)
            continue;
        // A request still waiting before its start has touched nothing: r
        // may pass it when they only share blocks, not bytes (QEMU lets any
        // request pass a waiting one; iotest 077 relies on it). Should it
        // start first, r waits for it then (it is started); requests whose
        // bytes overlap stay in issue order.
        if (other->waiting_for && !other->started && !bytes_overlap(*other, r) &&
            !continues(r, *other))
            continue;
        if (other->seq < r.seq || other->started)
            return other;
    }
    return nullptr;
}

std::vector<tracked_request *> request_tracker::absorb_waiting(const tracked_request &w,
                                                              std::uint64_t from, std::uint64_t to,
                                                              std::uint64_t run_end)
{
    std::vector<tracked_request *> out;
    if (!w.done)  // the first waiter creates it: nobody waits for w
        return out;
    const auto overlaps = ranges_overlap;
    const auto data_end = std::max(w.offset + w.bytes, run_end);
    for (auto *c : requests_) {
        const auto c_end = c->offset + c->bytes;
        if (c == &w || c->waiting_for != w.seq || c->started || c->absorbed ||
            c->write_data.empty() || c->offset < from || c_end > to ||
            overlaps(c->offset, c_end, w.offset, data_end))
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

std::vector<tracked_request *> request_tracker::gather_following(tracked_request &w,
                                                                std::uint64_t align,
                                                                std::uint64_t max_bytes)
{
    std::vector<tracked_request *> out;
    if (!w.done || w.write_data.empty())  // nobody waits for w, or w is no caller's write
        return out;
    const auto start = align_down(w.offset, align);
    auto end = w.offset + w.bytes;
    auto gathered = [&](std::uint64_t seq) {
        return seq == w.seq ||
               std::any_of(out.begin(), out.end(), [&](auto *g) { return g->seq == seq; });
    };
    // requests_ is in issue order: a write continuing the run is newer than
    // the one it continues, so one pass finds the run.
    for (auto *c : requests_) {
        if (c->seq <= w.seq || c->offset != end || c->started || c->absorbed ||
            c->write_data.empty() || !c->waiting_for || !gathered(c->waiting_for))
            continue;
        const auto c_end = c->offset + c->bytes;
        if (align_up(c_end, align) - start > max_bytes)
            break;
        bool alone = true;
        for (auto *o : requests_) {
            if (o == c || o == &w || o->absorbed)
                continue;
            // Older than c: it must not see c before itself. Started: it is
            // changing c's blocks now.
            if ((o->seq < c->seq || o->started) &&
                ranges_overlap(o->overlap_offset, o->overlap_end, align_down(c->offset, align),
                               align_up(c_end, align)))
                alone = false;
        }
        if (!alone)
            break;
        c->absorbed = true;
        out.push_back(c);
        end = c_end;
    }
    if (!out.empty()) {
        w.overlap_end = std::max(w.overlap_end, align_up(end, align));
        if constexpr (checking)
            check_invariants(&w);
    }
    return out;
}

asio::awaitable<tracked_guard> request_tracker::enter(
    const track_spec &spec, std::function<bool(tracked_request &)> rewiden)
{
    std::unique_ptr<tracked_request> r;
    if (spare_.empty()) {
        r = std::make_unique<tracked_request>(spec.offset, spec.bytes);
    } else {
        // A new request in old memory: its identity is its seq, never its
        // address (add() gives it a new one).
        r = std::move(spare_.back());
        spare_.pop_back();
        std::destroy_at(r.get());
        std::construct_at(r.get(), spec.offset, spec.bytes);
    }
    r->write_data = spec.write_data;
    if (spec.to_end)
        mark_serialising_to_end(*r, spec.offset, spec.serialise_align ? spec.serialise_align : 1);
    else if (spec.serialise_align)
        mark_serialising(*r, spec.serialise_align);
    add(*r);
    tracked_guard g(*this, std::move(r));
    auto &req = g.request();
    if (rewiden)
        rewiden(req);
    do
        g.waits += co_await wait(req);
    while (rewiden && rewiden(req));
    req.started = true;
    co_return g;
}

bool request_tracker::idle(std::uint64_t from, std::uint64_t to) const
{
    return std::none_of(requests_.begin(), requests_.end(), [&](const tracked_request *r) {
        return ranges_overlap(r->overlap_offset, r->overlap_end, from, to);
    });
}

void request_tracker::release_landed(std::span<tracked_request *const> carried)
{
    if (carried.empty())  // every write that carried nothing (most)
        return;
    for (auto *c : carried)
        c->landed = true;
    // Each waits on the timer of the request before it; a cancel wakes every
    // waiter of that timer, and those not done just look again.
    for (auto *o : requests_)
        if (o->done && std::any_of(carried.begin(), carried.end(),
                                   [&](auto *c) { return c->waiting_for == o->seq; }))
            o->done->cancel();
}

void request_tracker::recycle(std::unique_ptr<tracked_request> r)
{
    constexpr std::size_t kept = 64;
    if (spare_.size() < kept)
        spare_.push_back(std::move(r));
}

tracked_guard::~tracked_guard()
{
    if (r_) {
        t_->remove(*r_);
        t_->recycle(std::move(r_));
    }
}

asio::awaitable<unsigned> request_tracker::wait(tracked_request &r)
{
    unsigned waits = 0;
    while (!r.landed) {
        auto *other = find_conflict(r);
        if (!other)
            break;
        if (!other->done)
            other->done.emplace(co_await asio::this_coro::executor,
                                asio::steady_timer::time_point::max());
        r.waiting_for = other->seq;
        boost::system::error_code ec;
        // other may be gone when this resumes: only its seq was kept.
        co_await other->done->async_wait(asio::redirect_error(asio::use_awaitable, ec));
        r.waiting_for = 0;
        ++waits;
    }
    if constexpr (checking)
        check_invariants(&r);
    co_return waits;
}

}  // namespace granule
