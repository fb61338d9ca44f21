// raw-posix: regular files and block devices. Reads and writes go through
// io_uring ("aio=io_uring", the default where the kernel allows it) or a
// thread pool ("aio=threads"); the other blocking syscalls (fallocate,
// ioctls) always run on the pool so the device thread never waits.
#include "probe.hpp"
#include "uring_engine.hpp"

#include <granule/driver.hpp>
#include <granule/driver_thread_pool.hpp>
#include <granule/platform/aligned_buffer.hpp>  // page_size
#include <granule/platform/system_error.hpp>

#include <climits>

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

namespace {

using namespace granule::sdk;
using granule::platform::error_text;
using raw_posix::dio_alignment;
using std::uint64_t;

constexpr uint64_t max_aio_threads = 256;
// Requests beyond the ring size simply wait in the kernel's queue.
constexpr unsigned uring_entries = 256;

class unique_fd {
public:
    unique_fd() = default;
    unique_fd(const unique_fd &) = delete;
    unique_fd &operator=(const unique_fd &) = delete;
    ~unique_fd()
    {
        if (fd_ >= 0)
            ::close(fd_);
    }
    void reset(int fd) noexcept
    {
        if (fd_ >= 0)
            ::close(fd_);
        fd_ = fd;
    }
    int get() const noexcept { return fd_; }

private:
    int fd_ = -1;
};

// Moves v[idx..] past n transferred bytes.
void advance(std::vector<iovec> &v, std::size_t &idx, std::size_t n)
{
    while (n && idx < v.size()) {
        std::size_t step = std::min(n, v[idx].iov_len);
        v[idx].iov_base = static_cast<char *>(v[idx].iov_base) + step;
        v[idx].iov_len -= step;
        n -= step;
        if (v[idx].iov_len == 0)
            ++idx;
    }
}

class raw_posix_node {
public:
    static constexpr const char *name = "raw-posix";
    static constexpr const char *description = "regular files and block devices (POSIX)";
    static constexpr bool claims_plain_filenames = true;
    static constexpr granule_option_desc options[] = {
        {"filename", GRANULE_OPT_STRING, GRANULE_OPTF_REQUIRED, "file or block device path"},
        {"cache.direct", GRANULE_OPT_BOOL, 0, "O_DIRECT: bypass the page cache (off)"},
        {"aio", GRANULE_OPT_STRING, 0, "I/O engine: io_uring, threads or auto (auto)"},
        {"aio-threads", GRANULE_OPT_SIZE, 0, "threads of the threads engine (4)"},
        {"growable", GRANULE_OPT_BOOL, 0,
         "a file grows when written past its end; an image file is fixed-size unless asked, "
         "like qemu's raw (off)"},
    };

    explicit raw_posix_node(const open_context &ctx)
        : filename_(ctx.options().get_string("filename")),
          direct_(ctx.options().get_bool("cache.direct", false)),
          read_only_(ctx.read_only()),
          growable_(ctx.options().get_bool("growable", false))
    {
        const auto &o = ctx.options();
        auto aio = o.get_string("aio", "auto");
        aio_option_ = aio;
        if (aio != "auto" && aio != "io_uring" && aio != "threads")
            fail(EINVAL, "option 'aio': '" + aio + "' is not supported (io_uring, threads, auto)");
        std::string no_uring;
        bool uring = aio != "threads" && raw_posix::uring_engine::available(&no_uring);
        if (aio == "io_uring" && !uring)
            fail(ENOTSUP, "option 'aio': io_uring is not available here (" + no_uring + ")");
        aio_choice_ = uring ? "io_uring" : aio == "threads" ? "threads"
                                                            : "threads (io_uring unavailable: " + no_uring + ")";
        uint64_t threads = o.get_size("aio-threads", 4);
        if (threads < 1 || threads > max_aio_threads)
            fail(EINVAL, "option 'aio-threads': " + std::to_string(threads) +
                             " is not between 1 and " + std::to_string(max_aio_threads));
        open_file();
        if (growable_ && block_device_)
            fail(EINVAL, "option 'growable': '" + filename_ + "' is a block device, which cannot grow");
        probe();
        pool_ = std::make_unique<granule::sdk::thread_pool>(static_cast<unsigned>(threads));
        if (uring)
            uring_ = std::make_unique<raw_posix::uring_engine>(fd_.get(), uring_entries, filename_,
                                                               ctx.host_polls(), ctx.host_unplugs());
        if (uring_ && uring_->poll_fd() >= 0)
            aio_choice_ += " (completions on the device thread)";
    }

