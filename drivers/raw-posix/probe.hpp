// What O_DIRECT and a block device need, asked several ways, every answer
// with its source: a probed value without its source cannot be trusted or
// debugged. Linux only (statx, BLK* ioctls, sysfs, XFS_IOC_DIOINFO, FIEMAP).
//
// Order (docs/drivers/raw-posix.md has the measured table):
//   1. statx(STATX_DIOALIGN | STATX_DIO_READ_ALIGN), raw syscall, own layout
//   2. block devices: BLKSSZGET (ioctl), queue/dma_alignment + 1 (sysfs)
//   3. XFS_IOC_DIOINFO on XFS files (d_mem is recorded but verified by trial)
//   4. trial O_DIRECT I/O, only over written, allocated data: reads there, and
//      writes that put back exactly the bytes just read. Over holes, unwritten
//      (fallocated) extents and past EOF a read succeeds at ANY alignment.
//   5. max(4096, page size), source "fallback (undetectable)".
// Units are bytes. Every alignment is a power of two. Nothing here throws
// except std::bad_alloc; the functions are not thread-safe per fd.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace raw_posix {

// A chosen value and where it came from: "statx", "ioctl", "sysfs", "dioinfo",
// "trial", "fallback (undetectable)", "buffered" or "default" (with detail in
// parentheses where useful, e.g. "trial (dioinfo said 4096)").
struct probed {
    std::uint64_t value = 1;
    std::string source = "default";
};

// What one method said. A field of 0 means the method gave no answer for it.
struct method_answer {
    std::string method;             // statx, ioctl, sysfs, dioinfo, trial-read, trial-write
    bool asked = false;             // false: skipped, an earlier method had answered
    std::uint64_t offset = 0;       // offset/length alignment of writes (and of reads,
                                    // unless read_offset says otherwise)
    std::uint64_t read_offset = 0;  // reads only, where the method tells them apart
    std::uint64_t memory = 0;       // buffer address and iovec length alignment
    std::uint64_t at_least = 0;     // trials: smaller offsets were refused, this one untestable
    std::string note;               // why there is no answer, or how it was found

    // The read alignment this method implies (0 = none).
    std::uint64_t read_alignment() const { return read_offset ? read_offset : offset; }
    bool answered() const { return offset || read_offset || memory; }
};

// Block device geometry from ioctls and sysfs. value 0 = unknown or none.
struct block_limits {
    bool block_device = false;
    bool read_only = false;             // BLKROGET: writes fail (EPERM) even on a read-write fd
    probed logical_block{0, ""};        // BLKSSZGET
    probed physical_block{0, ""};       // BLKPBSZGET
    probed min_io{0, ""};               // BLKIOMIN
    probed opt_io{0, ""};               // BLKIOOPT (0: the device states no preference)
    probed dma_alignment{0, ""};        // queue/dma_alignment + 1 (the parent's for a partition)
    probed max_transfer{0, ""};         // queue/max_sectors_kb * 1024
    probed discard_granularity{0, ""};  // queue/discard_granularity (0 with max_discard 0: no discard)
    probed max_discard{0, ""};          // queue/discard_max_bytes
};

// Ranges where trial I/O tells the truth.
struct written_data {
    struct range {
        std::uint64_t start = 0;
        std::uint64_t end = 0;       // exclusive
        bool shared = false;         // FIEMAP_EXTENT_SHARED: a rewrite would unshare it
        bool check_content = false;  // only SEEK_DATA said so: a window must not read as all zeroes
    };
    std::vector<range> ranges;
    std::string how;   // "FIEMAP", "SEEK_DATA/SEEK_HOLE", "block device"; or why there is none
    std::uint64_t bytes() const;
};

struct dio_alignment {
    probed request;       // offset/length granularity of reads AND writes (read-write nodes)
    probed read_request;  // what reads alone need (read-only nodes)
    probed memory;        // iovec base and length granularity
};

struct probe_options {
    // The fd is open for writing, so trial writes may rewrite identical bytes
    // over written, unshared data. Never anything else.
    bool writable = false;
    // Ask every method even after an earlier one answered (granule-img probe).
    // Otherwise trials run only for what statx/ioctl/sysfs/dioinfo left open.
    bool every_method = false;
};

struct probe_report {
    std::string file_type;               // "block device", or "regular file on <fs>"
    std::uint64_t size = 0;              // file or device length
    std::vector<method_answer> methods;  // statx, ioctl, sysfs, dioinfo, trial-read, trial-write
    written_data written;                // where trials ran (filled when a trial was asked)
    dio_alignment chosen;
    block_limits block;

    const method_answer *find(const std::string &method) const;
};

// fd must be open with O_DIRECT (trials would lie otherwise). Never fails:
// what cannot be found out falls back to max(4096, page size).
probe_report probe_dio(int fd, const probe_options &opts);

// Block device geometry; works without O_DIRECT. For anything that is not a
// block device, block_device is false and every value 0.
block_limits probe_block_limits(int fd);

// max(4096, page size): what is used when nothing can be found out.
std::uint64_t fallback_alignment();

}  // namespace raw_posix
