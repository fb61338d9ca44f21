// The byte-granularity read and write pipeline:
// validate -> track -> serialise -> pad (RMW) -> split -> driver -> untrack;
// here the read path and the steps shared with the write path (write_path.cpp).
#include "device_impl.hpp"
#include "iov_util.hpp"

#include <granule/driver.hpp>  // sdk::copy_iov
#include <granule/platform/system_error.hpp>


#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <limits>

namespace granule {

namespace asio = boost::asio;

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
    // The message is built only for a refusal: this runs for every write.
    if (format().refuses_writes())
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
        pooled_buffer bounce;
        const bool bounced = limits_.max_iov && piece.size() > limits_.max_iov;
        if (bounced) {
            bounce = buffers_.get(limits_.opt_mem_alignment, chunk);
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
                                                      std::byte *buf, std::uint64_t align,
                                                      bool read_ahead)
{
    if (aligned_offset >= length()) {
        std::memset(buf, 0, align);
        co_return result<void>{};
    }
    if (rmw_cache_.fetch(aligned_offset, buf, align))
        co_return result<void>{};
    // Read ahead: the blocks after this one, up to read_ahead_bytes inside
    // the device, when no request is on them now. They go into the block
    // cache only if nothing changed it while the read ran (a write that
    // started meanwhile may or may not be in what we read).
    std::uint64_t ahead = 0;
    if (read_ahead && !backing_.n) {
        const auto limit = align_down(std::min(length(), aligned_offset + read_ahead_bytes), align);
        if (limit > aligned_offset + align && tracker_.idle(aligned_offset + align, limit))
            ahead = limit - aligned_offset - align;
    }
    granule_iovec both[2] = {{buf, align}, {}};
    pooled_buffer more;
    if (ahead) {
        more = buffers_.get(limits_.opt_mem_alignment, ahead);
        both[1] = {more.data(), ahead};
    }
    const auto generation = rmw_cache_.generation();
    auto got = co_await submit(GRANULE_OP_READ, aligned_offset, std::span(both, ahead ? 2 : 1));
    if (!got)
        co_return got.error();
    const auto in_block = std::min<std::uint64_t>(*got, align);
    std::memset(buf + in_block, 0, align - in_block);
    // All of it came (the device did not end meanwhile), and no write was
    // submitted while it ran.
    if (ahead && *got == align + ahead && rmw_cache_.generation() == generation) {
        bump(counters.bytes_read_ahead, ahead);
        for (std::uint64_t at = 0; at < ahead; at += align)
            rmw_cache_.store(aligned_offset + align + at, align,
                             [&](std::byte *dst) { std::memcpy(dst, more.data() + at, align); });
    }
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
    // Copy-on-read writes what it read: a write into the range meanwhile
    // would be overwritten with older data, so such reads serialise.
    const bool copy = backing_.n && backing_.copy_on_read;
    auto tracked = co_await tracker_.enter({offset, total, copy ? io_align() : 0});
    bump(counters.serialisation_waits, tracked.waits);

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

    pooled_buffer buf;
    driver_iov div;
    const bool zero_copy = memory_aligned(iov, plan.head, plan.tail, limits_.min_mem_alignment);
    if (zero_copy) {
        if (plan.needed())
            buf = buffers_.get(limits_.opt_mem_alignment, plan.head + plan.tail);
        append(div, buf.data(), plan.head);
        append(div, iov);
        append(div, buf.data() + plan.head, plan.tail);
        bump(counters.bytes_bounced, plan.head + plan.tail);
    } else {
        buf = buffers_.get(limits_.opt_mem_alignment, plan.bytes);
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

}  // namespace granule
