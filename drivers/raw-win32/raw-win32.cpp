// raw-win32: files, volumes (\\.\C:) and physical disks (\\.\PhysicalDriveN)
// through CreateFileW, always FILE_FLAG_OVERLAPPED. Reads, writes and
// FSCTL_SET_ZERO_DATA complete through the node's I/O completion port on its
// own completion thread; FlushFileBuffers, which has no overlapped form, runs
// on a worker thread. The driver sets no queue depth: every request goes to
// Windows at once.
// Node flags: no GRANULE_NODE_FUA (FILE_FLAG_WRITE_THROUGH is per handle,
// Windows has no per-request FUA: the core flushes after a FUA write); files
// declare GRANULE_NODE_ZERO_MAY_UNMAP and GRANULE_NODE_ZERO_NO_FALLBACK (see
// write_zeroes).
#include "iocp.hpp"
#include "probe.hpp"
#include "request.hpp"

#include <granule/driver.hpp>
#include <granule/platform/aligned_buffer.hpp>
#include <granule/platform/system_error.hpp>
#include <granule/platform/win32.hpp>

#include <winioctl.h>

#include <algorithm>
#include <cwctype>
#include <memory>

namespace {

using namespace granule::sdk;
using namespace raw_win32;
using granule::platform::win32::describe_win32_error;
using granule::platform::win32::errno_from_win32;
using std::uint64_t;

int errno_of(DWORD e)
{
    int code = errno_from_win32(e);
    return code ? code : EIO;
}

bool starts_with_icase(std::wstring_view s, std::wstring_view prefix)
{
    return s.size() >= prefix.size() &&
           std::equal(prefix.begin(), prefix.end(), s.begin(),
                      [](wchar_t a, wchar_t b) { return towlower(a) == towlower(b); });
}

// \\.\X: and \\?\Volume{...} are volumes, \\.\PhysicalDriveN a disk; a
// \\?\C:\... path is a file with the long-path prefix.
target_kind classify(std::wstring_view p)
{
    bool dot = starts_with_icase(p, L"\\\\.\\") || starts_with_icase(p, L"//./");
    if (dot)
        return starts_with_icase(p.substr(4), L"PhysicalDrive") ? target_kind::disk
                                                                 : target_kind::volume;
    if (starts_with_icase(p, L"\\\\?\\Volume{") && p.find(L'\\', 4) == std::wstring_view::npos)
        return target_kind::volume;
    return target_kind::file;
}

const char *kind_name(target_kind k)
{
    return k == target_kind::file ? "file" : k == target_kind::volume ? "volume" : "disk";
}

// FSCTL_SET_ZERO_DATA through the completion port.
class zero_data_op final : public overlapped_op {
public:
    zero_data_op(completion done, std::string what) : done_(std::move(done)), what_(std::move(what)) {}

    void start(HANDLE h, uint64_t offset, uint64_t length)
    {
        info_.FileOffset.QuadPart = static_cast<LONGLONG>(offset);
        info_.BeyondFinalZero.QuadPart = static_cast<LONGLONG>(offset + length);
        BOOL ok = DeviceIoControl(h, FSCTL_SET_ZERO_DATA, &info_, sizeof info_, nullptr, 0,
                                  nullptr, ov());
        iocp::started(this, ok, ok ? 0 : GetLastError());
    }
    void complete(DWORD, DWORD error) noexcept override
    {
        std::unique_ptr<zero_data_op> self(this);
        if (!error)
            return done_(0);
        // ERROR_NOT_SUPPORTED / ERROR_INVALID_FUNCTION map to ENOTSUP: the
        // core then writes zero buffers instead (or, for a NO_FALLBACK
        // request, fails it).
        done_.fail(errno_of(error), what_ + ": FSCTL_SET_ZERO_DATA: " + describe_win32_error(error));
    }

private:
    completion done_;
    std::string what_;
    FILE_ZERO_DATA_INFORMATION info_{};
};

class raw_win32_node {
public:
    static constexpr const char *name = "raw-win32";
    static constexpr const char *description = "files, volumes and physical disks (Win32, IOCP)";
    static constexpr bool claims_plain_filenames = true;
    static constexpr granule_option_desc options[] = {
        {"filename", GRANULE_OPT_STRING, GRANULE_OPTF_REQUIRED,
         "file, volume (\\\\.\\C:) or disk (\\\\.\\PhysicalDrive0), UTF-8"},
        {"cache.direct", GRANULE_OPT_BOOL, 0, "FILE_FLAG_NO_BUFFERING: bypass the system cache (off)"},
        {"cache.writethrough", GRANULE_OPT_BOOL, 0,
         "FILE_FLAG_WRITE_THROUGH: a write completes once it is on the medium (off)"},
        {"aio", GRANULE_OPT_STRING, 0, "I/O engine: iocp (iocp)"},
        {"growable", GRANULE_OPT_BOOL, 0,
         "a file grows when written past its end; an image file is fixed-size unless asked (off)"},
    };

