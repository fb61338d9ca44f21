// What O_DIRECT needs on an open file, and where each answer came from: a
// probed value without its source cannot be trusted or debugged.
#pragma once

#include <cstdint>

namespace raw_posix {

struct probed {
    std::uint64_t value = 1;
    const char *source = "default";  // statx, ioctl, sysfs, trial, fallback, buffered
};

struct dio_alignment {
    probed request;  // offset and length granularity
    probed memory;   // iovec base and length granularity
};

// fd must be open with O_DIRECT. Tries statx(STATX_DIOALIGN), then for block
// devices BLKSSZGET and sysfs queue/dma_alignment, then trial reads over
// written data, then a conservative fallback. Never fails.
dio_alignment probe_dio_alignment(int fd, bool block_device);

}  // namespace raw_posix
