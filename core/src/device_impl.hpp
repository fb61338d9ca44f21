// The request scheduler behind granule::device. Every member below runs on
// the device's own executor (one thread), except the atomics in counters.
#pragma once

#include "block_cache.hpp"
#include "driver_call.hpp"
#include "node.hpp"
#include "padding.hpp"
#include "throttle.hpp"
#include "tracking.hpp"

#include <granule/platform/buffer_pool.hpp>
#include <granule/device.hpp>
#include <granule/image_format.hpp>
#include <granule/platform/readiness_watch.hpp>

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <list>
#include <mutex>
#include <span>
#include <thread>

namespace granule {

using platform::buffer_pool;
using platform::pooled_buffer;

class padded_write;

struct atomic_stats {
#define GRANULE_ATOMIC_STAT_(name) std::atomic<std::uint64_t> name{0};
    GRANULE_STATS_FIELDS(GRANULE_ATOMIC_STAT_)
#undef GRANULE_ATOMIC_STAT_
    stats snapshot() const;
    void reset();
};

inline void bump(std::atomic<std::uint64_t> &c, std::uint64_t n = 1)
{
    c.fetch_add(n, std::memory_order_relaxed);
}

// A read-only node whose data shows through the holes of the root (the
// overlay); copy_on_read writes what was read from it into the overlay.
struct backing_node {
    std::unique_ptr<node> n;
    std::uint64_t granularity = 65536;  // overlay writes and hole checks, bytes
    bool copy_on_read = false;
};

class device_impl {
public:
    device_impl(std::unique_ptr<node> root, const throttle_config &throttling,
                backing_node backing = {});
    ~device_impl();

    boost::asio::any_io_executor executor() { return ctx_.get_executor(); }

    boost::asio::awaitable<result<std::size_t>> preadv(std::uint64_t offset,
                                                       std::span<const io_buffer> iov);
    boost::asio::awaitable<result<std::size_t>> pwritev(std::uint64_t offset,
                                                        std::span<const io_buffer> iov,
                                                        request_flags flags = {});
    boost::asio::awaitable<result<void>> flush();
    boost::asio::awaitable<result<void>> pdiscard(std::uint64_t offset, std::uint64_t bytes);
    boost::asio::awaitable<result<void>> pwrite_zeroes(std::uint64_t offset, std::uint64_t bytes,
                                                       request_flags flags = {});
    boost::asio::awaitable<result<void>> truncate(std::uint64_t length);
    boost::asio::awaitable<result<void>> reopen(options changes);
    boost::asio::awaitable<result<block_extent>> block_status(std::uint64_t offset,
                                                              std::uint64_t bytes);

    // Reads the first bytes (unless given_raw) and decides what the device's
    // bytes are taken for; once, at open, before any request (format_guard.cpp).
    boost::asio::awaitable<result<void>> probe_format(bool given_raw, std::string subject);
    const format_decision &format() const { return format_; }

    // Raises a pipeline event (e.g. "pwritev_rmw_head") on the debug node;
    // a blkdebug breakpoint suspends the request here.
    boost::asio::awaitable<result<void>> raise_event(const char *event, std::uint64_t offset,
                                                     std::uint64_t bytes);

