// example-cpp: a file-backed Granule driver in C++20 on the header-only helper
// <granule/driver.hpp>, built out of tree against an installed Granule
// (docs/plugin-authoring.md).
//
//   driver=example-cpp,filename=disk.img[,read-only=on]
//
// The same driver as examples/driver-c, to compare: the helper builds the C
// table, turns exceptions into -errno plus message at the boundary and makes
// a completion impossible to lose or call twice. The file is byte-granular
// (no O_DIRECT), so every alignment stays 1. Requests complete inline: the
// ABI allows it, but a slow pread then stalls the device's thread; a
// production driver moves the syscalls to its own threads.
#include <granule/driver.hpp>

#include <cstdint>
#include <string>
#include <system_error>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace {

using namespace granule::sdk;
using std::int64_t;
using std::uint64_t;

// Thread-safe, unlike strerror.
std::string error_text(int e) { return std::generic_category().message(e); }

class unique_fd {
public:
    explicit unique_fd(int fd = -1) noexcept : fd_(fd) {}
    unique_fd(const unique_fd &) = delete;
    unique_fd &operator=(const unique_fd &) = delete;
    ~unique_fd()
    {
        if (fd_ >= 0)
            ::close(fd_);
    }
    int get() const noexcept { return fd_; }

private:
    int fd_;
};

// Linux moves at most ~2 GiB per call; this keeps every count below SSIZE_MAX.
constexpr uint64_t max_step = uint64_t{1} << 30;

class example_cpp_node {
public:
    static constexpr const char *name = "example-cpp";
    static constexpr const char *description =
        "regular file through pread/pwrite (out-of-tree C++ example)";
    static constexpr granule_option_desc options[] = {
        {"filename", GRANULE_OPT_STRING, GRANULE_OPTF_REQUIRED, "path of a regular file"},
        {"read-only", GRANULE_OPT_BOOL, 0, "open the file read-only (off)"},
    };

    // open: a throw here becomes open's -errno and message (shown after the
    // driver's name, so the message does not repeat it). The current host
    // takes read-only=on itself and passes it as GRANULE_OPEN_READ_ONLY
    // (ctx.read_only()), so the option rarely arrives: honour both.
    explicit example_cpp_node(const open_context &ctx)
        : filename_(ctx.options().get_string("filename")),
          read_only_(ctx.read_only() || ctx.options().get_bool("read-only", false)),
          fd_(::open(filename_.c_str(), (read_only_ ? O_RDONLY : O_RDWR) | O_CLOEXEC))
    {
        if (filename_.empty())
            fail(EINVAL, "option 'filename': empty");
        if (fd_.get() < 0) {
            int e = errno;
            fail(e, "cannot open '" + filename_ + "'" + (read_only_ ? " read-only" : "") + ": " +
                        error_text(e));
        }
        struct stat st {};
        if (fstat(fd_.get(), &st) != 0) {
            int e = errno;
            fail(e, "cannot stat '" + filename_ + "': " + error_text(e));
        }
        // A block device's st_size is 0 and it cannot be truncated.
        if (!S_ISREG(st.st_mode))
            fail(EINVAL, "'" + filename_ + "' is not a regular file");
    }

    // A file grows when written past its end (the host trims alignment
    // padding with truncate afterwards); a read-only node never grows. FUA:
    // transfer() makes a FUA write durable with fdatasync.
    std::uint32_t node_flags() const
    {
        return (read_only_ ? GRANULE_NODE_READ_ONLY : GRANULE_NODE_GROWABLE) | GRANULE_NODE_FUA;
    }

    int64_t length()
    {
        struct stat st {};
        if (fstat(fd_.get(), &st) != 0)
            return -errno;
        return st.st_size;
    }

