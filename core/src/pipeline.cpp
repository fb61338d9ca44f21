// The byte-granularity read and write pipeline:
// validate -> track -> serialise -> pad (RMW) -> split -> driver -> untrack.
#include "device_impl.hpp"
#include "iov_util.hpp"

#include <granule/driver.hpp>  // sdk::copy_iov
#include <granule/platform/system_error.hpp>

#include <granule/platform/aligned_buffer.hpp>

#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <limits>

namespace granule {

namespace asio = boost::asio;
using platform::aligned_buffer;

namespace {

constexpr std::uint64_t max_end = std::numeric_limits<std::int64_t>::max();

const char *op_name(std::uint32_t op) { return op == GRANULE_OP_READ ? "read" : "write"; }

}  // namespace

// Said once: a driver's message names its request, file and errno (the
// ABI asks it to), so it is the whole message; without one, the core names
// the request and the errno.
error io_error(const char *op, std::uint64_t offset, std::uint64_t bytes, std::int64_t rc,
               const std::string &detail)
{
    int code = rc < 0 ? static_cast<int>(-rc) : EIO;
    if (!detail.empty())
        return make_error(code, detail);
    return make_error(code, std::string(op) + " of " + std::to_string(bytes) + " bytes at offset " +
                                std::to_string(offset) + ": " + platform::error_text(code));
}

error resize_error(std::uint64_t new_length, int rc, const std::string &detail)
{
    int code = rc < 0 ? -rc : EIO;
    if (!detail.empty())
        return make_error(code, detail);
    return make_error(code, "truncate to " + std::to_string(new_length) +
                                " bytes: " + platform::error_text(code));
}

result<void> device_impl::validate(const char *op, std::uint64_t offset, std::uint64_t bytes) const
{
    if (offset > max_end)
        return make_error(EINVAL, std::string(op) + ": offset " + std::to_string(offset) +
                                      " is beyond the largest offset 2^63-1");
    if (bytes == 0)
        return make_error(EINVAL, std::string(op) + " at offset " + std::to_string(offset) +
                                      ": length 0");
    if (bytes > max_end - offset)
        return make_error(EINVAL, std::string(op) + ": offset " + std::to_string(offset) +
                                      " + length " + std::to_string(bytes) +
                                      " overflows (the largest end is 2^63-1)");
    return {};
}

result<void> device_impl::check_writable(const char *op, std::uint64_t offset,
                                         std::uint64_t bytes) const
{
    if (read_only())
        return make_error(EROFS, std::string(op) + " at offset " + std::to_string(offset) +
                                     ": the device is read-only");
    if (auto r = refuse_container(std::string(op) + " at offset " + std::to_string(offset) +
                                  ", length " + std::to_string(bytes));
        !r)
        return r;
    // EIO, as qemu's raw: a fixed-size image ends where it ends.
    auto len = length();
    if (offset + bytes > len && !growable())
        return make_error(EIO, std::string(op) + " at offset " + std::to_string(offset) +
                                      ", length " + std::to_string(bytes) + " ends at " +
                                      std::to_string(offset + bytes) +
                                      ", past the end of the device (" + std::to_string(len) +
                                      " bytes), and driver '" + root_->driver().name +
                                      "' cannot grow");
    return {};
}

asio::awaitable<result<void>> device_impl::raise_event(const char *event, std::uint64_t offset,
                                                       std::uint64_t bytes)
{
    if (!debug_node_)
        co_return result<void>{};
    node *n = debug_node_;
    auto r = co_await call([&](granule_completion_fn cb, void *opaque) {
        n->driver().debug_event(n->state(), event, offset, bytes, cb, opaque);
        return 0;
    });
    // The event is the core's name for a step of the user's write: the
    // message speaks of the write (blkdebug's names the event it was given).
    if (r.value < 0)
        co_return io_error("write", offset, bytes, r.value, r.message);
    co_return result<void>{};
}

asio::awaitable<result<std::uint64_t>> device_impl::submit(std::uint32_t op,
                                                           std::uint64_t aligned_offset,
                                                           std::span<const granule_iovec> iov,
                                                           bool copy_on_read,
                                                           std::uint32_t req_flags)
{
    if (op == GRANULE_OP_READ && backing_.n)
        return read_with_backing(aligned_offset, iov, copy_on_read);
    return submit_to(*root_, op, aligned_offset, iov, req_flags);
}

asio::awaitable<result<std::uint64_t>> device_impl::submit_to(node &n, std::uint32_t op,
                                                              std::uint64_t aligned_offset,
                                                              std::span<const granule_iovec> iov,
                                                              std::uint32_t req_flags)
{
    const std::uint64_t total = iov_total(iov);
    std::uint64_t chunk_max = total;
    if (limits_.max_transfer)
        chunk_max = std::max(align_down(limits_.max_transfer, io_align()), io_align());
    const auto &d = n.driver();
    if (op == GRANULE_OP_WRITE)
        rmw_cache_.invalidate(aligned_offset, total);
    std::uint64_t done = 0;
    while (done < total) {
        std::uint64_t chunk = std::min(chunk_max, total - done);
        auto piece = iov_slice(iov, done, chunk);
        // More iovec elements than the node takes (preadv's IOV_MAX, say):
        // this chunk goes through one aligned bounce buffer.
        aligned_buffer bounce;
        const bool bounced = limits_.max_iov && piece.size() > limits_.max_iov;
        if (bounced) {
            bounce = aligned_buffer(limits_.opt_mem_alignment, chunk);
            if (op == GRANULE_OP_WRITE)
                sdk::copy_iov(piece.data(), piece.size(), bounce.data(), chunk, true);
            piece = {granule_iovec{bounce.data(), chunk}};
            bump(counters.bytes_bounced, chunk);
        }
        granule_request req{};
        req.op = op;
        req.flags = req_flags;
        req.offset = aligned_offset + done;
        req.length = chunk;
        req.iov = piece.data();
        req.iovcnt = static_cast<std::uint32_t>(piece.size());
        bump(counters.driver_requests);
        auto r = co_await call([&](granule_completion_fn cb, void *opaque) {
            return d.submit(n.state(), &req, cb, opaque);
        });
        if (r.value < 0)
            co_return io_error(op_name(op), aligned_offset + done, chunk, r.value, r.message);
        auto got = static_cast<std::uint64_t>(r.value);
        if (bounced && op == GRANULE_OP_READ) {
            const auto dst = iov_slice(iov, done, chunk);
            sdk::copy_iov(dst.data(), dst.size(), bounce.data(), std::min(got, chunk), false);
        }
        done += std::min(got, chunk);
        if (got < chunk) {
            if (op == GRANULE_OP_WRITE)
                co_return make_error(EIO, "write of " + std::to_string(chunk) +
                                              " bytes at offset " +
                                              std::to_string(aligned_offset + done - got) +
                                              ": the driver wrote only " + std::to_string(got));
            break;  // end of file: the caller zero-fills
        }
    }
    co_return done;
}

asio::awaitable<result<void>> device_impl::read_block(std::uint64_t aligned_offset,
                                                      std::byte *buf, std::uint64_t align)
{
    if (aligned_offset >= length()) {
        std::memset(buf, 0, align);
        co_return result<void>{};
    }
    if (rmw_cache_.fetch(aligned_offset, buf, align))
        co_return result<void>{};
    granule_iovec one{buf, align};
    auto got = co_await submit(GRANULE_OP_READ, aligned_offset, {&one, 1});
    if (!got)
        co_return got.error();
    std::memset(buf + *got, 0, align - *got);
    co_return result<void>{};
}

asio::awaitable<result<std::size_t>> device_impl::preadv(std::uint64_t offset,
                                                         std::span<const io_buffer> iov)
{
    const auto total = iov_total(iov);
    bump(counters.read_requests);
    if (auto v = validate("read", offset, total); !v) {
        bump(counters.failed_requests);
        co_return v.error();
    }
    // A fixed-size device ends where it ends (EIO, as qemu's raw); reading
    // past the end returns zeroes only on a growable one, where the end moves.
    if (!growable() && offset + total > length()) {
        bump(counters.failed_requests);
        co_return make_error(EIO, "read at offset " + std::to_string(offset) + ", length " +
                                      std::to_string(total) + " ends at " +
                                      std::to_string(offset + total) +
                                      ", past the end of the device (" +
                                      std::to_string(length()) + " bytes), which cannot grow");
    }
    bump(counters.bytes_read, total);
    if (throttle_.enabled())
        co_await throttled(false, total);
    tracked_request req(offset, total);
    tracking_scope scope(tracker_, req);
    // Copy-on-read writes what it read: a write into the range meanwhile
    // would be overwritten with older data, so such reads serialise.
    const bool copy = backing_.n && backing_.copy_on_read;
    if (copy)
        request_tracker::mark_serialising(req, io_align());
    bump(counters.serialisation_waits, co_await tracker_.wait(req));
    req.started = true;

    const auto align = io_align();
    const auto len = length();
    if (offset >= len) {
        driver_iov all;
        append(all, iov);
        iov_zero_from(all, 0);
        co_return static_cast<std::size_t>(total);
    }
    const auto plan = make_pad_plan(offset, total, align);
    // Read up to the aligned end of file at most; the rest is zeroes.
    const auto read_bytes = std::min(plan.end(), align_up(len, align)) - plan.offset;

    aligned_buffer buf;
    driver_iov div;
    const bool zero_copy = memory_aligned(iov, plan.head, plan.tail, limits_.min_mem_alignment);
    if (zero_copy) {
        if (plan.needed())
            buf = aligned_buffer(limits_.opt_mem_alignment, plan.head + plan.tail);
        append(div, buf.data(), plan.head);
        append(div, iov);
        append(div, buf.data() + plan.head, plan.tail);
        bump(counters.bytes_bounced, plan.head + plan.tail);
    } else {
        buf = aligned_buffer(limits_.opt_mem_alignment, plan.bytes);
        append(div, buf.data(), plan.bytes);
        bump(counters.bytes_bounced, plan.bytes);
    }
    auto got = co_await submit(GRANULE_OP_READ, plan.offset, iov_slice(div, 0, read_bytes), copy);
    if (!got) {
        bump(counters.failed_requests);
        co_return got.error();
    }
    iov_zero_from(div, std::min(*got, len - plan.offset));
    if (!zero_copy)
        copy_to_iov(iov, buf.data() + plan.head);
    co_return static_cast<std::size_t>(total);
}

asio::awaitable<void> device_impl::serialise_write(tracked_request &req, std::uint64_t offset,
                                                   std::uint64_t bytes)
{
    const auto align = write_align(offset);
    const auto plan = make_pad_plan(offset, bytes, align);
    if (plan.needed())
        request_tracker::mark_serialising(req, align);
    // A write whose padded end passes the end of the device (it grows it, or
    // its tail block is the partial last one) serialises against everything
    // from there on, so the length update and the clipping or trimming of
    // the padding past the end cannot race with another request.
    constexpr auto to_end = std::numeric_limits<std::uint64_t>::max();
    for (;;) {
        if (plan.end() > length() && req.overlap_end != to_end)
            request_tracker::mark_serialising_to_end(req, std::min(offset, length()), align);
        bump(counters.serialisation_waits, co_await tracker_.wait(req));
        // Only a truncate that ran while we waited can change the answer.
        if (plan.end() <= length() || req.overlap_end == to_end)
            break;
    }
    req.started = true;
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
    tracked_request req(offset, total);
    // A write into the first bytes of a probed raw device is checked with
    // its own padded request (write_tracked): no older write may carry it.
    if (!guards_head(offset))
        req.write_data = iov;
    tracking_scope scope(tracker_, req);
    co_await serialise_write(req, offset, total);
    const bool fua = has(flags, request_flags::fua);
    result<std::size_t> r = static_cast<std::size_t>(total);
    if (!req.absorbed)  // else an older write to the same blocks carried our data
        r = co_await write_tracked(offset, iov, &req, fua && native_fua() ? GRANULE_REQ_FUA : 0);
    // Durable on completion: the carrier may not have had FUA, and a node
    // without per-request FUA gets a flush.
    if (r && fua && (req.absorbed || !native_fua()))
        if (auto f = co_await flush_root("write"); !f)
            r = f.error();
    if (!r)
        bump(counters.failed_requests);
    co_return r;
}

// The body of a write whose range the caller has already tracked and
// serialised (see serialise_write): RMW, one padded write, end-of-node fixup.
asio::awaitable<result<std::size_t>> device_impl::write_tracked(std::uint64_t offset,
                                                                std::span<const io_buffer> iov,
                                                                tracked_request *self,
                                                                std::uint32_t req_flags,
                                                                const char *op)
{
    const auto total = iov_total(iov);
    const auto align = write_align(offset);
    const auto end = offset + total;
    const auto plan = make_pad_plan(offset, total, align);
    if (auto w = check_writable(op, offset, total); !w)  // a truncate may have run
        co_return w.error();
    const auto old_length = length();
    const bool past_end = plan.end() > old_length;

    const bool zero_copy = memory_aligned(iov, plan.head, plan.tail, limits_.min_mem_alignment);
    aligned_buffer buf;
    std::byte *head_block = nullptr;
    std::byte *tail_block = nullptr;
    if (zero_copy) {
        std::uint64_t blocks = plan.rmw_blocks();
        if (blocks)
            buf = aligned_buffer(limits_.opt_mem_alignment, blocks * align);
        head_block = plan.head ? buf.data() : nullptr;
        if (plan.tail)
            tail_block = plan.same_block ? buf.data() : buf.data() + (plan.head ? align : 0);
    } else {
        buf = aligned_buffer(limits_.opt_mem_alignment, plan.bytes);
        head_block = plan.head ? buf.data() : nullptr;
        tail_block = plan.tail ? buf.data() + plan.bytes - align : nullptr;
    }

    if (plan.head) {
        if (auto e = co_await raise_event("pwritev_rmw_head", offset, total); !e)
            co_return e.error();
        if (auto r = co_await read_block(plan.offset, head_block, align); !r)
            co_return r.error();
        bump(counters.rmw_cycles);
        if (auto e = co_await raise_event("pwritev_rmw_after_head", offset, total); !e)
            co_return e.error();
    }
    if (plan.tail && !plan.same_block) {
        if (auto e = co_await raise_event("pwritev_rmw_tail", offset, total); !e)
            co_return e.error();
        if (auto r = co_await read_block(plan.end() - align, tail_block, align); !r)
            co_return r.error();
        bump(counters.rmw_cycles);
        if (auto e = co_await raise_event("pwritev_rmw_after_tail", offset, total); !e)
            co_return e.error();
    }

    driver_iov div;
    if (zero_copy) {
        append(div, head_block, plan.head);
        append(div, iov);
        if (plan.tail)
            append(div, tail_block + align - plan.tail, plan.tail);
        bump(counters.bytes_bounced, plan.head + plan.tail);
    } else {
        copy_from_iov(buf.data() + plan.head, iov);
        append(div, buf.data(), plan.bytes);
        bump(counters.bytes_bounced, plan.bytes);
    }

    // Into the first bytes of a probed raw device: the padded request starts
    // at 0 and covers them (write_align); what they hold afterwards, up to
    // where the device will end, must not be a container's signature.
    if (guards_head(offset)) {
        std::array<std::byte, format_probe_bytes> head{};
        const auto kept = std::min<std::uint64_t>(format_probe_bytes, std::max(old_length, end));
        auto *dst = head.data();
        for (const auto &e : iov_slice(div, 0, kept)) {
            std::memcpy(dst, e.base, e.len);
            dst += e.len;
        }
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
    // Coalescing: the writes queued behind this one whose bytes fall in its
    // padding go into this write's head/tail blocks and complete with it,
    // so 8 queued 512-byte writes into a 4096-byte block are one I/O.
    std::vector<tracked_request *> carried;
    if (self && !past_end && plan.needed()) {
        carried = tracker_.absorb_waiting(*self, plan.offset, plan.end());
        for (auto *c : carried) {
            std::byte *dst = !zero_copy ? buf.data() + (c->offset - plan.offset)
                             : c->offset < offset ? head_block + (c->offset - plan.offset)
                                                  : tail_block + (c->offset - (plan.end() - align));
            copy_from_iov(dst, c->write_data);
            if (zero_copy)
                bump(counters.bytes_bounced, c->bytes);
        }
    }
    auto wrote = co_await submit(GRANULE_OP_WRITE, plan.offset, iov_slice(div, 0, write_bytes),
                                 false, req_flags);
    // Our failure is not theirs (an error injected once, a bad sector of
    // ours): carried writes go back to writing on their own.
    if (!wrote) {
        for (auto *c : carried)
            c->absorbed = false;
        // A write that failed acknowledged nothing: the node must not keep
        // what it grew by (a short write on a full disk left 62124 bytes of
        // it past the old end, which the next open showed). Nobody else is
        // past the old end: such a write serialises to the end of the node.
        if (past_end && pads_past_end())
            (void)trim_padding_past(old_length);
        co_return wrote.error();
    }
    // The next RMW of these blocks (the following small sequential write,
    // or one queued behind us) can start from what we just wrote.
    auto remember = [&](std::uint64_t from) {
        rmw_cache_.store(plan.offset + from, align, [&](std::byte *dst) {
            for (const auto &e : iov_slice(div, from, align)) {
                std::memcpy(dst, e.base, e.len);
                dst += e.len;
            }
        });
    };
    if (plan.head)
        remember(0);
    if (plan.tail && !plan.same_block)
        remember(plan.bytes - align);
    if (past_end && pads_past_end()) {
        if (auto r = trim_padding_past(std::max(old_length, end)); !r)
            co_return r.error();
    }
    if (auto e = co_await raise_event("pwritev_done", offset, total); !e)
        co_return e.error();
    co_return static_cast<std::size_t>(total);
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
