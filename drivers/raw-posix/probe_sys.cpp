// The probes that ask the kernel: statx, block device ioctls, sysfs and
// XFS_IOC_DIOINFO. None of them does I/O.
#include "probe_methods.hpp"

#include <granule/platform/system_error.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>

#include <fcntl.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

namespace raw_posix::detail {
namespace {

using granule::platform::error_text;
using std::uint64_t;

// glibc 2.36's struct statx predates the direct I/O fields, so read the
// kernel's layout ourselves (include/uapi/linux/stat.h).
constexpr unsigned statx_dioalign = 0x2000;         // 6.1
constexpr unsigned statx_dio_read_align = 0x20000;  // 6.14
constexpr std::size_t statx_struct_size = 256;
constexpr std::size_t stx_mask_at = 0x00;
constexpr std::size_t stx_dio_mem_align_at = 0x98;
constexpr std::size_t stx_dio_offset_align_at = 0x9c;
constexpr std::size_t stx_dio_read_offset_align_at = 0xb4;

// XFS's own ioctl (xfs_fs.h, not installed without xfslibs-dev).
struct xfs_dioattr {
    std::uint32_t d_mem;      // buffer alignment
    std::uint32_t d_miniosz;  // offset/length granularity
    std::uint32_t d_maxiosz;  // largest single request
};
constexpr unsigned long xfs_ioc_dioinfo = _IOR('X', 30, struct xfs_dioattr);

std::uint32_t u32_at(const unsigned char *buf, std::size_t at)
{
    std::uint32_t v = 0;
    std::memcpy(&v, buf + at, sizeof v);
    return v;
}

std::optional<uint64_t> read_number(const std::string &path)
{
    std::ifstream in(path);
    uint64_t v = 0;
    if (in >> v)
        return v;
    return std::nullopt;
}

// The queue/ directory of a block device: a partition has none of its own,
// its parent disk's is one level up.
std::optional<std::string> queue_dir(const struct stat &st)
{
    std::string dev = "/sys/dev/block/" + std::to_string(major(st.st_rdev)) + ":" +
                      std::to_string(minor(st.st_rdev));
    for (const char *rel : {"/queue/", "/../queue/"})
        if (read_number(dev + rel + "logical_block_size"))
            return dev + rel;
    return std::nullopt;
}

template <class T>
bool blk_ioctl(int fd, unsigned long request, probed &out, const char *name)
{
    T v{};
    if (ioctl(fd, request, &v) != 0 || v <= 0)
        return false;
    out = {static_cast<uint64_t>(v), std::string("ioctl ") + name};
    return true;
}

void sysfs_value(const std::string &queue, const char *file, probed &out, uint64_t scale = 1,
                 uint64_t add = 0)
{
    if (auto v = read_number(queue + file))
        out = {*v * scale + add, std::string("sysfs queue/") + file};
}

}  // namespace

method_answer ask_statx(int fd)
{
    method_answer a = asked_method("statx");
    alignas(8) unsigned char buf[statx_struct_size] = {};
    if (syscall(SYS_statx, fd, "", AT_EMPTY_PATH, statx_dioalign | statx_dio_read_align, buf) != 0) {
        a.note = "statx failed: " + error_text(errno);
        return a;
    }
    std::uint32_t mask = u32_at(buf, stx_mask_at);
    // Absent on kernels before 6.1 and on filesystems without an answer (tmpfs).
    if (!(mask & statx_dioalign)) {
        a.note = "no STATX_DIOALIGN in the answer (kernel or filesystem does not report it)";
        return a;
    }
    a.memory = u32_at(buf, stx_dio_mem_align_at);
    a.offset = u32_at(buf, stx_dio_offset_align_at);
    if (!a.offset || !a.memory) {
        // Both 0 is the documented "direct I/O is not supported on this file".
        a.note = "STATX_DIOALIGN is 0: no direct I/O on this file";
        a.offset = a.memory = 0;
        return a;
    }
    // With STATX_DIO_READ_ALIGN, dio_offset_align is for writes and reads have
    // their own (0 = same). XFS reports 512 for reads, 4096 for writes of a
    // reflinked file on a 512-byte device.
    if (mask & statx_dio_read_align) {
        std::uint32_t rd = u32_at(buf, stx_dio_read_offset_align_at);
        if (rd && rd != a.offset)
            a.read_offset = rd;
        a.note = "STATX_DIOALIGN + STATX_DIO_READ_ALIGN";
    } else {
        a.note = "STATX_DIOALIGN (no STATX_DIO_READ_ALIGN: reads need the same)";
    }
    return a;
}

method_answer ask_ioctl(const block_limits &b)
{
    method_answer a = asked_method("ioctl");
    if (!b.block_device) {
        a.note = "not a block device";
        return a;
    }
    if (b.logical_block.value && b.logical_block.source == "ioctl BLKSSZGET")
        a.offset = b.logical_block.value;
    auto v = [](const probed &p) { return p.value ? std::to_string(p.value) : std::string("-"); };
    a.note = "BLKSSZGET " + v(b.logical_block) + ", BLKPBSZGET " + v(b.physical_block) +
             ", BLKIOMIN " + v(b.min_io) + ", BLKIOOPT " + (b.opt_io.value ? v(b.opt_io) : "0");
    return a;
}

method_answer ask_sysfs(const block_limits &b)
{
    method_answer a = asked_method("sysfs");
    if (!b.block_device) {
        a.note = "not a block device";
        return a;
    }
    if (!b.dma_alignment.value) {
        a.note = "no queue/dma_alignment in /sys/dev/block";
        return a;
    }
    a.memory = b.dma_alignment.value;
    a.note = "queue/dma_alignment + 1; max_sectors_kb -> max_transfer " +
             (b.max_transfer.value ? std::to_string(b.max_transfer.value) : std::string("?")) +
             ", optimal_io_size " + std::to_string(b.opt_io.value);
    return a;
}

method_answer ask_dioinfo(int fd, bool block_device)
{
    method_answer a = asked_method("dioinfo");
    if (block_device) {
        a.note = "block device (XFS_IOC_DIOINFO is for XFS files)";
        return a;
    }
    struct statfs fs {};
    if (fstatfs(fd, &fs) != 0 || static_cast<unsigned long>(fs.f_type) != XFS_SUPER_MAGIC) {
        a.note = "not XFS";
        return a;
    }
    xfs_dioattr d{};
    if (ioctl(fd, xfs_ioc_dioinfo, &d) != 0) {
        a.note = "XFS_IOC_DIOINFO failed: " + error_text(errno);
        return a;
    }
    a.offset = d.d_miniosz;
    a.memory = d.d_mem;
    // d_mem equals the sector size on older kernels, more than the DMA rule needs.
    a.note = "d_miniosz " + std::to_string(d.d_miniosz) + ", d_mem " + std::to_string(d.d_mem) +
             " (d_mem may be overstated: verified by trial where there is written data)";
    return a;
}

std::string filesystem_name(int fd)
{
    struct statfs fs {};
    if (fstatfs(fd, &fs) != 0)
        return "unknown filesystem";
    switch (static_cast<unsigned long>(fs.f_type)) {
    case XFS_SUPER_MAGIC: return "xfs";
    case EXT4_SUPER_MAGIC: return "ext4";  // also ext2/ext3
    case TMPFS_MAGIC: return "tmpfs";
    case BTRFS_SUPER_MAGIC: return "btrfs";
    case NFS_SUPER_MAGIC: return "nfs";
    case OVERLAYFS_SUPER_MAGIC: return "overlay";
    case 0x65735546: return "fuse";  // FUSE_SUPER_MAGIC, not in linux/magic.h
    case BDEVFS_MAGIC: return "bdev";
    default: {
        char hex[32];
        std::snprintf(hex, sizeof hex, "fs 0x%lx", static_cast<unsigned long>(fs.f_type));
        return hex;
    }
    }
}

}  // namespace raw_posix::detail

