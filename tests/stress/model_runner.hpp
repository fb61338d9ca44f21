// model_stress's runner: the generator, the issue-order model and the
// checks, shared by model_stress.cpp (generation, issuing, checking, run)
// and model_rounds.cpp (breakpoint rounds and mismatch attribution).
#pragma once

#include "stress_support.hpp"

#include <granule/device.hpp>

#include <boost/asio/post.hpp>
#include <boost/asio/use_future.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <future>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace model_stress {


using granule::io_buffer;
using stress::fail;
using u64 = std::uint64_t;

inline std::string range_text(u64 off, u64 len)
{
    return std::to_string(off) + "+" + std::to_string(len);
}

enum class kind { read, write, flush };

// Bits of a read's per-byte mask.
constexpr std::uint8_t behind_older = 1;    // an older unaligned write was in flight there
constexpr std::uint8_t unchecked = 2;       // an aligned write in flight may or may not be in
constexpr std::uint8_t under_newer = 4;     // an unaligned write issued later covers it

struct op {
    kind k = kind::read;
    u64 seq = 0;       // issue order of all ops
    u64 id = 0;        // writes: write id (1, 2, ...); its record is log[id - 1]
    u64 off = 0, len = 0;
    bool aligned = false;
    std::vector<stress::buffer> bufs;
    std::vector<io_buffer> iov;
    // Reads: writes issued before it, the model at its issue, the mask, and
    // the writes in flight at its issue or issued while it was in flight.
    u64 writes_before = 0;
    std::vector<std::uint8_t> expect, mask;
    std::vector<u64> concurrent;
};

struct write_rec {
    u64 off, len;
    bool aligned;
};

// Gates the device thread in a posted handler until released.
struct gate {
    std::promise<void> p;
    void post(granule::device &dev)
    {
        boost::asio::post(dev.get_executor(), [f = p.get_future().share()] { f.wait(); });
    }
    void release() { p.set_value(); }
};

struct config {
    std::string backend, spec;
    u64 seed = 0, ops = 20000, depth = 64, size = 0, check_every = 5000;
};

class runner {
public:
    runner(granule::device &dev, const config &cfg, u64 size)
        : dev_(dev), cfg_(cfg), size_(size), rng_(cfg.seed)
    {
        const auto lim = dev.get_limits();
        align_ = std::max<u64>({lim.request_alignment, lim.min_mem_alignment, 1});
        // Past the end a growable device reads zeroes; a fixed-size one
        // fails (EIO), so reads stay inside it.
        read_past_end_ = size_ == dev.length() && dev.growable();
        hot_window_ = std::min<u64>(size_, std::max<u64>(8 * align_, 32768));
    }

    void run();

private:
    // Generation.
    u64 pick_len();
    std::pair<u64, u64> pick_range(bool write);
    std::pair<u64, u64> inside(u64 from, u64 to);
    void split_iov(op &o, bool fill);

    // Issuing: every op passes here, in issue order.
    op &issue_write(u64 off, u64 len);
    op &issue_read(u64 off, u64 len);
    void issue_flush();
    void issue_random();
    bool aligned_range(u64 off, u64 len) const { return off % align_ == 0 && len % align_ == 0; }

    // Completions.
    void reap(bool wait);
    void drain();
    void check_read(const op &o);
    void check_device(const char *when);

    void breakpoint_round(bool forced);
    void sync_with_device();

    // Mismatch reports.
    u64 writer_before(u64 pos, u64 writes) const;
    std::string found_writer(const std::uint8_t *found, u64 pos, u64 avail) const;
    [[noreturn]] void mismatch(const std::string &what, u64 off, u64 len, u64 pos, std::uint8_t want,
                               std::uint8_t got, u64 want_writer, const std::string &found,
                               const std::string &extra);

    granule::device &dev_;
    const config &cfg_;
    const u64 size_;
    std::mt19937_64 rng_;
    u64 align_ = 1;
    bool read_past_end_ = false;
    u64 hot_window_ = 0, hot_ = 0;
    bool breakpoints_ = true;

    std::vector<std::uint8_t> model_;
    std::vector<write_rec> log_;
    std::map<u64, std::unique_ptr<op>> inflight_;
    stress::completion_queue done_;
    u64 next_seq_ = 1, target_depth_ = 1, max_inflight_ = 0;
    u64 last_write_end_ = 0;  // where the last write issued ended

    // Figures for the summary.
    u64 n_reads_ = 0, n_writes_ = 0, n_aligned_ = 0, n_flushes_ = 0, bytes_written_ = 0;
    u64 read_checked_ = 0, read_behind_older_ = 0, read_under_newer_ = 0, read_unchecked_ = 0;
    u64 device_checked_ = 0, device_checks_ = 0, bp_rounds_ = 0, bp_forced_ = 0;
};

}  // namespace model_stress