    explicit raw_win32_node(const open_context &ctx)
        : filename_(ctx.options().get_string("filename")),
          direct_(ctx.options().get_bool("cache.direct", false)),
          writethrough_(ctx.options().get_bool("cache.writethrough", false)),
          read_only_(ctx.read_only()),
          growable_(ctx.options().get_bool("growable", false))
    {
        auto aio = ctx.options().get_string("aio", "iocp");
        if (aio != "iocp")
            fail(EINVAL, "option 'aio': '" + aio + "' is not supported (iocp)");
        auto wide = granule::platform::win32::widen(filename_);
        if (!wide || wide->empty())
            fail(EINVAL, "option 'filename': '" + filename_ + "' is not a valid UTF-8 name");
        path_ = std::move(*wide);
        kind_ = classify(path_);
        handle_ = open_handle(direct_, writethrough_);
        probe();
        port_ = std::make_unique<iocp>(filename_);
        attach(handle_.get());
        target_.filename = filename_;
        update_target();
    }

    // No GRANULE_NODE_FUA: see the top of the file. A file's zeroing
    // honours MAY_UNMAP and NO_FALLBACK (write_zeroes says how); a volume or
    // disk has no zeroing at all, so it declares neither.
    uint32_t node_flags() const
    {
        if (kind_ != target_kind::file)
            return read_only_ ? GRANULE_NODE_READ_ONLY : 0;
        return (read_only_ ? GRANULE_NODE_READ_ONLY : 0) |
               (growable_ && !read_only_ ? GRANULE_NODE_GROWABLE : 0) |
               // NO_BUFFERING padding past the end, truncated back after.
               (!read_only_ ? GRANULE_NODE_PADDED_END : 0) |
               GRANULE_NODE_ZERO_MAY_UNMAP | GRANULE_NODE_ZERO_NO_FALLBACK;
    }

    int64_t length() { return length_of(handle_.get(), kind_); }

    // The probe's answers with their sources ("GetDiskFreeSpaceW C:\",
    // "trial", "buffered"...: strings in align_, which only reopen replaces,
    // so they outlive the call as the ABI asks). max_transfer and max_iov
    // stay unlimited: request.cpp splits calls at 1 GiB itself and takes any
    // iovec count (one ReadFile/WriteFile per element or one bounce buffer,
    // never ReadFileScatter/WriteFileGather with their page-sized segments).
    void refresh_limits(granule_limits &l)
    {
        granule_limit_raise(&l.request_alignment, align_.request.value, align_.request.source.c_str());
        granule_limit_raise(&l.min_mem_alignment, align_.memory.value, align_.memory.source.c_str());
        // Bounce buffers: a page (the core raises this to min_mem_alignment
        // should that be larger).
        granule_limit_raise(&l.opt_mem_alignment, granule::platform::page_size(), "page size");
    }

    void submit(const granule_request &req, completion &done)
    {
        start_request(target_, req, std::move(done));
    }

    void flush(completion &done)
    {
        if (read_only_)  // FlushFileBuffers needs write access; nothing was written
            return done(0);
        worker_.post([this, d = std::move(done)]() mutable {
            if (FlushFileBuffers(handle_.get()))
                return d(0);
            DWORD e = GetLastError();
            d.fail(errno_of(e), "raw-win32: flush of '" + filename_ + "': FlushFileBuffers: " +
                                    describe_win32_error(e));
        });
    }

