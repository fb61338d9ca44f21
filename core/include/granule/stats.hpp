// Per-device counters, so zero-copy and serialisation can be observed.
#pragma once

#include <cstdint>

namespace granule {

struct stats {
    std::uint64_t read_requests = 0;    // caller requests, not driver requests
    std::uint64_t write_requests = 0;
    std::uint64_t flush_requests = 0;
    std::uint64_t discard_requests = 0;
    std::uint64_t zero_requests = 0;
    std::uint64_t bytes_read = 0;       // bytes the callers asked for
    std::uint64_t bytes_written = 0;
    std::uint64_t bytes_bounced = 0;    // bytes passed through Granule-owned buffers (padding, bounce)
    std::uint64_t rmw_cycles = 0;       // head/tail blocks read back for unaligned writes
    std::uint64_t serialisation_waits = 0;  // times a request waited for an overlapping one
    std::uint64_t driver_requests = 0;  // reads/writes submitted to the root driver
    std::uint64_t failed_requests = 0;
    std::uint64_t throttle_waits = 0;   // requests held back by throttle.* limits
    std::uint64_t bytes_copied_on_read = 0;  // backing data written into the overlay
};

}  // namespace granule
