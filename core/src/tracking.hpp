// Tracked requests: every request in flight on a device is registered with
// its byte range. A serialising request (an unaligned write, a write that
// grows the device, a truncate) widens its range to the alignment and waits
// for every overlapping request, so no read-modify-write can write back data
// that another request changed in between. All of this runs on the device's
// single executor: no locks.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <granule/device.hpp>

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace granule {

struct tracked_request {
    tracked_request(std::uint64_t offset, std::uint64_t bytes)
        : offset(offset), bytes(bytes), overlap_offset(offset), overlap_end(offset + bytes) {}
    tracked_request(const tracked_request &) = delete;

    std::uint64_t offset;
    std::uint64_t bytes;
    std::uint64_t overlap_offset;  // widened range used for overlap checks
    std::uint64_t overlap_end;
    bool serialising = false;
    // Past its first wait: newer requests that overlap it must wait for it.
    bool started = false;
    // Identity of the request, unique for the tracker's life (never 0). An
    // address is no identity: a request's coroutine frame is freed when it
    // completes and the next request's frame may be allocated right there.
    std::uint64_t seq = 0;
    // seq of the request this one waits for now, or 0. Cleared by the
    // tracker when that request is removed, before this one resumes.
    std::uint64_t waiting_for = 0;
    std::optional<boost::asio::steady_timer> done;  // created by the first waiter
    std::list<tracked_request *>::iterator pos;
    // A caller's write (not a zeroing or an internal one): its data, so an
    // older write to the same blocks may carry it (coalescing).
    std::span<const io_buffer> write_data;
    // Carried by an older write: done, without any I/O of its own, once
    // that write completed (reset when that write failed).
    bool absorbed = false;
    // Absorbed, and the carrier's write landed: done, it waits no more.
    bool landed = false;
};

// What a request is, for the tracker: its bytes, whether it serialises
// (widened to align), and for a caller's write its data (carriable).
struct track_spec {
    std::uint64_t offset = 0;
    std::uint64_t bytes = 0;
    std::uint64_t serialise_align = 0;  // 0: does not serialise
    bool to_end = false;                // serialises from offset to the end
    std::span<const io_buffer> write_data{};
};

class request_tracker;

// A request registered with the tracker and past its wait (started); gone
// from the tracker, waking whoever waits for it, when the guard goes.
class tracked_guard {
public:
    tracked_guard(request_tracker &t, std::unique_ptr<tracked_request> r)
        : t_(&t), r_(std::move(r))
    {
    }
    tracked_guard(tracked_guard &&) noexcept = default;
    tracked_guard &operator=(tracked_guard &&) = delete;
    ~tracked_guard();

    tracked_request &request() { return *r_; }
    tracked_request *operator->() { return r_.get(); }
    unsigned waits = 0;  // how many times it waited to start

private:
    request_tracker *t_;
    std::unique_ptr<tracked_request> r_;  // its address is in the tracker's list
};

class request_tracker {
public:
    void add(tracked_request &r);
    // Wakes every request waiting for r and clears their waiting_for.
    void remove(tracked_request &r);

    // Widens r to align (power of two) and makes it serialising; may be
    // called at any point of r's life, then wait() again.
    static void mark_serialising(tracked_request &r, std::uint64_t align);
    // Serialises r against everything from offset to the end of the device.
    static void mark_serialising_to_end(tracked_request &r, std::uint64_t offset,
                                        std::uint64_t align);

    // The request r must wait for now, or nullptr: one that overlaps it,
    // where either is serialising, and that is older than r or already
    // started (so waits never form a cycle), and is not itself waiting for r,
    // nor waiting before its start with bytes that r's do not overlap --
    // unless r is a write that continues it (starts where it ends): then r
    // queues behind it, so that whoever gathers it can gather r too.
    tracked_request *find_conflict(const tracked_request &r) const;

    // Waits until find_conflict(r) is nullptr; returns how many times it waited.
    boost::asio::awaitable<unsigned> wait(tracked_request &r);

    // Registers a request, waits until it may start and marks it started.
    // rewiden(r), if given, runs before each wait and again after it; while
    // it returns true (it widened r: a truncate moved the end meanwhile),
    // r waits again.
    boost::asio::awaitable<tracked_guard> enter(
        const track_spec &spec, std::function<bool(tracked_request &)> rewiden = {});

    // Write gathering: the writes queued behind w (waiting for it or for a
    // write gathered before them) that continue it byte after byte from
    // w.offset + bytes, in issue order, while the padded union stays within
    // max_bytes. The same invisibility rule as absorb_waiting: no request
    // older than a gathered write but w and those gathered shares its
    // blocks, and no started request but w shares the union's blocks.
    // Marks them absorbed and widens w's overlap range over them.
    std::vector<tracked_request *> gather_following(tracked_request &w, std::uint64_t align,
                                                    std::uint64_t max_bytes);

    // The writes waiting for w whose bytes lie wholly in [from, to) outside
    // the run's bytes, in issue order, that can be carried by w's write: no
    // other request older than such a write overlaps it (so no one could
    // tell the difference). Marks them absorbed. The run is w's own bytes
    // and, when w gathered writes, theirs up to run_end (they continue w):
    // a write inside a gathered write's bytes is in the padded request's
    // data, not its padding, and cannot be carried into a head/tail block.
    std::vector<tracked_request *> absorb_waiting(const tracked_request &w, std::uint64_t from,
                                                  std::uint64_t to, std::uint64_t run_end = 0);

    // The carrier of these absorbed writes landed: they are done. Wakes them
    // now, not one after another as each is removed (a gathered run waits
    // in a chain), so the next run can gather the writes they make room for.
    void release_landed(std::span<tracked_request *const> carried);

    // No live request overlaps [from, to), even by its widened range.
    bool idle(std::uint64_t from, std::uint64_t to) const;

    std::size_t size() const { return requests_.size(); }
    bool empty() const { return requests_.empty(); }

    // The tracker's invariants, checked (abort with a message) after every
    // add, remove and wait when GRANULE_CHECK_INVARIANTS is on (debug and
    // sanitizer builds): every waiter's target is live, and a request past
    // its wait has no older live request that overlaps its bytes, where
    // either side serialises, still ahead of it. Public for the tests.
    void check_invariants(const tracked_request *after_wait = nullptr) const;

private:
    friend class tracked_guard;
    // A finished request of enter's, kept for the next one: one allocation
    // less per request on the pipeline's hot path.
    void recycle(std::unique_ptr<tracked_request> r);

    std::list<tracked_request *> requests_;
    std::uint64_t next_seq_ = 1;  // 0 means "nobody" in waiting_for
    std::vector<std::unique_ptr<tracked_request>> spare_;
};


// Registers on construction, unregisters (waking waiters) on destruction:
// a request the caller owns and drives by hand (the tests do); the device
// enters requests with request_tracker::enter.
class tracking_scope {
public:
    tracking_scope(request_tracker &t, tracked_request &r) : t_(t), r_(r) { t_.add(r_); }
    ~tracking_scope() { t_.remove(r_); }
    tracking_scope(const tracking_scope &) = delete;

private:
    request_tracker &t_;
    tracked_request &r_;
};

}  // namespace granule