    // Byte-granular: the alignments stay what the host passed in (1). Only
    // a preference is added: the filesystem's block size, with its source.
    void refresh_limits(granule_limits &l)
    {
        struct stat st {};
        if (fstat(fd_.get(), &st) != 0) {
            int e = errno;
            fail(e, "cannot stat '" + filename_ + "': " + error_text(e));
        }
        if (l.opt_transfer.value == 0 && st.st_blksize > 0)
            l.opt_transfer = {static_cast<uint64_t>(st.st_blksize), "fstat st_blksize"};
    }

    // Every error goes through done, with a message; the helper's submit
    // always returns 0 (accepted).
    void submit(const granule_request &req, completion &done)
    {
        const bool is_read = req.op == GRANULE_OP_READ;
        if (!is_read && req.op != GRANULE_OP_WRITE)
            return done.fail(EINVAL, "example-cpp: unknown op " + std::to_string(req.op));
        if (!is_read && read_only_)
            return done.fail(EROFS, "example-cpp: '" + filename_ + "' is open read-only");
        if (req.offset > INT64_MAX || req.length > INT64_MAX - req.offset)
            return done.fail(EINVAL, what(req) + ": past the largest file offset");
        int64_t n = transfer(req);
        if (n < 0)
            return done.fail(static_cast<int>(-n), what(req) + ": " + error_text(static_cast<int>(-n)));
        done(n);  // inline completion, exactly once
    }

    void flush(completion &done)
    {
        if (fsync(fd_.get()) != 0) {
            int e = errno;
            return done.fail(e, "example-cpp: fsync of '" + filename_ + "': " + error_text(e));
        }
        done(0);
    }

    void truncate(uint64_t len)
    {
        if (read_only_)
            fail(EROFS, "example-cpp: '" + filename_ + "' is open read-only");
        if (len > INT64_MAX)
            fail(EINVAL, "example-cpp: length " + std::to_string(len) +
                             " is past the largest file offset");
        if (ftruncate(fd_.get(), static_cast<off_t>(len)) != 0) {
            int e = errno;
            fail(e, "example-cpp: truncate '" + filename_ + "' to " + std::to_string(len) + ": " +
                        error_text(e));
        }
    }

    std::string info()
    {
        return "filename: " + filename_ + "\nread-only: " + (read_only_ ? "on" : "off");
    }

    // discard, write_zeroes and block_status are not defined, so their table
    // slots stay NULL (unsupported).

private:
    std::string what(const granule_request &req) const
    {
        const bool is_read = req.op == GRANULE_OP_READ;
        return std::string("example-cpp: ") + (is_read ? "read" : "write") + " of " +
               std::to_string(req.length) + " bytes at offset " + std::to_string(req.offset) +
               (is_read ? " from '" : " to '") + filename_ + "'";
    }

    // The whole request, looping over partial transfers and EINTR. Bytes
    // moved (short only for a read at end of file), or -errno.
    int64_t transfer(const granule_request &req)
    {
        const bool is_read = req.op == GRANULE_OP_READ;
        uint64_t done = 0;
        for (std::uint32_t i = 0; i < req.iovcnt; ++i) {
            auto *base = static_cast<char *>(req.iov[i].base);
            uint64_t left = req.iov[i].len;
            while (left > 0) {
                auto step = static_cast<std::size_t>(std::min(left, max_step));
                auto at = static_cast<off_t>(req.offset + done);
                ssize_t r = is_read ? pread(fd_.get(), base, step, at) : pwrite(fd_.get(), base, step, at);
                if (r < 0) {
                    if (errno == EINTR)
                        continue;
                    return -errno;
                }
                if (r == 0)
                    return is_read ? static_cast<int64_t>(done)  // end of file: the host zero-fills
                                   : -EIO;                       // nothing a retry would change
                base += r;
                left -= static_cast<uint64_t>(r);
                done += static_cast<uint64_t>(r);
            }
        }
        if (!is_read && (req.flags & GRANULE_REQ_FUA) && fdatasync(fd_.get()) != 0)
            return -errno;
        return static_cast<int64_t>(done);
    }

    std::string filename_;
    bool read_only_;
    unique_fd fd_;
};

}  // namespace

GRANULE_DEFINE_DRIVER(example_cpp_node)
