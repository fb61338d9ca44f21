#include "convert_copy.hpp"

#include <granule/platform/aligned_buffer.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>

namespace {

using granule::make_error;

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

bool all_zero(const std::byte *p, std::size_t n)
{
    // Word-wise first: most data chunks differ from zero in their first bytes.
    static constexpr std::byte zeros[512] = {};
    while (n >= sizeof zeros) {
        if (std::memcmp(p, zeros, sizeof zeros) != 0)
            return false;
        p += sizeof zeros;
        n -= sizeof zeros;
    }
    return std::memcmp(p, zeros, n) == 0;
}

class run_writer {
public:
    run_writer(granule::device &dst, const copy_options &o, copy_result &r)
        : dst_(dst), opts_(o), res_(r)
    {
    }

    // Bytes [off, off+len) of the source are at p and are zero or not.
    granule::result<void> add(std::uint64_t off, const std::byte *p, std::uint64_t len, bool zero)
    {
        if (len_ && (zero != zero_ || off != off_ + len_)) {
            if (auto r = flush(); !r)
                return r;
        }
        if (!len_) {
            off_ = off;
            p_ = p;
            zero_ = zero;
        }
        len_ += len;
        return {};
    }

    granule::result<void> flush()
    {
        if (!len_)
            return {};
        auto off = off_, len = len_;
        len_ = 0;
        if (!zero_) {
            auto w = dst_.pwrite(off, p_, len);
            if (!w)
                return side_error("DST", w.error(), "write", off, len);
            res_.data_bytes += len;
            return {};
        }
        res_.zero_bytes += len;
        if (opts_.target_is_zero)
            return {};
        auto z = dst_.pwrite_zeroes(off, len);
        if (!z)
            return side_error("DST", z.error(), "write zeroes", off, len);
        return {};
    }

private:
    granule::device &dst_;
    const copy_options &opts_;
    copy_result &res_;
    std::uint64_t off_ = 0, len_ = 0;
    const std::byte *p_ = nullptr;
    bool zero_ = false;
};

void show_progress(std::uint64_t done, std::uint64_t total)
{
    double pct = total ? 100.0 * double(done) / double(total) : 100.0;
    std::fprintf(stderr, "\r    (%.2f/100%%)", pct);
    std::fflush(stderr);
}

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
    const auto sl = src.get_limits(), dl = dst.get_limits();
    const std::size_t align = std::max<std::uint64_t>(
        {sl.opt_mem_alignment, dl.opt_mem_alignment, std::uint64_t(4096)});
    granule::platform::aligned_buffer buf(align, opts.chunk);
    const std::uint64_t unit = opts.sparse_size;

    for (std::uint64_t off = 0; off < res.bytes;) {
        const std::uint64_t n = std::min<std::uint64_t>(opts.chunk, res.bytes - off);
        auto r = src.pread(off, buf.data(), n);
        if (!r)
            return side_error("SRC", r.error(), "read", off, n);
        run_writer runs(dst, opts, res);
        for (std::uint64_t pos = off; pos < off + n;) {
            // Units are aligned to absolute offsets, so a hole in DST never
            // starts or ends inside a block SRC and DST both see as one.
            std::uint64_t end = unit ? std::min(off + n, (pos / unit + 1) * unit) : off + n;
            const std::byte *p = buf.data() + (pos - off);
            bool zero = unit && end - pos == std::min(unit, res.bytes - pos / unit * unit) &&
                        all_zero(p, end - pos);
            if (auto a = runs.add(pos, p, end - pos, zero); !a)
                return a.error();
            pos = end;
        }
        if (auto f = runs.flush(); !f)
            return f.error();
        off += n;
        if (opts.progress)
            show_progress(off, res.bytes);
    }
    if (opts.progress)
        std::fputc('\n', stderr);
    // Trailing holes of a created target: the length comes from truncate.
    if (dst.length() < res.bytes) {
        if (auto t = dst.truncate(res.bytes); !t)
            return make_error(t.error().code, "truncate of DST to " + std::to_string(res.bytes) +
                                                  " bytes failed: " + t.error().message);
    }
    if (auto f = dst.flush(); !f)
        return make_error(f.error().code, "flush of DST failed: " + f.error().message);
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
