// convert -p's progress, on stdout like qemu-img's:
// - not a terminal: qemu-img's records, byte for byte: "    (x.xx/100%)\r"
//   at the start (0.00), whenever the percentage grew by more than 1 since
//   the last record, and 100.00 once at the end, then "\n". Programs that
//   read qemu-img -p (split at '\r') read these the same.
// - a terminal: a bar redrawn in place, at most every 100 ms, and at 100 %
//   when the copy ends, then "\n".
// Not thread-safe: one copy loop calls it.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>

namespace granule_img {

class progress_meter {
public:
    // terminal: draw the bar (else qemu's records).
    progress_meter(std::FILE *out, bool terminal, std::uint64_t total);
    // done of total bytes are copied.
    void update(std::uint64_t done);
    // The end: 100 % when the copy succeeded, then the line ends.
    void finish(bool complete);

    static constexpr std::chrono::milliseconds bar_interval{100};

private:
    void record(double percent);
    void bar(double percent);

    std::FILE *out_;
    bool terminal_;
    std::uint64_t total_;
    double last_ = 0;  // percentage last printed
    std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace granule_img
