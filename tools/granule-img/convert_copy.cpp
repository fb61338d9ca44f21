#include "convert_copy.hpp"

#include <granule/platform/aligned_buffer.hpp>

#include <boost/asio/use_future.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <future>
#include <optional>
#include <vector>

namespace {

using granule::make_error;
using io_future = std::future<granule::result<std::size_t>>;

// The core's messages name the request ("write at offset N, length L
// failed: ..."); those that do not get the range added.
granule::error side_error(const char *side, const granule::error &e, const char *what,
                          std::uint64_t off, std::uint64_t len)
{
    std::string m = e.message;
    if (m.find("offset " + std::to_string(off)) == std::string::npos)
        m = std::string(what) + " at offset " + std::to_string(off) + ", length " +
            std::to_string(len) + " failed: " + m;
    return granule::error{e.code, std::string(side) + ": " + m};
}

granule::result<std::size_t> wait(io_future &f)
{
    try {
        return f.get();
    } catch (const std::bad_alloc &) {
        return make_error(ENOMEM, "out of memory");
    }
}

bool all_zero(const std::byte *p, std::size_t n)
{
    static constexpr std::byte zeros[512] = {};
    while (n >= sizeof zeros) {
        if (std::memcmp(p, zeros, sizeof zeros) != 0)
            return false;
        p += sizeof zeros;
        n -= sizeof zeros;
    }
    return std::memcmp(p, zeros, n) == 0;
}

// One chunk of SRC in memory: its read in flight, or the writes of its data
// runs. The buffer is read into again only once both are over.
struct slot {
    struct pending {
        std::uint64_t off, len;
        io_future done;
    };
    granule::platform::aligned_buffer buf;
    std::uint64_t off = 0, len = 0;
    bool hole = false;  // SRC said it reads as zeroes: not read at all
    std::optional<io_future> read;
    std::vector<pending> writes;

    // Waits for everything in flight; the first write failure.
    granule::result<void> drain()
    {
        if (read) {
            (void)wait(*read);
            read.reset();
        }
        granule::result<void> first;
        for (auto &w : writes)
            if (auto r = wait(w.done); !r && first)
                first = side_error("DST", r.error(), "write", w.off, w.len);
        writes.clear();
        return first;
    }
};

// Reads run ahead of the chunk being cut into runs; data runs are written
// asynchronously from their chunk's buffer; a zero run may span chunks and
// is handled (skipped, or one write_zeroes) when data follows or at the end.
class copier {
public:
    copier(granule::device &src, granule::device &dst, const copy_options &o, copy_result &r,
           std::size_t align)
        : src_(src), dst_(dst), opts_(o), res_(r), slots_(std::max(1u, o.depth))
    {
        for (auto &s : slots_)
            s.buf = granule::platform::aligned_buffer(align, opts_.chunk);
    }

    granule::result<void> run()
    {
        const std::uint64_t chunks = (res_.bytes + opts_.chunk - 1) / opts_.chunk;
        // Chunks read ahead of the one being cut, each into a slot of its
        // own: fewer than the slots, or chunk k + ahead would be read into
        // chunk k's slot before k was written out (-m 1 did that).
        const std::uint64_t ahead = slots_.size() / 2;
        granule::result<void> st;
        std::uint64_t issued = 0;
        for (std::uint64_t k = 0; k < chunks && st; ++k) {
            while (st && issued < chunks && issued <= k + ahead)
                st = start_read(issued++);
            if (!st)
                break;
            slot &s = slots_[k % slots_.size()];
            if (s.hole) {
                add_zeroes(s.off, s.len);
                if (opts_.on_progress)
                    opts_.on_progress(s.off + s.len);
                continue;
            }
            auto r = wait(*s.read);
            s.read.reset();
            if (!r) {
                st = side_error("SRC", r.error(), "read", s.off, s.len);
                break;
            }
            st = cut_into_runs(s);
            if (opts_.on_progress)
                opts_.on_progress(s.off + s.len);
        }
        if (st)
            st = end_zero_run();
        for (auto &s : slots_)
            if (auto d = s.drain(); !d && st)
                st = d;
        return st;
    }

private:
    granule::result<void> start_read(std::uint64_t k)
    {
        slot &s = slots_[k % slots_.size()];
        if (auto d = s.drain(); !d)
            return d;
        s.off = k * opts_.chunk;
        s.len = std::min<std::uint64_t>(opts_.chunk, res_.bytes - s.off);
        // A hole in SRC (SEEK_HOLE, for instance) needs no reading; when SRC
        // cannot tell, the chunk is read and scanned.
        s.hole = opts_.sparse_size && known_zero_until(s.off) >= s.off + s.len;
        if (s.hole)
            return {};
        std::vector<granule::io_buffer> iov{{s.buf.data(), s.len}};
        s.read = src_.async_preadv(s.off, std::move(iov), boost::asio::use_future);
        return {};
    }