    node &root() { return *root_; }
    const backing_node &backing() const { return backing_; }
    // Any thread (the limits change on the device's, by reopen).
    std::vector<std::pair<std::string, std::uint64_t>> throttle_settings() const
    {
        std::lock_guard lock(throttle_shown_mutex_);
        return throttle_shown_;
    }
    node *debug_node() { return debug_node_; }
    limits lim() const { return limits_; }
    std::uint64_t length() const { return length_.load(std::memory_order_relaxed); }
    bool read_only() const { return root_->flags() & GRANULE_NODE_READ_ONLY; }
    bool growable() const { return root_->flags() & GRANULE_NODE_GROWABLE; }
    // A write may cover the aligned end past the length (the node is
    // truncated back after it): growable, or GRANULE_NODE_PADDED_END.
    bool pads_past_end() const
    {
        return root_->flags() & (GRANULE_NODE_GROWABLE | GRANULE_NODE_PADDED_END);
    }
    atomic_stats counters;

private:
    // Submits an aligned request, split by max_transfer; returns the bytes
    // transferred (short only at end of file for reads). With a backing
    // node, reads take the overlay's holes from it (and with copy_on_read
    // write them into the overlay).
    // req_flags: GRANULE_REQ_* for the driver (writes: FUA).
    boost::asio::awaitable<result<std::uint64_t>> submit(std::uint32_t op,
                                                         std::uint64_t aligned_offset,
                                                         std::span<const granule_iovec> iov,
                                                         bool copy_on_read = false,
                                                         std::uint32_t req_flags = 0);
    boost::asio::awaitable<result<std::uint64_t>> submit_to(node &n, std::uint32_t op,
                                                            std::uint64_t aligned_offset,
                                                            std::span<const granule_iovec> iov,
                                                            std::uint32_t req_flags = 0);
    boost::asio::awaitable<result<std::uint64_t>> read_with_backing(
        std::uint64_t aligned_offset, std::span<const granule_iovec> iov, bool copy_on_read);
    boost::asio::awaitable<result<block_extent>> node_block_status(node &n, std::uint64_t offset,
                                                                   std::uint64_t bytes,
                                                                   std::uint64_t len);
    // The root's length; read-only over a longer backing, the backing's.
    std::int64_t visible_length() const
    {
        auto len = root_->length();
        if (backing_.n && read_only())
            len = std::max(len, backing_.n->length());
        return len;
    }
    // The root's limits, merged with the backing node's and its granularity.
    void refresh_limits();
    // Reads one aligned block for read-modify-write into buf, zero-filling past EOF.
    // block: io_align(), or write_align() for a write into the first bytes.
    // read_ahead: also read the blocks after it into the block cache (a
    // sequential stream of unaligned writes: the next writes' tail blocks).
    boost::asio::awaitable<result<void>> read_block(std::uint64_t aligned_offset, std::byte *buf,
                                                    std::uint64_t block, bool read_ahead = false);
    static constexpr std::uint64_t read_ahead_bytes = 64 * 1024;
    // Every driver call goes through here: it counts calls in flight, so the
    // poll watches can stop once the device closes and nothing is pending.
    template <class Start>
    boost::asio::awaitable<driver_result> call(Start start)
    {
        ++driver_calls_;
        schedule_unplug();
        auto r = co_await call_driver(std::move(start));
        if (--driver_calls_ == 0 && closing_)
            stop_polls();
        co_return r;
    }
    // Host-driven completions (poll_fd/poll in driver_abi.h).
    void collect_driver_hooks(node &n);
    void arm(std::size_t i);
    void stop_polls();
    // Runs the drivers' unplug hooks once the handlers queued now have run,
    // so the submits of one burst reach the backend together.
    void schedule_unplug();
    // Counts a request of one kind, and its failure.
    template <class T>
    boost::asio::awaitable<T> counted(std::atomic<std::uint64_t> &kind, boost::asio::awaitable<T> op)
    {
        bump(kind);
        auto r = co_await std::move(op);
        if (!r)
            bump(counters.failed_requests);
        co_return r;
    }
    result<void> trim_padding_past(std::uint64_t end);
    // Holds a request back until the throttle.* limits let it start (not
    // at all once the device is closing). Callers skip it when no limit is
    // set, so an unthrottled request makes no coroutine frame for it.
    boost::asio::awaitable<void> throttled(bool write, std::uint64_t bytes);
    // Tracks a write of [offset, offset + bytes) and waits until it may
    // start: serialising when unaligned or reaching past the end. data: a
    // caller's write that another may carry (empty: none).
    boost::asio::awaitable<tracked_guard> enter_write(std::uint64_t offset, std::uint64_t bytes,
                                                      std::span<const io_buffer> data = {});
    // self: the caller's tracked write, which may gather the writes queued
    // behind it that continue it and carry those queued into its padding;
    // nullptr: none. req_flags: GRANULE_REQ_FUA when the root does FUA
    // itself. op: what errors call the request ("write", or "write_zeroes"
    // for zero buffers). The steps are in write_path.cpp.
    boost::asio::awaitable<result<std::size_t>> write_tracked(std::uint64_t offset,
                                                              std::span<const io_buffer> iov,
                                                              tracked_request *self = nullptr,
                                                              std::uint32_t req_flags = 0,
                                                              const char *op = "write");
    std::vector<tracked_request *> gather(tracked_request &self, padded_write &w,
                                          std::uint64_t old_length);
    boost::asio::awaitable<result<void>> read_padding(padded_write &w, std::uint64_t offset,
                                                      std::uint64_t total);
    std::vector<tracked_request *> coalesce(tracked_request &self, padded_write &w);
    void remember_padding(const padded_write &w);
    boost::asio::awaitable<result<void>> write_zero_buffers(std::uint64_t offset,
                                                            std::uint64_t bytes,
                                                            std::uint32_t req_flags = 0);
    boost::asio::awaitable<result<void>> zeroes_tracked(std::uint64_t offset, std::uint64_t bytes,
                                                        request_flags flags);
    boost::asio::awaitable<result<void>> zero_range(std::uint64_t offset, std::uint64_t bytes,
                                                    std::uint32_t zero_flags);
    // The root's flush, not counted as a caller's flush (FUA emulation).
    boost::asio::awaitable<result<void>> flush_root(const char *why);
    // FUA for a node that does it per request; the others flush after.
    bool native_fua() const { return root_->flags() & GRANULE_NODE_FUA; }
    boost::asio::awaitable<result<void>> discard_tracked(std::uint64_t offset, std::uint64_t bytes);
    // Granularity of padding and splitting: the request alignment, raised to
    // the memory alignment so bounce buffers always satisfy the backend.
    std::uint64_t io_align() const
    {
        return std::max(limits_.request_alignment, limits_.min_mem_alignment);
    }
    result<void> validate(const char *op, std::uint64_t offset, std::uint64_t bytes) const;
    result<void> check_writable(const char *op, std::uint64_t offset, std::uint64_t bytes) const;

