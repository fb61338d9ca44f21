// Flush, discard, write-zeroes, truncate and reopen: the operations around
// the read/write pipeline.
#include "device_impl.hpp"
#include "iov_util.hpp"

#include <granule/platform/system_error.hpp>

#include <granule/platform/aligned_buffer.hpp>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <limits>

namespace granule {

namespace asio = boost::asio;

namespace {
constexpr std::uint64_t zero_chunk = 1 << 20;

// How a zeroing of [offset, offset + bytes) splits: the middle, aligned to
// the granularity, through the driver's write_zeroes, the ends as zero
// buffers; all_buffers says why none of it can go to the driver, if so.
// One place for the rule, so a no_fallback request is refused up front for
// exactly the cases where the zeroing would write buffers.
struct zero_split {
    std::uint64_t granularity, start, stop;
    const char *all_buffers;
};

zero_split split_zeroes(bool has_hook, bool has_backing, std::uint64_t zero_align,
                        std::uint64_t io_align, std::uint64_t length, std::uint64_t offset,
                        std::uint64_t bytes)
{
    const auto a = std::max(zero_align, io_align);
    const auto end = offset + bytes;
    zero_split z{a, align_up(offset, a), align_down(end, a), nullptr};
    // Over a backing node the driver may punch a hole, which would show the
    // backing's data instead of zeroes.
    z.all_buffers = !has_hook                           ? "the driver has no efficient zeroing"
                    : has_backing                       ? "a backing node shows through holes"
                    : z.start >= z.stop                 ? "the range is not aligned to the zeroing granularity"
                    : align_up(end, io_align) > length ? "the range reaches past the end"
                                                        : nullptr;
    return z;
}
}  // namespace

asio::awaitable<result<void>> device_impl::flush()
{
    bump(counters.flush_requests);
    auto r = co_await flush_root(nullptr);
    if (!r)
        bump(counters.failed_requests);
    co_return r;
}

// why: the request whose FUA this flush stands for, named in its error.
asio::awaitable<result<void>> device_impl::flush_root(const char *why)
{
    const auto &d = root_->driver();
    if (!d.flush)
        co_return result<void>{};
    auto r = co_await call([&](granule_completion_fn cb, void *opaque) {
        d.flush(root_->state(), 0, cb, opaque);
        return 0;
    });
    if (r.value < 0)
        co_return make_error(static_cast<int>(-r.value),
                             std::string(why ? why : "") + (why ? " (fua): " : "") +
                                 "flush failed: " +
                                 platform::error_text(static_cast<int>(-r.value)) +
                                 (r.message.empty() ? "" : " (" + r.message + ")"));
    co_return result<void>{};
}

// A node is asked from the request-aligned offset below (it may only
// answer for aligned ranges); an answer that ends before offset tells
// nothing, so it counts as data up to the next block. len: the node's end.
asio::awaitable<result<block_extent>> device_impl::node_block_status(node &n, std::uint64_t offset,
                                                                    std::uint64_t bytes,
                                                                    std::uint64_t len)
{
    const auto &d = n.driver();
    if (!d.block_status)
        co_return block_extent{bytes, false, true};
    const auto a = io_align();
    const auto start = align_down(offset, a);
    const auto ask = std::min(align_up(offset + bytes, a), align_up(len, a)) - start;
    granule_block_status out{};
    auto r = co_await call([&](granule_completion_fn cb, void *opaque) {
        d.block_status(n.state(), start, ask, 0, &out, cb, opaque);
        return 0;
    });
    if (r.value < 0)
        co_return io_error("block_status", offset, bytes, r.value, r.message);
    const auto skip = offset - start;
    if (out.bytes <= skip)
        co_return block_extent{std::min(bytes, start + a - offset), false, true};
    const auto held = std::min(out.bytes - skip, bytes);
    co_return block_extent{held, (out.status & GRANULE_BLOCK_ZERO) != 0,
                           (out.status & GRANULE_BLOCK_DATA) != 0};
}

// Over a backing node, a hole of the overlay is what the backing has there.
asio::awaitable<result<block_extent>> device_impl::block_status(std::uint64_t offset,
                                                               std::uint64_t bytes)
{
    if (auto v = validate("block_status", offset, bytes); !v)
        co_return v.error();
    const auto len = length();
    if (offset >= len)
        co_return block_extent{bytes, true, false};
    bytes = std::min(bytes, len - offset);
    auto top = co_await node_block_status(*root_, offset, bytes, len);
    if (!top || !top->zero || !backing_.n)
        co_return top;
    const auto blen = static_cast<std::uint64_t>(std::max<std::int64_t>(backing_.n->length(), 0));
    if (offset >= blen)
        co_return top;
    auto below = co_await node_block_status(*backing_.n, offset,
                                            std::min(top->bytes, blen - offset), blen);
    if (below)
        below->allocated = false;
    co_return below;
}

asio::awaitable<result<void>> device_impl::pdiscard(std::uint64_t offset, std::uint64_t bytes)
{
    return counted(counters.discard_requests, discard_tracked(offset, bytes));
}

asio::awaitable<result<void>> device_impl::discard_tracked(std::uint64_t offset, std::uint64_t bytes)
{
    if (auto v = validate("discard", offset, bytes); !v)
        co_return v.error();
    // Read-only, or past the end of a fixed-size device: refused (EIO
    // there, as qemu's), like a write of the range.
    if (auto w = check_writable("discard", offset, bytes); !w)
        co_return w.error();
    const auto &d = root_->driver();
    const auto a = limits_.pdiscard_alignment;
    auto start = align_up(offset, a);
    const auto stop = align_down(std::min(offset + bytes, length()), a);
    // A discard leaves old bytes or zeroes. Over all of the first bytes of a
    // probed raw device, or none of them, that makes no signature (the probe
    // found none; zeroes are none); over a part of them it could ("QED" +
    // a zero): being advisory, it leaves them alone then.
    if (guards_head(start) && (start > 0 || stop < format_probe_bytes))
        start = align_up(format_probe_bytes, a);
    // Discard is advisory: partial blocks at either end are left alone.
    // Over a backing node a hole in the overlay would show the backing's
    // data again: nothing is discarded.
    if (start >= stop || !d.discard || backing_.n)
        co_return result<void>{};
    auto tracked = co_await tracker_.enter({start, stop - start});
    bump(counters.serialisation_waits, tracked.waits);
    std::uint64_t step = limits_.max_pdiscard ? std::max(align_down(limits_.max_pdiscard, a), a)
                                              : stop - start;
    rmw_cache_.clear();
    for (auto pos = start; pos < stop; pos += step) {
        auto len = std::min(step, stop - pos);
        auto r = co_await call([&](granule_completion_fn cb, void *opaque) {
            d.discard(root_->state(), pos, len, 0, cb, opaque);
            return 0;
        });
        if (r.value == -ENOTSUP || r.value == -EOPNOTSUPP)
            break;
        if (r.value < 0)
            co_return io_error("discard", pos, len, r.value, r.message);
    }
    co_return result<void>{};
}

// Zeroes by writing zero-filled buffers; the caller tracked the range.
asio::awaitable<result<void>> device_impl::write_zero_buffers(std::uint64_t offset,
                                                              std::uint64_t bytes,
                                                              std::uint32_t req_flags)
{
    if (!bytes)
        co_return result<void>{};
    platform::aligned_buffer zeroes(limits_.opt_mem_alignment, std::min(bytes, zero_chunk));
    std::fill_n(zeroes.data(), zeroes.size(), std::byte{0});
    for (std::uint64_t done = 0; done < bytes;) {
        auto len = std::min<std::uint64_t>(zeroes.size(), bytes - done);
        io_buffer b{zeroes.data(), static_cast<std::size_t>(len)};
        auto r = co_await write_tracked(offset + done, {&b, 1}, nullptr, req_flags, "write_zeroes");
        if (!r)
            co_return r.error();
        done += len;
    }
    co_return result<void>{};
}

asio::awaitable<result<void>> device_impl::pwrite_zeroes(std::uint64_t offset, std::uint64_t bytes,
                                                        request_flags flags)
{
    return counted(counters.zero_requests, zeroes_tracked(offset, bytes, flags));
}

// One tracked request covers the whole range, so a later write into the
// middle waits for the zeroing instead of being zeroed after it landed.
asio::awaitable<result<void>> device_impl::zeroes_tracked(std::uint64_t offset, std::uint64_t bytes,
                                                         request_flags flags)
{
    if (auto v = validate("write_zeroes", offset, bytes); !v)
        co_return v.error();
    if (has_unknown(flags))
        co_return make_error(EINVAL, "write_zeroes at offset " + std::to_string(offset) +
                                         ": unknown flags " +
                                         std::to_string(static_cast<std::uint32_t>(flags)));
    if (auto w = check_writable("write_zeroes", offset, bytes); !w)
        co_return w.error();
    // Checked before anything is touched: no part may need zero buffers.
    if (has(flags, request_flags::no_fallback)) {
        const auto &d = root_->driver();
        const auto z = split_zeroes(d.write_zeroes, backing_.n != nullptr, zeroing_align(offset),
                                    io_align(), length(), offset, bytes);
        const char *why = !(root_->flags() & GRANULE_NODE_ZERO_NO_FALLBACK)
                              ? "the driver has no efficient zeroing"
                          : z.all_buffers ? z.all_buffers
                          : z.start != offset || z.stop != offset + bytes
                              ? "the range is not aligned to the zeroing granularity"
                              : nullptr;
        if (why)
            co_return make_error(ENOTSUP, "write_zeroes at offset " + std::to_string(offset) +
                                              ", length " + std::to_string(bytes) +
                                              " (no_fallback): " + why + " (granularity " +
                                              std::to_string(z.granularity) + ", driver '" +
                                              d.name + "')");
    }
    const bool fua = has(flags, request_flags::fua);
    const std::uint32_t fua_flag = fua && native_fua() ? GRANULE_REQ_FUA : 0;
    std::uint32_t zero_flags = fua_flag;
    if (has(flags, request_flags::may_unmap) && (root_->flags() & GRANULE_NODE_ZERO_MAY_UNMAP))
        zero_flags |= GRANULE_REQ_MAY_UNMAP;
    if (has(flags, request_flags::no_fallback))
        zero_flags |= GRANULE_REQ_NO_FALLBACK;
    auto r = co_await zero_range(offset, bytes, zero_flags);
    if (r && fua && !fua_flag)
        r = co_await flush_root("write_zeroes");
    co_return r;
}

// The body of zeroes_tracked: flags are what the root driver declared.
asio::awaitable<result<void>> device_impl::zero_range(std::uint64_t offset, std::uint64_t bytes,
                                                      std::uint32_t zero_flags)
{
    if (throttle_.enabled())
        co_await throttled(true, bytes);
    auto tracked = co_await enter_write(offset, bytes);

    const auto &d = root_->driver();
    const auto z = split_zeroes(d.write_zeroes, backing_.n != nullptr, zeroing_align(offset),
                                io_align(), length(), offset, bytes);
    const auto end = offset + bytes, start = z.start, stop = z.stop;
    const auto fua = zero_flags & GRANULE_REQ_FUA;
    if (z.all_buffers) {
        // zeroes_tracked refused these up front; a truncate ran while we waited.
        if (zero_flags & GRANULE_REQ_NO_FALLBACK)
            co_return make_error(ENOTSUP, "write_zeroes at offset " + std::to_string(offset) +
                                              " (no_fallback): " + z.all_buffers);
        co_return co_await write_zero_buffers(offset, bytes, fua);
    }
    if (auto r = co_await write_zero_buffers(offset, start - offset, fua); !r)
        co_return r;
    if (auto r = co_await write_zero_buffers(stop, end - stop, fua); !r)
        co_return r;
    rmw_cache_.clear();
    auto r = co_await call([&](granule_completion_fn cb, void *opaque) {
        d.write_zeroes(root_->state(), start, stop - start, zero_flags, cb, opaque);
        return 0;
    });
    if ((r.value == -ENOTSUP || r.value == -EOPNOTSUPP) && !(zero_flags & GRANULE_REQ_NO_FALLBACK))
        co_return co_await write_zero_buffers(start, stop - start, fua);
    if (r.value < 0)
        co_return io_error("write_zeroes", start, stop - start, r.value, r.message);
    co_return result<void>{};
}

asio::awaitable<result<void>> device_impl::truncate(std::uint64_t new_length)
{
    if (read_only())
        co_return make_error(EROFS, "truncate: the device is read-only");
    const std::string what = "truncate to " + std::to_string(new_length) + " bytes";
    if (auto r = refuse_container(what); !r)
        co_return r;
    if (new_length > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        co_return make_error(EINVAL, "truncate: length " + std::to_string(new_length) +
                                         " is beyond the largest length 2^63-1");
    // An explicit resize, like qemu-img resize: any node whose driver can
    // (growable is about writes past the end).
    if (!root_->driver().truncate)
        co_return make_error(ENOTSUP, std::string("truncate: driver '") + root_->driver().name +
                                          "' cannot be resized (" + std::to_string(length()) +
                                          " bytes)");
    // Cutting the first bytes of a probed raw device short, or growing it
    // past them with zeroes, changes what they hold: then the truncate
    // serialises from 0 and checks what they will be.
    const bool head_changes = guards_head(std::min(new_length, length()));
    const auto from = head_changes ? 0 : std::min(new_length, length());
    auto tracked = co_await tracker_.enter({from, 1, io_align(), true});
    bump(counters.serialisation_waits, tracked.waits);
    if (head_changes) {
        std::array<std::byte, format_probe_bytes> head{};
        auto got = co_await read_head(head);
        if (!got)
            co_return got.error();
        const auto kept = std::min<std::uint64_t>(format_probe_bytes, new_length);
        if (auto c = check_head(what, std::span(head).first(kept)); !c)
            co_return c.error();
    }
    rmw_cache_.clear();
    char err[256] = "";
    int rc = root_->driver().truncate(root_->state(), new_length, err, sizeof err);
    if (rc < 0)
        co_return resize_error(new_length, rc, err);
    auto now = root_->length();
    length_.store(now >= 0 ? static_cast<std::uint64_t>(now) : new_length);
    co_return result<void>{};
}

void device_impl::configure_throttle(const throttle_config &c)
{
    throttle_.configure(c);
    std::lock_guard lock(throttle_shown_mutex_);
    throttle_shown_ = c.settings();
}

void device_impl::lift_throttle()
{
    configure_throttle({});
    for (auto *t : throttled_)
        t->cancel();
}

asio::awaitable<void> device_impl::throttled(bool write, std::uint64_t bytes)
{
    if (closing_)
        co_return;
    const auto now = throttle::clock::now();
    const auto start = throttle_.admit(write, bytes, now);
    if (start <= now)
        co_return;
    bump(counters.throttle_waits);
    asio::steady_timer timer(ctx_, start);
    auto it = throttled_.insert(throttled_.end(), &timer);
    boost::system::error_code ec;  // cancelled: lift_throttle(), or the device is closing
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    throttled_.erase(it);
}

asio::awaitable<result<void>> device_impl::reopen(options changes)
{
    // throttle.* keys are the core's; they take effect with the barrier.
    const auto throttle_keys = take_sub_options(changes, "throttle");
    auto throttling = parse_throttle(throttle_keys, throttle_.config());
    if (!throttling)
        co_return throttling.error();
    // A barrier: waits for every request before it; later ones wait for it.
    auto tracked = co_await tracker_.enter({0, 1, 1, true});
    rmw_cache_.clear();
    if (!changes.empty() || throttle_keys.empty()) {
        if (auto r = root_->reopen(changes); !r)
            co_return r;
    }
    configure_throttle(*throttling);
    refresh_limits();
    auto len = visible_length();
    if (len >= 0)
        length_.store(static_cast<std::uint64_t>(len));
    co_return result<void>{};
}

}  // namespace granule