    // FUA: RWF_DSYNC per write (io_uring and pwritev2 alike). Zeroing never
    // writes buffers itself (write_zeroes), so it can promise NO_FALLBACK.
    uint32_t node_flags() const
    {
        return (read_only_ ? GRANULE_NODE_READ_ONLY : 0) |
               (growable_ && !block_device_ && !read_only_ ? GRANULE_NODE_GROWABLE : 0) |
               // A file takes O_DIRECT padding past its end (and ftruncate back).
               (!block_device_ && !read_only_ ? GRANULE_NODE_PADDED_END : 0) |
               GRANULE_NODE_FUA |
               GRANULE_NODE_ZERO_MAY_UNMAP | GRANULE_NODE_ZERO_NO_FALLBACK;
    }

    int64_t length()
    {
        if (block_device_) {
            uint64_t size = 0;
            if (ioctl(fd_.get(), BLKGETSIZE64, &size) != 0)
                return -errno;
            return static_cast<int64_t>(size);
        }
        struct stat st {};
        if (fstat(fd_.get(), &st) != 0)
            return -errno;
        return st.st_size;
    }

    // Each value with the probe's source (kept in align_/block_, so the
    // strings outlive the call as the ABI asks).
    void refresh_limits(granule_limits &l)
    {
        auto raise = [](granule_limit &lim, const raw_posix::probed &p) {
            granule_limit_raise(&lim, p.value, p.source.c_str());
        };
        raise(l.request_alignment, request());
        raise(l.min_mem_alignment, align_.memory);
        granule_limit_raise(&l.opt_mem_alignment, granule::platform::page_size(), "page size");
        // preadv/pwritev and io_uring take at most IOV_MAX elements.
        granule_limit_cap(&l.max_iov, IOV_MAX, "IOV_MAX");
        if (!block_.block_device)
            return;
        // BLKZEROOUT and BLKDISCARD refuse ranges that are not whole logical
        // blocks, also without O_DIRECT.
        raise(l.pwrite_zeroes_alignment, block_.logical_block);
        if (block_.max_discard.value) {
            raise(l.pdiscard_alignment, block_.logical_block);
            raise(l.pdiscard_alignment, block_.discard_granularity);
        }
        if (block_.opt_io.value && !l.opt_transfer.value)
            l.opt_transfer = {block_.opt_io.value, block_.opt_io.source.c_str()};
        // The queue's max_sectors_kb: larger O_DIRECT requests are split anyway.
        if (direct_)
            granule_limit_cap(&l.max_transfer, block_.max_transfer.value,
                              block_.max_transfer.source.c_str());
    }

    void submit(const granule_request &req, completion &done)
    {
        if (req.op != GRANULE_OP_READ && req.op != GRANULE_OP_WRITE)
            return done.fail(EINVAL, "raw-posix: unknown op " + std::to_string(req.op));
        if (uring_)
            return uring_->submit(req, std::move(done));
        pool_->post([this, r = owned_request(req), d = std::move(done)]() mutable {
            try {
                int64_t n = transfer(r);
                if (n < 0)
                    return d.fail(static_cast<int>(-n), what(r) + ": " + error_text(static_cast<int>(-n)));
                d(n);
            } catch (...) {
                auto e = describe_current_exception();
                d(-e.code, e.message);
            }
        });
    }

