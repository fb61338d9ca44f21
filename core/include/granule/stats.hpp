// Per-device counters, so zero-copy and serialisation can be observed.
#pragma once

#include <cstdint>

namespace granule {

// Every counter, once: the struct, the device's atomic counters, snapshot and
// reset, and granule-io's `stats` all expand this list.
#define GRANULE_STATS_FIELDS(X)                                                \
    X(read_requests)        /* caller requests, not driver requests */        \
    X(write_requests)                                                          \
    X(flush_requests)                                                          \
    X(discard_requests)                                                        \
    X(zero_requests)                                                           \
    X(bytes_read)           /* bytes the callers asked for */                 \
    X(bytes_written)                                                           \
    X(bytes_bounced)        /* through Granule-owned buffers (padding, bounce) */ \
    X(rmw_cycles)           /* head/tail blocks read back for unaligned writes */ \
    X(serialisation_waits)  /* times a request waited for an overlapping one */ \
    X(driver_requests)      /* reads/writes submitted to the root driver */   \
    X(failed_requests)                                                         \
    X(throttle_waits)       /* requests held back by throttle.* limits */     \
    X(bytes_copied_on_read) /* backing data written into the overlay */      \
    X(writes_carried)       /* caller writes done by another write's request */ \
    X(bytes_read_ahead)     /* read past an RMW tail block into the block cache */

struct stats {
#define GRANULE_STATS_MEMBER_(name) std::uint64_t name = 0;
    GRANULE_STATS_FIELDS(GRANULE_STATS_MEMBER_)
#undef GRANULE_STATS_MEMBER_
};

struct stat_field {
    const char *name;
    std::uint64_t stats::*member;
};
inline constexpr stat_field stat_fields[] = {
#define GRANULE_STATS_ENTRY_(name) {#name, &stats::name},
    GRANULE_STATS_FIELDS(GRANULE_STATS_ENTRY_)
#undef GRANULE_STATS_ENTRY_
};

}  // namespace granule