    // FSCTL_SET_ZERO_DATA, where the filesystem has it (NTFS; ENOTSUP on
    // volumes, disks, FAT, Wine: the core then writes zero buffers). In a
    // sparse or compressed file NTFS may deallocate the range (the ioctl's
    // documentation); in any other file it writes the zeroes itself, about
    // as slow as writing zero buffers. Hence a file node declares:
    // - GRANULE_NODE_ZERO_MAY_UNMAP: a sparse or compressed file is zeroed
    //   with the ioctl only when the request may deallocate; without
    //   GRANULE_REQ_MAY_UNMAP it gets ENOTSUP, and the core's zero buffers
    //   keep the range allocated. A file whose attributes cannot be read is
    //   treated the same way.
    // - GRANULE_NODE_ZERO_NO_FALLBACK: with GRANULE_REQ_NO_FALLBACK only the
    //   deallocating case runs (a sparse or compressed file, and MAY_UNMAP);
    //   in a plain file, where NTFS would write the zeroes, the request
    //   completes ENOTSUP at once, as on a filesystem without the ioctl.
    void write_zeroes(uint64_t off, uint64_t len, uint32_t flags, completion &done)
    {
        if (kind_ != target_kind::file)
            return done.fail(ENOTSUP, "raw-win32: write_zeroes: no FSCTL_SET_ZERO_DATA on a " +
                                          std::string(kind_name(kind_)));
        const bool unmap = flags & GRANULE_REQ_MAY_UNMAP;
        const bool no_fallback = flags & GRANULE_REQ_NO_FALLBACK;
        BY_HANDLE_FILE_INFORMATION info{};
        if (!GetFileInformationByHandle(handle_.get(), &info)) {
            DWORD e = GetLastError();
            return done.fail(ENOTSUP, "raw-win32: write_zeroes on '" + filename_ +
                                          "': cannot tell whether FSCTL_SET_ZERO_DATA would "
                                          "deallocate: GetFileInformationByHandle: " +
                                          describe_win32_error(e));
        }
        const bool deallocates =
            info.dwFileAttributes & (FILE_ATTRIBUTE_SPARSE_FILE | FILE_ATTRIBUTE_COMPRESSED);
        if (deallocates && !unmap)
            return done.fail(ENOTSUP, "raw-win32: write_zeroes on '" + filename_ +
                                          "': FSCTL_SET_ZERO_DATA would deallocate in a sparse or "
                                          "compressed file (no may_unmap)");
        if (!deallocates && no_fallback)
            return done.fail(ENOTSUP, "raw-win32: write_zeroes on '" + filename_ +
                                          "': FSCTL_SET_ZERO_DATA would write the zeroes in a file "
                                          "that is neither sparse nor compressed (no_fallback)");
        zero_data(off, len, std::move(done), "write_zeroes");
    }

    // Advisory: deallocates only in a sparse file, where FSCTL_SET_ZERO_DATA
    // frees the range; on anything else it would be a slow write of zeroes.
    void discard(uint64_t off, uint64_t len, completion &done)
    {
        BY_HANDLE_FILE_INFORMATION info{};
        if (kind_ != target_kind::file || !GetFileInformationByHandle(handle_.get(), &info) ||
            !(info.dwFileAttributes & FILE_ATTRIBUTE_SPARSE_FILE))
            return done.fail(ENOTSUP, "raw-win32: discard: '" + filename_ + "' is not a sparse file");
        zero_data(off, len, std::move(done), "discard");
    }

    void truncate(uint64_t len)
    {
        if (kind_ != target_kind::file)
            fail(ENOTSUP, "raw-win32: cannot truncate " + std::string(kind_name(kind_)) + " '" +
                              filename_ + "'");
        if (read_only_)
            fail(EROFS, "raw-win32: '" + filename_ + "' is open read-only");
        FILE_END_OF_FILE_INFO eof{};
        eof.EndOfFile.QuadPart = static_cast<LONGLONG>(len);
        if (!SetFileInformationByHandle(handle_.get(), FileEndOfFileInfo, &eof, sizeof eof)) {
            DWORD e = GetLastError();
            fail(errno_of(e), "raw-win32: truncate '" + filename_ + "' to " + std::to_string(len) +
                                  ": " + describe_win32_error(e));
        }
    }

    // No requests are in flight here (ABI). Windows cannot change a handle's
    // flags, so a changed cache mode opens a second handle (ReOpenFile) and
    // swaps it in once it is probed and attached to the port.
    void reopen(const options_view &o)
    {
        if (o.has("filename") && o.get_string("filename") != filename_)
            fail(EINVAL, "option 'filename' cannot change on reopen");
        if (o.has("aio") && o.get_string("aio") != "iocp")
            fail(EINVAL, "option 'aio': '" + o.get_string("aio") + "' is not supported (iocp)");
        bool direct = o.get_bool("cache.direct", direct_);
        bool writethrough = o.get_bool("cache.writethrough", writethrough_);
        if (direct == direct_ && writethrough == writethrough_)
            return;
        unique_handle h(ReOpenFile(handle_.get(), access(), share, flags(direct, writethrough)));
        if (!h)  // ReOpenFile refuses some handles (e.g. some volumes): open anew
            h = open_handle(direct, writethrough);
        auto report = probe_alignment(h.get(), path_, kind_, checked_length(h.get()), direct);
        attach(h.get());
        handle_ = std::move(h);
        direct_ = direct;
        writethrough_ = writethrough;
        align_ = std::move(report);
        update_target();
    }

