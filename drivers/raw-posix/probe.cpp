#include "probe.hpp"

#include <granule/platform/aligned_buffer.hpp>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

namespace raw_posix {
namespace {

// glibc 2.36's struct statx predates the direct I/O fields, so read the
// kernel's layout ourselves (linux/stat.h, 6.1+).
constexpr unsigned statx_dioalign = 0x2000;
constexpr std::size_t statx_struct_size = 256;
constexpr std::size_t stx_mask_at = 0x00;
constexpr std::size_t stx_dio_mem_align_at = 0x98;
constexpr std::size_t stx_dio_offset_align_at = 0x9c;

// Trial sizes; beyond a page nothing real needs more and statx covers the rest.
constexpr std::uint64_t candidates[] = {1, 512, 1024, 2048, 4096};
constexpr std::uint64_t largest_candidate = 4096;

struct statx_dio {
    std::uint32_t memory = 0;  // 0 = unknown
    std::uint32_t offset = 0;
};

statx_dio query_statx(int fd)
{
    alignas(8) unsigned char buf[statx_struct_size] = {};
    if (syscall(SYS_statx, fd, "", AT_EMPTY_PATH, statx_dioalign, buf) != 0)
        return {};
    std::uint32_t mask = 0;
    std::memcpy(&mask, buf + stx_mask_at, sizeof mask);
    statx_dio d;
    // Absent on old kernels and on filesystems without an answer (tmpfs).
    if (!(mask & statx_dioalign))
        return d;
    std::memcpy(&d.memory, buf + stx_dio_mem_align_at, sizeof d.memory);
    std::memcpy(&d.offset, buf + stx_dio_offset_align_at, sizeof d.offset);
    return d;
}

std::optional<std::uint64_t> read_number(const std::string &path)
{
    std::ifstream in(path);
    std::uint64_t v = 0;
    if (in >> v)
        return v;
    return std::nullopt;
}

// The DMA mask of the queue, not the logical block size: on a 4096-sector
// device memory often only needs 512, which is what makes zero-copy possible.
std::optional<std::uint64_t> sysfs_dma_alignment(int fd)
{
    struct stat st {};
    if (fstat(fd, &st) != 0)
        return std::nullopt;
    std::string dev = "/sys/dev/block/" + std::to_string(major(st.st_rdev)) + ":" +
                      std::to_string(minor(st.st_rdev));
    // A partition has no queue/ of its own: it is in the parent disk's directory.
    for (const char *rel : {"/queue/dma_alignment", "/../queue/dma_alignment"})
        if (auto v = read_number(dev + rel))
            return *v + 1;
    return std::nullopt;
}

bool read_exactly(int fd, void *buf, std::size_t len, off_t offset)
{
    ssize_t n;
    do
        n = pread(fd, buf, len, offset);
    while (n < 0 && errno == EINTR);
    return n == static_cast<ssize_t>(len);
}

// An offset (multiple of len) with len bytes of written data behind it. Trial
// reads over holes, unwritten extents or EOF succeed at any alignment, because
// the kernel returns zeroes before it checks, so only written data tells the truth.
std::optional<off_t> find_written(int fd, bool block_device, std::uint64_t len)
{
    if (block_device)  // the block layer checks alignment before touching media
        return 0;
    off_t data = lseek(fd, 0, SEEK_DATA);
    for (int tries = 0; data >= 0 && tries < 64; ++tries) {
        off_t hole = lseek(fd, data, SEEK_HOLE);
        if (hole < 0)
            return std::nullopt;
        off_t start = static_cast<off_t>((data + len - 1) / len * len);
        if (start + static_cast<off_t>(len) <= hole)
            return start;
        data = lseek(fd, hole, SEEK_DATA);
    }
    return std::nullopt;
}

void trial(int fd, bool block_device, dio_alignment &a)
{
    std::uint64_t window = std::max(largest_candidate, a.request.value);
    auto where = find_written(fd, block_device, window);
    if (!where)
        return;
    // Twice the largest candidate: buf + m is then aligned to exactly m.
    granule::platform::aligned_buffer buf(2 * largest_candidate, largest_candidate + window);
    if (!a.request.value) {
        for (auto c : candidates)
            if (read_exactly(fd, buf.data(), c, *where)) {
                a.request = {c, "trial"};
                break;
            }
    }
    if (!a.memory.value && a.request.value) {
        for (auto m : candidates)
            if (read_exactly(fd, buf.data() + m % (2 * largest_candidate), a.request.value,
                             *where)) {
                a.memory = {m, "trial"};
                break;
            }
    }
}

}  // namespace

dio_alignment probe_dio_alignment(int fd, bool block_device)
{
    dio_alignment a;
    a.request = {0, ""};
    a.memory = {0, ""};
    auto sx = query_statx(fd);
    if (sx.offset)
        a.request = {sx.offset, "statx"};
    if (sx.memory)
        a.memory = {sx.memory, "statx"};
    if (block_device) {
        int sector = 0;
        if (!a.request.value && ioctl(fd, BLKSSZGET, &sector) == 0 && sector > 0)
            a.request = {static_cast<std::uint64_t>(sector), "ioctl"};
        if (!a.memory.value)
            if (auto m = sysfs_dma_alignment(fd))
                a.memory = {*m, "sysfs"};
    }
    if (!a.request.value || !a.memory.value) {
        try {
            trial(fd, block_device, a);
        } catch (const std::bad_alloc &) {
            // fall through to the conservative values
        }
    }
    if (!a.request.value)
        a.request = {largest_candidate, "fallback"};
    if (!a.memory.value)
        a.memory = {granule::platform::page_size(), "fallback"};
    return a;
}

}  // namespace raw_posix
