// I/O throttling: limits on bytes and requests per second, for reads,
// writes or both, configured by the device's "throttle.*" options.
//
// Each limit is a generic cell rate algorithm (GCRA): a theoretical arrival
// time (TAT) advances by cost/rate per request, and a request may start
// once TAT - burst is reached. Requests are admitted in arrival order on
// the device's thread, so each gets its start time when it arrives: first
// come, first served, and a large request never starves behind small ones.
#pragma once

#include <granule/error.hpp>
#include <granule/options.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace granule {

struct throttle_config {
    // Per second; 0 = no limit.
    std::uint64_t bps_total = 0, bps_read = 0, bps_write = 0;
    std::uint64_t iops_total = 0, iops_read = 0, iops_write = 0;
    // How far ahead of its rate a limit may run after idling.
    std::chrono::milliseconds burst{100};

    bool enabled() const
    {
        return bps_total || bps_read || bps_write || iops_total || iops_read || iops_write;
    }
    // "iops-total=100,bps-write=1048576,burst-ms=100", or "" when disabled.
    std::string describe() const;
    // The same as name/value pairs (device_description::throttle).
    std::vector<std::pair<std::string, std::uint64_t>> settings() const;
};

// The keys are those below "throttle." (bps-total, iops-write, burst-ms...);
// errors name the full key. changes apply on top of base (for reopen).
result<throttle_config> parse_throttle(const options &keys, const throttle_config &base = {});

class throttle {
public:
    using clock = std::chrono::steady_clock;

    void configure(const throttle_config &c);
    const throttle_config &config() const { return config_; }
    bool enabled() const { return config_.enabled(); }

    // When a request arriving at now may start; books its cost.
    clock::time_point admit(bool write, std::uint64_t bytes, clock::time_point now);

private:
    struct limit {
        double rate = 0;                // units per second
        clock::time_point tat{};        // theoretical arrival time
    };
    enum { bps_total, bps_read, bps_write, iops_total, iops_read, iops_write, n_limits };
    throttle_config config_;
    std::array<limit, n_limits> limits_{};
};

}  // namespace granule