    // Units are aligned to absolute offsets, so a hole in DST never starts
    // or ends inside a block SRC and DST both see as one.
    granule::result<void> cut_into_runs(slot &s)
    {
        const std::uint64_t unit = opts_.sparse_size, end = s.off + s.len;
        if (unit == 0) {  // -S 0: every byte is copied as data, no zero runs
            if (auto z = end_zero_run(); !z)
                return z;
            write_data(s, s.off, s.len);
            return {};
        }
        std::uint64_t data_off = 0, data_len = 0;
        for (std::uint64_t pos = s.off; pos < end;) {
            std::uint64_t next = std::min(end, (pos / unit + 1) * unit);
            const std::byte *p = s.buf.data() + (pos - s.off);
            bool whole_unit = next - pos == std::min(unit, res_.bytes - pos / unit * unit);
            if (whole_unit && all_zero(p, next - pos)) {
                write_data(s, data_off, data_len);
                data_len = 0;
                add_zeroes(pos, next - pos);
            } else {
                if (auto z = end_zero_run(); !z)
                    return z;
                if (!data_len)
                    data_off = pos;
                data_len += next - pos;
            }
            pos = next;
        }
        write_data(s, data_off, data_len);
        return {};
    }

    void write_data(slot &s, std::uint64_t off, std::uint64_t len)
    {
        if (!len)
            return;
        std::vector<granule::io_buffer> iov{{s.buf.data() + (off - s.off), len}};
        s.writes.push_back({off, len, dst_.async_pwritev(off, std::move(iov),
                                                         boost::asio::use_future)});
        res_.data_bytes += len;
    }

    // Where the zero extent of SRC at off ends (off when it is data). One
    // query answers for a whole extent, so a block device (all data) is
    // asked once, a sparse file once per extent.
    std::uint64_t known_zero_until(std::uint64_t off)
    {
        if (off >= extent_end_) {
            auto b = src_.block_status(off, res_.bytes - off);
            extent_end_ = b ? off + b->bytes : res_.bytes;
            extent_zero_ = b && b->zero;
        }
        return extent_zero_ ? extent_end_ : off;
    }

    void add_zeroes(std::uint64_t off, std::uint64_t len)
    {
        if (!zero_len_)
            zero_off_ = off;
        zero_len_ += len;
    }

    granule::result<void> end_zero_run()
    {
        if (!zero_len_)
            return {};
        auto off = zero_off_, len = zero_len_;
        zero_len_ = 0;
        res_.zero_bytes += len;
        if (opts_.target_is_zero)
            return {};
        if (auto z = dst_.pwrite_zeroes(off, len); !z)
            return side_error("DST", z.error(), "write zeroes", off, len);
        return {};
    }

    granule::device &src_, &dst_;
    const copy_options &opts_;
    copy_result &res_;
    std::vector<slot> slots_;
    std::uint64_t zero_off_ = 0, zero_len_ = 0;
    std::uint64_t extent_end_ = 0;  // SRC's block status is known up to here
    bool extent_zero_ = false;
};

}  // namespace

granule::result<copy_result> copy_device(granule::device &src, granule::device &dst,
                                         const copy_options &opts)
{
    const auto start = std::chrono::steady_clock::now();
    copy_result res;
    res.bytes = src.length();
    res.zeroes_skipped = opts.target_is_zero;
    if (dst.read_only())
        return make_error(EROFS, "DST is read-only");
    if (!dst.growable() && dst.length() < res.bytes)
        return make_error(ENOSPC, "DST holds " + std::to_string(dst.length()) +
                                      " bytes, SRC has " + std::to_string(res.bytes) +
                                      " and DST cannot grow: nothing was written");
    const auto src_lim = src.get_limits(), dst_lim = dst.get_limits();
    const std::size_t align = std::max<std::uint64_t>(
        {src_lim.opt_mem_alignment, dst_lim.opt_mem_alignment, std::uint64_t(4096)});
    auto copied = copier(src, dst, opts, res, align).run();
    if (!copied)
        return copied.error();
    // Trailing holes of a created target: the length comes from truncate.
    if (dst.length() < res.bytes) {
        if (auto t = dst.truncate(res.bytes); !t)
            return make_error(t.error().code, "DST: truncate to " + std::to_string(res.bytes) +
                                                  " bytes failed: " + t.error().message);
    }
    if (auto f = dst.flush(); !f)
        return make_error(f.error().code, "DST: flush failed: " + f.error().message);
    res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return res;
}

std::string copy_summary(const copy_result &r)
{
    char line[256];
    double mbps = r.seconds > 0 ? double(r.bytes) / r.seconds / 1e6 : 0;
    std::snprintf(line, sizeof line,
                  "converted %llu bytes: %llu data, %llu zero (%s) in %.3f s (%.1f MB/s)",
                  static_cast<unsigned long long>(r.bytes),
                  static_cast<unsigned long long>(r.data_bytes),
                  static_cast<unsigned long long>(r.zero_bytes),
                  r.zeroes_skipped ? "left as holes" : "written as zeroes", r.seconds, mbps);
    return line;
}