    // Format safety (format_guard.cpp). The first min(format_probe_bytes,
    // length) bytes into out, read through the root without tracking.
    boost::asio::awaitable<result<std::size_t>> read_head(
        std::span<std::byte, format_probe_bytes> out);
    // EPERM naming the format when the device holds a recognised container.
    result<void> refuse_container(const std::string &what) const;
    // EPERM when head, what the first bytes will hold after the change
    // `what`, shows a container's signature.
    result<void> check_head(const std::string &what, std::span<const std::byte> head) const;
    // A change at offset reaches the first bytes of a probed raw device.
    bool guards_head(std::uint64_t offset) const
    {
        return format_.guards_first_bytes() && offset < format_probe_bytes;
    }
    // Padding of a write at offset: io_align, raised to format_probe_bytes
    // for a write into the first bytes of a probed raw device, so its padded
    // request holds all the first bytes will be, checked before it goes (as
    // qemu's probed raw asks 512-byte alignment; here only of those writes).
    std::uint64_t write_align(std::uint64_t offset) const
    {
        return guards_head(offset) ? std::max<std::uint64_t>(io_align(), format_probe_bytes)
                                   : io_align();
    }
    // The granularity of driver zeroing from offset: likewise, so only whole
    // first bytes are zeroed by the driver, and parts of them go as checked
    // zero buffers.
    std::uint64_t zeroing_align(std::uint64_t offset) const
    {
        return guards_head(offset) ? std::max<std::uint64_t>(limits_.pwrite_zeroes_alignment,
                                                             format_probe_bytes)
                                   : limits_.pwrite_zeroes_alignment;
    }

    boost::asio::io_context ctx_{1};
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
    std::unique_ptr<node> root_;
    backing_node backing_;
    node *debug_node_ = nullptr;
    limits limits_;
    format_decision format_;  // set by probe_format, then constant
    std::atomic<std::uint64_t> length_{0};
    buffer_pool buffers_;  // before anything that holds its buffers
    request_tracker tracker_;
    block_cache rmw_cache_;
    throttle throttle_;
    std::list<boost::asio::steady_timer *> throttled_;  // requests held back now
    void configure_throttle(const throttle_config &c);
public:
    // No limits from now on, and the held requests go (device thread).
    void lift_throttle();
private:
    mutable std::mutex throttle_shown_mutex_;
    std::vector<std::pair<std::string, std::uint64_t>> throttle_shown_;
    struct poll_watch {
        node *n;
        std::unique_ptr<platform::readiness_watch> watch;
    };
    std::vector<poll_watch> polls_;
    unsigned driver_calls_ = 0;
    std::vector<node *> unplug_nodes_;
    bool unplug_scheduled_ = false;
    bool closing_ = false;
    std::thread thread_;
};

// I/O errors name the operation, offset and length once: the driver's
// message when it gave one, else "<op> of N bytes at offset O: <errno text>".
error io_error(const char *op, std::uint64_t offset, std::uint64_t bytes, std::int64_t rc,
               const std::string &detail);
// A failed resize: the driver's message, else "truncate to N bytes: <errno text>".
error resize_error(std::uint64_t new_length, int rc, const std::string &detail);

}  // namespace granule