    int poll_fd() noexcept { return uring_ ? uring_->poll_fd() : -1; }
    void unplug() noexcept
    {
        if (uring_)
            uring_->unplug();
    }
    void poll() noexcept
    {
        if (uring_)
            uring_->poll();
    }

    void flush(completion &done)
    {
        if (uring_)
            return uring_->flush(std::move(done));
        pool_->post([this, d = std::move(done)]() mutable {
            if (fdatasync(fd_.get()) != 0)
                return fail_errno(d, "fdatasync");
            d(0);
        });
    }

    void discard(uint64_t off, uint64_t len, completion &done)
    {
        pool_->post([this, off, len, d = std::move(done)]() mutable {
            int r = block_device_ ? range_ioctl(BLKDISCARD, off, len)
                                  : fallocate(fd_.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                                              static_cast<off_t>(off), static_cast<off_t>(len));
            if (r != 0)
                return fail_errno(d, "discard");
            d(0);
        });
    }

    // Never writes zero buffers: -ENOTSUP tells the host to fall back (or,
    // with NO_FALLBACK, to fail). On a block device PUNCH_HOLE is the
    // kernel's no-fallback zeroing (it may unmap), ZERO_RANGE never unmaps
    // but may write zeroes, BLKZEROOUT may do either.
    void write_zeroes(uint64_t off, uint64_t len, uint32_t flags, completion &done)
    {
        const bool unmap = flags & GRANULE_REQ_MAY_UNMAP;
        const bool no_fallback = flags & GRANULE_REQ_NO_FALLBACK;
        if (block_device_ && no_fallback && !unmap)
            return done.fail(ENOTSUP, "raw-posix: write_zeroes on '" + filename_ +
                                          "': a block device cannot zero without unmapping and "
                                          "without a fallback (no_fallback needs may_unmap)");
        pool_->post([this, off, len, flags, unmap, no_fallback, d = std::move(done)]() mutable {
            const auto o = static_cast<off_t>(off), n = static_cast<off_t>(len);
            int r;
            if (block_device_ && unmap && !no_fallback)
                r = range_ioctl(BLKZEROOUT, off, len);
            else if (unmap)
                r = fallocate(fd_.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, o, n);
            else
                r = fallocate(fd_.get(), FALLOC_FL_ZERO_RANGE | (block_device_ ? FALLOC_FL_KEEP_SIZE : 0),
                              o, n);
            if (r == 0 && (flags & GRANULE_REQ_FUA))
                r = fdatasync(fd_.get());
            if (r != 0)
                return fail_errno(d, "write_zeroes");
            d(0);
        });
    }

    // lseek answers from the filesystem's extent map without I/O: inline is fine.
    void block_status(uint64_t off, uint64_t len, granule_block_status &out, completion &done)
    {
        out = {std::max<uint64_t>(len, 1), GRANULE_BLOCK_DATA};
        if (!block_device_) {
            off_t o = static_cast<off_t>(off);
            off_t data = lseek(fd_.get(), o, SEEK_DATA);
            if (data < 0 && errno == ENXIO) {  // in the trailing hole or past EOF
                out.status = GRANULE_BLOCK_ZERO;
            } else if (data > o) {
                out = {std::min<uint64_t>(len, data - o), GRANULE_BLOCK_ZERO};
            } else if (data == o) {
                off_t hole = lseek(fd_.get(), o, SEEK_HOLE);
                if (hole > o)
                    out.bytes = std::min<uint64_t>(len, hole - o);
            }  // else the filesystem cannot tell: DATA is always safe
            out.bytes = std::max<uint64_t>(out.bytes, 1);
        }
        done(0);
    }

