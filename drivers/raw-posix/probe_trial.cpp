// Trial O_DIRECT I/O: the only probe that cannot be out of date, and the
// easiest one to get wrong. Over a hole, an unwritten (fallocated) extent, an
// empty file or past EOF the kernel returns zeroes before it checks alignment,
// so a read there succeeds at ANY alignment. Trials therefore run only over
// written, allocated data (FIEMAP, else SEEK_DATA plus a look at the bytes),
// and trial writes put back exactly the bytes just read, never over shared
// (reflinked) extents, which a rewrite would unshare.
#include "probe_methods.hpp"

#include <granule/platform/aligned_buffer.hpp>
#include <granule/platform/system_error.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <unistd.h>

namespace raw_posix::detail {
namespace {

using granule::platform::aligned_buffer;
using granule::platform::error_text;
using std::uint64_t;

// Offsets are tried up to this size; nothing real needs more.
constexpr uint64_t largest_offset_candidate = uint64_t{1} << 20;
constexpr std::size_t max_ranges = 256;
// Per range, how many all-zero windows to skip before giving up on it.
constexpr int content_tries = 8;

// Extents whose bytes a read does not take from an allocated, written block.
constexpr std::uint32_t unusable_extent =
    FIEMAP_EXTENT_UNKNOWN | FIEMAP_EXTENT_DELALLOC | FIEMAP_EXTENT_ENCODED |
    FIEMAP_EXTENT_DATA_ENCRYPTED | FIEMAP_EXTENT_NOT_ALIGNED | FIEMAP_EXTENT_DATA_INLINE |
    FIEMAP_EXTENT_DATA_TAIL | FIEMAP_EXTENT_UNWRITTEN;

void add_range(written_data &w, uint64_t start, uint64_t end, bool shared, bool check)
{
    if (end <= start)
        return;
    if (!w.ranges.empty()) {
        auto &last = w.ranges.back();
        if (last.end == start && last.shared == shared && last.check_content == check) {
            last.end = end;
            return;
        }
    }
    w.ranges.push_back({start, end, shared, check});
}

// false when the filesystem has no FIEMAP.
bool fiemap_ranges(int fd, uint64_t size, written_data &w)
{
    constexpr unsigned batch = 64;
    // fiemap's header is followed by its extents; uint64_t keeps them aligned.
    std::vector<uint64_t> mem((sizeof(fiemap) + batch * sizeof(fiemap_extent)) / 8 + 1);
    auto *fm = reinterpret_cast<fiemap *>(mem.data());
    uint64_t start = 0;
    // SYNC first writes back delayed allocations, so dirty data counts as written.
    std::uint32_t flags = FIEMAP_FLAG_SYNC;
    std::size_t seen = 0;
    while (start < size && seen < max_ranges) {
        std::memset(fm, 0, sizeof *fm);
        fm->fm_start = start;
        fm->fm_length = size - start;
        fm->fm_flags = flags;
        fm->fm_extent_count = batch;
        if (ioctl(fd, FS_IOC_FIEMAP, fm) != 0) {
            if (errno == EBADR && flags) {  // the filesystem refuses FIEMAP_FLAG_SYNC
                flags = 0;
                continue;
            }
            if (start == 0)
                return false;
            break;
        }
        if (fm->fm_mapped_extents == 0)
            break;
        bool last = false;
        for (std::uint32_t i = 0; i < fm->fm_mapped_extents; ++i) {
            const fiemap_extent &e = fm->fm_extents[i];
            uint64_t end = std::min<uint64_t>(e.fe_logical + e.fe_length, size);
            if (!(e.fe_flags & unusable_extent))
                add_range(w, e.fe_logical, end, e.fe_flags & FIEMAP_EXTENT_SHARED, false);
            start = std::max<uint64_t>(start, e.fe_logical + e.fe_length);
            last = last || (e.fe_flags & FIEMAP_EXTENT_LAST);
            ++seen;
        }
        if (last)
            break;
    }
    w.how = "FIEMAP";
    return true;
}

// Filesystems without FIEMAP (tmpfs). A filesystem without SEEK_DATA support
// calls the whole file data, so each window's bytes are looked at too.
void seek_ranges(int fd, uint64_t size, written_data &w)
{
    off_t data = lseek(fd, 0, SEEK_DATA);
    while (data >= 0 && static_cast<uint64_t>(data) < size && w.ranges.size() < max_ranges) {
        off_t hole = lseek(fd, data, SEEK_HOLE);
        if (hole < 0)
            break;
        add_range(w, static_cast<uint64_t>(data), std::min<uint64_t>(hole, size), false, true);
        data = lseek(fd, hole, SEEK_DATA);
    }
    w.how = "SEEK_DATA/SEEK_HOLE";
}

// The current bytes, through the page cache: O_DIRECT is cleared on the
// (shared) open file description for the call. Probing runs at open/reopen,
// when no request is in flight.
bool buffered_pread(int fd, std::byte *buf, uint64_t len, uint64_t offset)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0)
        return false;
    bool direct = flags & O_DIRECT;
    if (direct && fcntl(fd, F_SETFL, flags & ~O_DIRECT) != 0)
        return false;
    uint64_t done = 0;
    while (done < len) {
        ssize_t n = pread(fd, buf + done, len - done, static_cast<off_t>(offset + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        done += static_cast<uint64_t>(n);
    }
    int saved = errno;
    if (direct)
        fcntl(fd, F_SETFL, flags);
    errno = saved;
    return done == len;
}

struct window {
    uint64_t offset = 0;
    std::vector<std::byte> bytes;  // current content (when asked for)
};

// A window [o, o + len) with o % step == phase inside written data; unshared
// for writes. want_bytes: also return its current content.
std::optional<window> find_window(int fd, const written_data &w, uint64_t step, uint64_t phase,
                                  uint64_t len, bool for_write)
{
    for (const auto &r : w.ranges) {
        if (for_write && r.shared)
            continue;
        // The first o >= r.start with o % step == phase.
        uint64_t o = r.start <= phase ? phase : phase + (r.start - phase + step - 1) / step * step;
        for (int tries = 0; o + len <= r.end && tries < content_tries; ++tries, o += step) {
            window win{o, {}};
            if (for_write || r.check_content) {
                win.bytes.resize(len);
                if (!buffered_pread(fd, win.bytes.data(), len, o))
                    break;
                // Only SEEK_DATA vouches for this range: all zeroes may be a hole.
                if (r.check_content &&
                    std::all_of(win.bytes.begin(), win.bytes.end(),
                                [](std::byte b) { return b == std::byte{0}; }))
                    continue;
            }
            return win;
        }
    }
    return std::nullopt;
}

// 1: done, 0: refused with EINVAL (the alignment rule), -errno: anything else.
int attempt(int fd, bool write, std::byte *buf, uint64_t len, uint64_t offset)
{
    ssize_t n;
    do
        n = write ? pwrite(fd, buf, len, static_cast<off_t>(offset))
                  : pread(fd, buf, len, static_cast<off_t>(offset));
    while (n < 0 && errno == EINTR);
    if (n == static_cast<ssize_t>(len))
        return 1;
    if (n < 0)
        return errno == EINVAL ? 0 : -errno;
    return -EIO;  // short inside written data: nothing to conclude from
}

method_answer trial(int fd, const written_data &w, bool write)
{
    method_answer a = asked_method(write ? "trial-write" : "trial-read");
    if (w.ranges.empty()) {
        a.note = "no written data (" + w.how + "): a trial there would succeed at any alignment";
        return a;
    }
    const uint64_t max_mem = fallback_alignment();
    // The offset trial's buffer is aligned to max_mem, so memory never decides it.
    aligned_buffer buf(2 * max_mem, largest_offset_candidate + 2 * max_mem);
    const char *verb = write ? "rewrite" : "read";

    // Offset and length: p bytes at an odd multiple of p succeed iff the
    // alignment is at most p.
    uint64_t offset = 0;
    for (uint64_t p = 1; p <= largest_offset_candidate && !offset; p *= 2) {
        auto win = find_window(fd, w, 2 * p, p, p, write);
        if (!win) {
            const char *what = write ? "unshared written data" : "written data";
            if (p == 1) {
                a.note = std::string("no ") + what + " to " + verb + " (" + w.how + ")";
            } else {
                // Everything below p was refused, p itself could not be tried.
                a.at_least = p;
                a.note = "at least " + std::to_string(p) + ": no window of " + what + " of " +
                         std::to_string(p) + " bytes at an odd multiple of " + std::to_string(p);
            }
            return a;
        }
        if (write)
            std::memcpy(buf.data(), win->bytes.data(), p);
        int r = attempt(fd, write, buf.data(), p, win->offset);
        if (r < 0) {
            a.note = std::string(verb) + " of " + std::to_string(p) + " bytes at " +
                     std::to_string(win->offset) + " failed: " + error_text(-r);
            return a;
        }
        if (r == 1)
            offset = p;
    }
    if (!offset) {
        a.at_least = 2 * largest_offset_candidate;
        a.note = "every size up to " + std::to_string(largest_offset_candidate) + " was refused";
        return a;
    }

    // Memory: a buffer at an odd multiple of m, one whole block at an aligned offset.
    uint64_t memory = 0;
    std::optional<window> win;
    uint64_t len = std::max(offset, max_mem);
    win = find_window(fd, w, len, 0, len, write);
    if (!win && len > offset) {
        len = offset;
        win = find_window(fd, w, len, 0, len, write);
    }
    std::string mem_note;
    if (!win) {
        mem_note = "memory untested: no aligned window of " + std::to_string(len) + " bytes";
    } else {
        aligned_buffer mbuf(2 * max_mem, len + max_mem);
        for (uint64_t m = 1; m <= max_mem && !memory; m *= 2) {
            std::byte *p = mbuf.data() + m;
            if (write)
                std::memcpy(p, win->bytes.data(), len);
            int r = attempt(fd, write, p, len, win->offset);
            if (r < 0) {
                mem_note = "memory: " + std::string(verb) + " failed: " + error_text(-r);
                break;
            }
            if (r == 1)
                memory = m;
        }
        if (!memory && mem_note.empty())
            mem_note = "memory: refused up to " + std::to_string(max_mem);
    }
    if (write)
        a.offset = offset;
    else
        a.read_offset = offset;
    a.memory = memory;
    a.note = std::string(write ? "rewrote identical bytes" : "read") + " over written data (" +
             w.how + ", " + std::to_string(w.bytes()) + " bytes)" +
             (mem_note.empty() ? "" : "; " + mem_note);
    return a;
}

}  // namespace

written_data find_written(int fd, bool block_device, uint64_t size)
{
    written_data w;
    if (block_device) {
        // The block layer checks alignment before it touches the media.
        if (size)
            w.ranges.push_back({0, size, false, false});
        w.how = size ? "block device" : "empty block device";
        return w;
    }
    if (size == 0) {
        w.how = "empty file";
        return w;
    }
    if (!fiemap_ranges(fd, size, w))
        seek_ranges(fd, size, w);
    if (w.ranges.empty())
        w.how += ": only holes or unwritten extents";
    return w;
}

method_answer trial_read(int fd, const written_data &w) { return trial(fd, w, false); }

method_answer trial_write(int fd, const written_data &w) { return trial(fd, w, true); }

}  // namespace raw_posix::detail

std::uint64_t raw_posix::written_data::bytes() const
{
    std::uint64_t n = 0;
    for (const auto &r : ranges)
        n += r.end - r.start;
    return n;
}
