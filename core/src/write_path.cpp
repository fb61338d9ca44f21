// The write path, one named step each:
//   enter_write   track the write; serialise it (unaligned, or reaching past
//                 the end) behind every request sharing its blocks
//   gather        take the writes queued behind it that continue it
//   pad           one padded request for the run (padded_write)
//   read_padding  read back its head and tail blocks (RMW)
//   coalesce      copy the writes queued into that padding
//   submit        split by max_transfer / max_iov, to the driver (pipeline.cpp)
//   finish        remember the blocks written, trim padding past the end
#include "device_impl.hpp"
#include "padded_write.hpp"

#include <array>
#include <cstring>
#include <limits>

namespace granule {

namespace asio = boost::asio;

namespace {

// The writes one write carries (gathered before its padding was read, or
// coalesced into it): done with it when it lands, and woken all at once
// when it finishes (after it, as they were issued after it). When it does
// not land, each goes back to writing on its own: our failure (an error
// injected once, a bad sector of ours) is not theirs.
class carried_writes {
public:
    explicit carried_writes(request_tracker &t) : tracker_(t) {}
    carried_writes(const carried_writes &) = delete;
    ~carried_writes()
    {
        if (landed_)
            tracker_.release_landed(list_);
        else
            for (auto *c : list_)
                c->absorbed = false;
    }
    void add(const std::vector<tracked_request *> &more)
    {
        list_.insert(list_.end(), more.begin(), more.end());
    }
    // The carrier's write landed. Returns how many it carried.
    std::size_t land()
    {
        landed_ = true;
        return list_.size();
    }

private:
    request_tracker &tracker_;
    std::vector<tracked_request *> list_;
    bool landed_ = false;
};

// A gathered run is one driver request: at most max_transfer, and at most
// this much copied into one bounce buffer.
constexpr std::uint64_t gather_cap = std::uint64_t(1) << 20;

}  // namespace

asio::awaitable<tracked_guard> device_impl::enter_write(std::uint64_t offset, std::uint64_t bytes,
                                                        std::span<const io_buffer> data)
{
    const auto align = write_align(offset);
    const auto plan = make_pad_plan(offset, bytes, align);
    // A write whose padded end passes the end of the device (it grows it, or
    // its tail block is the partial last one) serialises against everything
    // from there on, so the length update and the clipping or trimming of
    // the padding past the end cannot race with another request. Only a
    // truncate that ran while it waited can change that.
    constexpr auto to_end = std::numeric_limits<std::uint64_t>::max();
    auto tracked = co_await tracker_.enter(
        {offset, bytes, plan.needed() ? align : 0, false, data}, [&](tracked_request &r) {
            if (plan.end() <= length() || r.overlap_end == to_end)
                return false;
            request_tracker::mark_serialising_to_end(r, std::min(offset, length()), align);
            return true;
        });
    bump(counters.serialisation_waits, tracked.waits);
    co_return tracked;
}

asio::awaitable<result<std::size_t>> device_impl::pwritev(std::uint64_t offset,
                                                          std::span<const io_buffer> iov,
                                                          request_flags flags)
{
    const auto total = iov_total(iov);
    bump(counters.write_requests);
    if (auto v = validate("write", offset, total); !v) {
        bump(counters.failed_requests);
        co_return v.error();
    }
    if (has(flags, request_flags::may_unmap) || has(flags, request_flags::no_fallback) ||
        has_unknown(flags)) {
        bump(counters.failed_requests);
        co_return make_error(EINVAL, "write at offset " + std::to_string(offset) +
                                         ": only the flag fua applies to a write (flags " +
                                         std::to_string(static_cast<std::uint32_t>(flags)) + ")");
    }
    if (auto w = check_writable("write", offset, total); !w) {
        bump(counters.failed_requests);
        co_return w.error();
    }
    bump(counters.bytes_written, total);
    if (throttle_.enabled())
        co_await throttled(true, total);
    // A write into the first bytes of a probed raw device is checked with
    // its own padded request (write_tracked): no other write may carry it.
    const auto carriable = guards_head(offset) ? std::span<const io_buffer>{} : iov;
    auto tracked = co_await enter_write(offset, total, carriable);
    const bool fua = has(flags, request_flags::fua);
    result<std::size_t> r = static_cast<std::size_t>(total);
    if (!tracked->absorbed)  // else an older write carried our data
        r = co_await write_tracked(offset, iov, &tracked.request(),
                                   fua && native_fua() ? GRANULE_REQ_FUA : 0);
    // Durable on completion: the carrier may not have had FUA, and a node
    // without per-request FUA gets a flush.
    if (r && fua && (tracked->absorbed || !native_fua()))
        if (auto f = co_await flush_root("write"); !f)
            r = f.error();
    if (!r)
        bump(counters.failed_requests);
    co_return r;
}

// The body of a write whose range the caller has already tracked and
// serialised (enter_write): gather, pad, RMW, coalesce, one padded write,
// end-of-node fixup.
asio::awaitable<result<std::size_t>> device_impl::write_tracked(std::uint64_t offset,
                                                                std::span<const io_buffer> iov,
                                                                tracked_request *self,
                                                                std::uint32_t req_flags,
                                                                const char *op)
{
    const auto total = iov_total(iov);
    if (auto w = check_writable(op, offset, total); !w)  // a truncate may have run
        co_return w.error();
    const auto old_length = length();
    padded_write w(offset, iov, write_align(offset));
    carried_writes carried(tracker_);
    if (self)
        carried.add(gather(*self, w, old_length));
    const auto &plan = w.plan();
    const bool past_end = plan.end() > old_length;
    w.layout(buffers_, limits_.min_mem_alignment, limits_.opt_mem_alignment);
    // (An aligned write has no padding: no coroutine for it.)
    if (plan.needed())
        if (auto r = co_await read_padding(w, offset, total); !r)
            co_return r.error();
    const auto div = w.assemble();
    bump(counters.bytes_bounced, w.bounced());

    // Into the first bytes of a probed raw device: the padded request starts
    // at 0 and covers them (write_align); what they hold afterwards, up to
    // where the device will end, must not be a container's signature.
    if (guards_head(offset)) {
        std::array<std::byte, format_probe_bytes> head{};
        const auto kept = std::min<std::uint64_t>(format_probe_bytes,
                                                  std::max(old_length, offset + total));
        w.copy_out(0, kept, head.data());
        if (auto c = check_head(std::string(op) + " at offset " + std::to_string(offset) +
                                    ", length " + std::to_string(total),
                                std::span(head).first(kept));
            !c)
            co_return c.error();
    }

    if (auto e = co_await raise_event("pwritev", offset, total); !e)
        co_return e.error();
    // A node that cannot take padding past its end: the last request stops
    // at the end, like a read there comes back short.
    auto write_bytes = plan.bytes;
    if (past_end && !pads_past_end())
        write_bytes = old_length - plan.offset;
    if (self && !past_end && plan.needed())
        carried.add(coalesce(*self, w));
    auto wrote = co_await submit(GRANULE_OP_WRITE, plan.offset, iov_slice(div, 0, write_bytes),
                                 false, req_flags);
    if (!wrote) {
        // A write that failed acknowledged nothing: the node must not keep
        // what it grew by (a short write on a full disk left 62124 bytes of
        // it past the old end, which the next open showed). Nobody else is
        // past the old end: such a write serialises to the end of the node.
        if (past_end && pads_past_end())
            (void)trim_padding_past(old_length);
        co_return wrote.error();
    }
    bump(counters.writes_carried, carried.land());
    remember_padding(w);
    if (past_end && pads_past_end()) {
        if (auto r = trim_padding_past(std::max(old_length, offset + total)); !r)
            co_return r.error();
    }
    if (auto e = co_await raise_event("pwritev_done", offset, total); !e)
        co_return e.error();
    co_return static_cast<std::size_t>(total);
}

// Gathering: the writes queued behind this one that continue it byte after
// byte (a guest's or a copy tool's stream) join its padded request, so a run
// of unaligned writes costs one RMW and one write, not two I/Os each. Only
// inside the device (the end moves nothing then) and never into the first
// bytes of a probed raw device (checked with their own request).
std::vector<tracked_request *> device_impl::gather(tracked_request &self, padded_write &w,
                                                   std::uint64_t old_length)
{
    const auto &plan = w.plan();
    if (!plan.needed() || guards_head(w.offset()) || plan.end() > old_length)
        return {};
    auto room = std::min(gather_cap, old_length - plan.offset);
    if (limits_.max_transfer)
        room = std::min<std::uint64_t>(room, limits_.max_transfer);
    auto run = tracker_.gather_following(self, w.align(), room);
    for (auto *c : run)
        w.append(c->write_data);
    return run;
}

// Read-modify-write: the head and tail blocks of the padded request, from
// the block cache when this device just wrote them.
asio::awaitable<result<void>> device_impl::read_padding(padded_write &w, std::uint64_t offset,
                                                        std::uint64_t total)
{
    const auto &plan = w.plan();
    const auto align = w.align();
    // A stream: this write starts in the block the last one ended in (the
    // cache has it). Then its tail read also reads ahead for the next ones.
    const bool stream = plan.head && rmw_cache_.contains(plan.offset, align);
    if (plan.head) {
        if (auto e = co_await raise_event("pwritev_rmw_head", offset, total); !e)
            co_return e;
        if (auto r = co_await read_block(plan.offset, w.head_block(), align); !r)
            co_return r;
        bump(counters.rmw_cycles);
        if (auto e = co_await raise_event("pwritev_rmw_after_head", offset, total); !e)
            co_return e;
    }
    if (plan.tail && !plan.same_block) {
        if (auto e = co_await raise_event("pwritev_rmw_tail", offset, total); !e)
            co_return e;
        if (auto r = co_await read_block(plan.end() - align, w.tail_block(), align, stream); !r)
            co_return r;
        bump(counters.rmw_cycles);
        if (auto e = co_await raise_event("pwritev_rmw_after_tail", offset, total); !e)
            co_return e;
    }
    co_return result<void>{};
}

// Coalescing: the writes queued behind this one whose bytes fall in its
// padding go into its head/tail blocks and complete with it, so 8 queued
// 512-byte writes into a 4096-byte block are one I/O.
std::vector<tracked_request *> device_impl::coalesce(tracked_request &self, padded_write &w)
{
    // Not into the bytes of writes this one gathered: they are the run's data.
    auto in_padding = tracker_.absorb_waiting(self, w.plan().offset, w.plan().end(),
                                              w.offset() + w.bytes());
    for (auto *c : in_padding) {
        const auto before = w.bounced();
        w.carry(c->offset, c->write_data);
        bump(counters.bytes_bounced, w.bounced() - before);
    }
    return in_padding;
}

// The next RMW of these blocks (the following small sequential write, or
// one queued behind us) can start from what we just wrote.
void device_impl::remember_padding(const padded_write &w)
{
    const auto &plan = w.plan();
    const auto align = w.align();
    auto remember = [&](std::uint64_t from) {
        rmw_cache_.store(plan.offset + from, align,
                         [&](std::byte *dst) { w.copy_out(from, align, dst); });
    };
    if (plan.head)
        remember(0);
    if (plan.tail && !plan.same_block)
        remember(plan.bytes - align);
}

// An unaligned write past the end extended the node to the aligned end;
// cut it back so the device ends exactly where the data ends.
result<void> device_impl::trim_padding_past(std::uint64_t end)
{
    auto actual = root_->length();
    if (actual > 0 && static_cast<std::uint64_t>(actual) > end && root_->driver().truncate) {
        char err[256] = "";
        int rc = root_->driver().truncate(root_->state(), end, err, sizeof err);
        if (rc < 0)
            return resize_error(end, rc, err);
    }
    auto now = root_->length();
    length_.store(now > 0 ? static_cast<std::uint64_t>(now) : end, std::memory_order_relaxed);
    if (length() < end)
        length_.store(end, std::memory_order_relaxed);
    return {};
}

}  // namespace granule
