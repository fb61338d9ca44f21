// The probing methods one by one (probe_sys.cpp: syscalls, ioctls, sysfs;
// probe_trial.cpp: trial I/O). probe.cpp puts them in order and chooses.
#pragma once

#include "probe.hpp"

#include <string>

namespace raw_posix::detail {

// An answer of the named method, asked but not answered yet.
inline method_answer asked_method(const char *name)
{
    method_answer a;
    a.method = name;
    a.asked = true;
    return a;
}

// statx(STATX_DIOALIGN | STATX_DIO_READ_ALIGN) through the raw syscall.
method_answer ask_statx(int fd);
// BLKSSZGET as the answer, the other geometry in the note.
method_answer ask_ioctl(const block_limits &b);
// queue/dma_alignment + 1.
method_answer ask_sysfs(const block_limits &b);
// XFS_IOC_DIOINFO, only on files of an XFS filesystem (the ioctl number is XFS's).
method_answer ask_dioinfo(int fd, bool block_device);

// "xfs", "ext4", "tmpfs", ... or "fs 0x1234" from fstatfs.
std::string filesystem_name(int fd);

// Written, allocated ranges of the file (the whole device for block devices).
written_data find_written(int fd, bool block_device, std::uint64_t size);

// Trial O_DIRECT reads over written data: read_offset and memory.
method_answer trial_read(int fd, const written_data &w);
// Trial O_DIRECT writes of exactly the bytes just read, over written,
// unshared data: offset and memory. The fd must be writable.
method_answer trial_write(int fd, const written_data &w);

}  // namespace raw_posix::detail