    std::string info()
    {
        std::string s = "filename: " + filename_ + "\ntype: " + kind_name(kind_) +
                        "\ncache.direct: " + (direct_ ? "on" : "off") +
                        "\ncache.writethrough: " + (writethrough_ ? "on" : "off") +
                        "\naio: iocp (1 completion thread)\n";
        // The limits and their sources come from refresh_limits; here only
        // what they do not say: the physical sector and every probe's answer.
        if (align_.physical.value)
            s += "physical_sector_size: " + std::to_string(align_.physical.value) + " (" +
                 align_.physical.source + ")\n";
        for (const auto &m : align_.methods)
            s += "probe: " + m + "\n";
        return s;
    }

private:
    static constexpr DWORD share = FILE_SHARE_READ | FILE_SHARE_WRITE;

    DWORD access() const { return GENERIC_READ | (read_only_ ? 0 : GENERIC_WRITE); }
    static DWORD flags(bool direct, bool writethrough)
    {
        return FILE_FLAG_OVERLAPPED | (direct ? FILE_FLAG_NO_BUFFERING : 0) |
               (writethrough ? FILE_FLAG_WRITE_THROUGH : 0);
    }

    unique_handle open_handle(bool direct, bool writethrough) const
    {
        unique_handle h(CreateFileW(path_.c_str(), access(), share, nullptr, OPEN_EXISTING,
                                    flags(direct, writethrough), nullptr));
        if (!h) {
            DWORD e = GetLastError();
            fail(errno_of(e), "cannot open '" + filename_ + "'" + (read_only_ ? " read-only" : "") +
                                  ": " + describe_win32_error(e));
        }
        if (GetFileType(h.get()) != FILE_TYPE_DISK)
            fail(EINVAL, "'" + filename_ + "' is not a file, volume or disk");
        return h;
    }

    // Bytes, or -errno.
    static int64_t length_of(HANDLE h, target_kind kind)
    {
        if (kind == target_kind::file) {
            LARGE_INTEGER size{};
            if (!GetFileSizeEx(h, &size))
                return -errno_of(GetLastError());
            return size.QuadPart;
        }
        GET_LENGTH_INFORMATION info{};
        if (DWORD e = sync_ioctl(h, IOCTL_DISK_GET_LENGTH_INFO, nullptr, 0, &info, sizeof info))
            return -errno_of(e);
        return info.Length.QuadPart;
    }

    uint64_t checked_length(HANDLE h) const
    {
        int64_t n = length_of(h, kind_);
        if (n < 0)
            fail(static_cast<int>(-n), "cannot get the length of '" + filename_ + "': " +
                                           granule::platform::error_text(static_cast<int>(-n)));
        return static_cast<uint64_t>(n);
    }

    void probe()
    {
        align_ = probe_alignment(handle_.get(), path_, kind_, checked_length(handle_.get()), direct_);
    }

    void attach(HANDLE h)
    {
        if (DWORD e = port_->attach(h))
            fail(errno_of(e), "cannot attach '" + filename_ + "' to its completion port: " +
                                  describe_win32_error(e));
    }

    void update_target()
    {
        target_.handle = handle_.get();
        target_.request_alignment = std::max<uint64_t>(align_.request.value, 1);
        target_.bounce_alignment = std::max<uint64_t>(
            {align_.memory.value, align_.request.value, granule::platform::page_size()});
    }

    void zero_data(uint64_t off, uint64_t len, completion done, const char *op)
    {
        std::string what = "raw-win32: " + std::string(op) + " of " + std::to_string(len) +
                           " bytes at offset " + std::to_string(off) + " on '" + filename_ + "'";
        (new zero_data_op(std::move(done), std::move(what)))->start(handle_.get(), off, len);
    }

    std::string filename_;
    std::wstring path_;
    bool direct_;
    bool writethrough_;
    bool read_only_;
    bool growable_;  // option growable: writes past the end extend the file
    target_kind kind_ = target_kind::file;
    alignment_report align_;
    unique_handle handle_;
    io_target target_;
    blocking_worker worker_;
    // Last: destroyed first, so the completion thread is gone before the
    // worker and the handle.
    std::unique_ptr<iocp> port_;
};

}  // namespace

GRANULE_DEFINE_DRIVER(raw_win32_node)
