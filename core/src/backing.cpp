// The backing node: options and open, the limits merge, and reads that
// take the overlay's holes from it.
#include "backing.hpp"
#include "iov_util.hpp"
#include "padding.hpp"

#include <granule/platform/aligned_buffer.hpp>

#include <algorithm>
#include <cerrno>

namespace granule {

namespace asio = boost::asio;

result<backing_options> take_backing_options(options &opts)
{
    backing_options b;
    b.node = take_sub_options(opts, "backing");
    // "backing=FILE": the filename shorthand, as for children ("image=d.img").
    if (auto it = opts.find("backing"); it != opts.end()) {
        if (!b.node.empty())
            return make_error(EINVAL, "option 'backing' given both as a filename and as "
                                      "backing.* options");
        b.node["filename"] = it->second;
        opts.erase(it);
    }
    const bool have = !b.node.empty();
    for (const char *key : {"copy-on-read", "overlay-granularity"}) {
        auto it = opts.find(key);
        if (it == opts.end())
            continue;
        if (!have)
            return make_error(EINVAL, std::string("option '") + key +
                                          "' needs a backing node (backing.driver=...)");
        const std::string what = std::string("option '") + key + "'";
        if (it->first == "copy-on-read") {
            auto v = parse_bool(it->second, what);
            if (!v)
                return v.error();
            b.copy_on_read = *v;
        } else {
            auto v = parse_size(it->second, what);
            if (!v)
                return v.error();
            if (*v < 512 || !platform::is_power_of_two(*v))
                return make_error(EINVAL, what + ": " + it->second +
                                              " is not a power of two of at least 512");
            b.granularity = *v;
        }
        opts.erase(it);
    }
    return b;
}

result<backing_node> open_backing(const backing_options &b, node &overlay, bool read_only)
{
    if (b.node.empty())
        return backing_node{};
    if (!overlay.driver().block_status)
        return make_error(ENOTSUP, std::string("backing: the overlay's driver '") +
                                       overlay.driver().name +
                                       "' cannot report holes (no block_status), so the "
                                       "backing node's data could never show through");
    if (b.copy_on_read && read_only)
        return make_error(EINVAL, "copy-on-read needs a writable overlay (the device is "
                                  "opened read-only)");
    auto n = node::open(b.node, true, "backing.");
    if (!n)
        return n.error();
    const auto blen = (*n)->length(), olen = overlay.length();
    if (blen < 0 || olen < 0)
        return make_error(EIO, "backing: cannot get the lengths of the overlay and the backing");
    // Read-only, a shorter overlay is read past its end from the backing (the
    // device is as long as the backing), when its end is a granule's.
    if (olen < blen && read_only && olen % b.granularity == 0)
        return backing_node{std::move(*n), b.granularity, b.copy_on_read};
    // A shorter overlay is resized to the backing's length (as qemu-img
    // create -b sizes an overlay), by any driver that can truncate.
    if (olen < blen) {
        if (!overlay.driver().truncate || read_only)
            return make_error(EINVAL, "backing: the overlay (" + std::to_string(olen) +
                                          " bytes) is shorter than the backing (" +
                                          std::to_string(blen) + " bytes) and cannot grow");
        char err[256] = {};
        int rc = overlay.driver().truncate
                     ? overlay.driver().truncate(overlay.state(), blen, err, sizeof err)
                     : -ENOTSUP;
        if (rc < 0)
            return make_error(-rc, "backing: cannot extend the overlay to " +
                                       std::to_string(blen) + " bytes: " + err);
    }
    return backing_node{std::move(*n), b.granularity, b.copy_on_read};
}

void device_impl::refresh_limits()
{
    limits_ = root_->get_limits();
    if (!backing_.n)
        return;
    auto from_backing = backing_.n->get_limits();
    for (const auto &f : limit_fields)
        if (!from_backing.source_is_default(f.id))  // a default is nobody's
            from_backing.sources[static_cast<std::size_t>(f.id)] =
                "backing " + from_backing.source(f.id);
    limits_ = inherit(limits_, from_backing);
    // Every overlay write covers whole granules, so a granule is either a
    // hole (the backing's) or wholly the overlay's.
    if (backing_.granularity > limits_.request_alignment) {
        limits_.request_alignment = backing_.granularity;
        limits_.sources[static_cast<std::size_t>(limit_id::request_alignment)] =
            "core: overlay-granularity";
    }
    // Zeroing and discard follow the request alignment (both sides were
    // checked already, so nothing can be wrong here).
    (void)normalise_and_check(limits_);
}

// Extent by extent of the overlay's block status: holes (within the
// backing's length) are read from the backing, and written into the overlay
// when copying; the rest from the overlay. Extents are cut at granules.
asio::awaitable<result<std::uint64_t>> device_impl::read_with_backing(
    std::uint64_t offset, std::span<const granule_iovec> iov, bool copy_on_read)
{
    const std::uint64_t g = io_align();
    const std::uint64_t total = iov_total(iov);
    const auto blen = static_cast<std::uint64_t>(std::max<std::int64_t>(backing_.n->length(), 0));
    const auto &d = root_->driver();
    std::uint64_t done = 0;
    while (done < total) {
        const std::uint64_t pos = offset + done, remain = total - done;
        granule_block_status st{remain, GRANULE_BLOCK_DATA};
        auto r = co_await call([&](granule_completion_fn cb, void *opaque) {
            d.block_status(root_->state(), pos, remain, 0, &st, cb, opaque);
            return 0;
        });
        if (r.value < 0)
            co_return io_error("block_status", pos, remain, r.value, r.message);
        std::uint64_t ext = std::clamp<std::uint64_t>(st.bytes, 1, remain);
        bool hole = (st.status & GRANULE_BLOCK_ZERO) && pos < blen;
        if (hole)
            ext = align_down(ext, g);
        if (!hole || ext == 0) {
            hole = false;  // a granule partly allocated is the overlay's
            ext = std::min(std::max(align_up(ext, g), g), remain);
        }
        auto piece = iov_slice(iov, done, ext);
        if (!hole) {
            auto got = co_await submit_to(*root_, GRANULE_OP_READ, pos, piece);
            if (!got)
                co_return got.error();
            done += *got;
            if (*got < ext)
                break;  // the overlay's end: the caller zero-fills
            continue;
        }
        auto got = co_await submit_to(*backing_.n, GRANULE_OP_READ, pos, piece);
        if (!got)
            co_return got.error();
        iov_zero_from(piece, *got);  // past the backing's end
        // The last partial granule is left to a later write's RMW: copying
        // it would write padding past the overlay's end.
        const auto whole_end = align_down(length(), g);
        if (copy_on_read && pos < whole_end) {
            const auto n = std::min(ext, whole_end - pos);
            auto w = co_await submit_to(*root_, GRANULE_OP_WRITE, pos, iov_slice(piece, 0, n));
            if (!w)
                co_return w.error();
            bump(counters.bytes_copied_on_read, n);
        }
        done += ext;
    }
    co_return done;
}

}  // namespace granule