    void truncate(uint64_t len)
    {
        if (block_device_)
            fail(ENOTSUP, "raw-posix: cannot truncate block device '" + filename_ + "'");
        if (read_only_)
            fail(EROFS, "raw-posix: '" + filename_ + "' is open read-only");
        if (ftruncate(fd_.get(), static_cast<off_t>(len)) != 0) {
            int e = errno;
            fail(e, "raw-posix: truncate '" + filename_ + "' to " + std::to_string(len) + ": " +
                        error_text(e));
        }
    }

    // No requests are in flight here (ABI), so the fd's mode may change.
    void reopen(const options_view &o)
    {
        auto same = [&](const char *key, const std::string &now) {
            if (o.has(key) && o.get_string(key) != now)
                fail(EINVAL, std::string("option '") + key + "' cannot change on reopen");
        };
        same("filename", filename_);
        if (o.has("aio") && o.get_string("aio") != aio_option_)
            fail(EINVAL, "option 'aio' cannot change on reopen");
        if (o.has("aio-threads") && o.get_size("aio-threads") != pool_->size())
            fail(EINVAL, "option 'aio-threads' cannot change on reopen");
        bool want = o.get_bool("cache.direct", direct_);
        if (want == direct_)
            return;
        int flags = fcntl(fd_.get(), F_GETFL);
        if (flags < 0 || fcntl(fd_.get(), F_SETFL, want ? flags | O_DIRECT : flags & ~O_DIRECT) != 0) {
            int e = errno;
            if (want && e == EINVAL)
                fail(EINVAL, "cannot set cache.direct=on for '" + filename_ +
                                 "': O_DIRECT not supported on this filesystem");
            fail(e, "cannot change cache.direct of '" + filename_ + "': " + error_text(e));
        }
        direct_ = want;
        probe();
    }

    std::string info()
    {
        return "filename: " + filename_ + "\ncache.direct: " + (direct_ ? "on" : "off") +
               "\naio: " + aio_choice_ +
               (uring_ ? "" : ", " + std::to_string(pool_->size()) + " threads") + "\n" +
               read_only_why_ + probe_info();
    }

private:
    void open_file()
    {
        int flags = (read_only_ ? O_RDONLY : O_RDWR) | O_CLOEXEC | (direct_ ? O_DIRECT : 0);
        int fd = ::open(filename_.c_str(), flags);
        if (fd < 0) {
            int e = errno;
            // open() says EINVAL when the filesystem has no direct I/O (older tmpfs, some FUSE).
            if (e == EINVAL && direct_)
                fail(EINVAL, "cannot open '" + filename_ +
                                 "' with cache.direct=on: O_DIRECT not supported on this filesystem");
            fail(e, "cannot open '" + filename_ + "'" + (read_only_ ? " read-only" : "") +
                        ": " + error_text(e));
        }
        fd_.reset(fd);
        struct stat st {};
        if (fstat(fd, &st) != 0) {
            int e = errno;
            fail(e, "cannot stat '" + filename_ + "': " + error_text(e));
        }
        if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
            fail(EINVAL, "'" + filename_ + "' is not a regular file or block device");
        block_device_ = S_ISBLK(st.st_mode);
    }

    // Page-cache I/O takes any alignment; only O_DIRECT needs probing. Block
    // device geometry matters in both modes (BLKZEROOUT/BLKDISCARD granularity).
    // Trial writes (only when the kernel cannot tell) rewrite identical bytes.
    void probe()
    {
        block_ = raw_posix::probe_block_limits(fd_.get());
        // The kernel opens a read-only block device read-write and then fails
        // every write with EPERM: the node says read-only instead, so writes
        // are refused up front with EROFS, and info tells why.
        if (block_.read_only && !read_only_) {
            read_only_ = true;
            read_only_why_ = "read-only: the block device is read-only (BLKROGET)\n";
        }
        if (!direct_) {
            align_ = {{1, "buffered"}, {1, "buffered"}, {1, "buffered"}};
            return;
        }
        raw_posix::probe_options o;
        o.writable = !read_only_;
        align_ = raw_posix::probe_dio(fd_.get(), o).chosen;
    }