namespace raw_posix {

block_limits probe_block_limits(int fd)
{
    block_limits b;
    struct stat st {};
    if (fstat(fd, &st) != 0 || !S_ISBLK(st.st_mode))
        return b;
    b.block_device = true;
    int ro = 0;
    b.read_only = ioctl(fd, BLKROGET, &ro) == 0 && ro;
    detail::blk_ioctl<int>(fd, BLKSSZGET, b.logical_block, "BLKSSZGET");
    detail::blk_ioctl<unsigned int>(fd, BLKPBSZGET, b.physical_block, "BLKPBSZGET");
    detail::blk_ioctl<unsigned int>(fd, BLKIOMIN, b.min_io, "BLKIOMIN");
    detail::blk_ioctl<unsigned int>(fd, BLKIOOPT, b.opt_io, "BLKIOOPT");
    if (auto q = detail::queue_dir(st)) {
        // The DMA mask of the queue, not the logical block size: on a 4096-sector
        // device memory often only needs 512, which is what makes zero-copy possible.
        detail::sysfs_value(*q, "dma_alignment", b.dma_alignment, 1, 1);
        detail::sysfs_value(*q, "max_sectors_kb", b.max_transfer, 1024);
        detail::sysfs_value(*q, "discard_granularity", b.discard_granularity);
        detail::sysfs_value(*q, "discard_max_bytes", b.max_discard);
        if (!b.logical_block.value)
            detail::sysfs_value(*q, "logical_block_size", b.logical_block);
        if (!b.opt_io.value) {
            if (auto v = detail::read_number(*q + "optimal_io_size"); v && *v)
                b.opt_io = {*v, "sysfs queue/optimal_io_size"};
        }
    }
    return b;
}

}  // namespace raw_posix