    // A read-only node only reads: XFS, for one, lets reads of a reflinked
    // file use 512 where writes need 4096.
    const raw_posix::probed &request() const
    {
        return read_only_ ? align_.read_request : align_.request;
    }

    // What the probe found beyond the limits (those reach granule-img info
    // with their sources through refresh_limits): "key: value (source)".
    std::string probe_info() const
    {
        auto line = [](const char *key, const raw_posix::probed &p) {
            return std::string(key) + ": " + std::to_string(p.value) + " (" + p.source + ")\n";
        };
        std::string s;
        if (!read_only_ && align_.read_request.value != align_.request.value)
            s += line("read_alignment", align_.read_request);
        if (block_.block_device && block_.physical_block.value)
            s += line("physical_block_size", block_.physical_block);
        return s;
    }

    int range_ioctl(unsigned long request, uint64_t off, uint64_t len)
    {
        uint64_t range[2] = {off, len};
        return ioctl(fd_.get(), request, range);
    }

    void fail_errno(completion &d, const char *op)
    {
        int e = errno;
        if (e == EOPNOTSUPP || e == ENOTTY)
            e = ENOTSUP;
        d.fail(e, "raw-posix: " + std::string(op) + " on '" + filename_ + "': " + error_text(e));
    }

    std::string what(const owned_request &r) const
    {
        bool rd = r.op() == GRANULE_OP_READ;
        return "raw-posix: " + std::string(rd ? "read" : "write") + " of " +
               std::to_string(r.length()) + " bytes at offset " + std::to_string(r.offset()) +
               (rd ? " from '" : " to '") + filename_ + "'";
    }

    // Whole request, looping over partial transfers and EINTR. Bytes or -errno.
    int64_t transfer(const owned_request &r)
    {
        const bool rd = r.op() == GRANULE_OP_READ;
        std::vector<iovec> v;
        v.reserve(r.iov().size());
        for (const auto &e : r.iov())
            v.push_back({e.base, e.len});
        return rw_loop(rd, v, r.offset(), r.get().flags);
    }

    int64_t rw_loop(bool rd, std::vector<iovec> &v, uint64_t offset, uint32_t flags)
    {
        std::size_t idx = 0;
        uint64_t done = 0;
        while (idx < v.size()) {
            int cnt = static_cast<int>(v.size() - idx);
            off_t at = static_cast<off_t>(offset + done);
            ssize_t n = rd ? preadv(fd_.get(), &v[idx], cnt, at) : pwritev(fd_.get(), &v[idx], cnt, at);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                // After a short O_DIRECT read at EOF the rest starts inside the
                // last block; the kernel may call that misaligned. It is EOF.
                if (rd && done > 0 && errno == EINVAL)
                    break;
                return -errno;
            }
            if (n == 0) {
                if (rd)
                    break;  // EOF: short read, the host zero-fills
                return -EIO;
            }
            done += static_cast<uint64_t>(n);
            advance(v, idx, static_cast<std::size_t>(n));
        }
        if (!rd && (flags & GRANULE_REQ_FUA) && fdatasync(fd_.get()) != 0)
            return -errno;
        return static_cast<int64_t>(done);
    }

    std::string filename_;
    bool direct_;
    bool read_only_;
    bool growable_;  // option growable: writes past the end extend the file
    std::string read_only_why_;  // an info line when the device made us read-only
    bool block_device_ = false;
    dio_alignment align_;
    raw_posix::block_limits block_;
    unique_fd fd_;
    std::string aio_option_;
    std::string aio_choice_;
    // Last: destroyed first, so their threads finish before the fd closes.
    std::unique_ptr<granule::sdk::thread_pool> pool_;
    std::unique_ptr<raw_posix::uring_engine> uring_;
};

}  // namespace

GRANULE_DEFINE_DRIVER(raw_posix_node)
