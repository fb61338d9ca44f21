// Helpers shared by the stress programs (stress, model_stress) and the crash
// test's writer (tests/integration/crash): failing loudly, caller buffers at a
// chosen memory skew, random and attributable data, and opening the stack a
// --backend names (blkdebug align=4096,mem-align=512 over memory or a temp file).
#pragma once

#include <granule/device.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

namespace stress {

using granule::io_buffer;

constexpr std::size_t max_skew = 4096;

[[noreturn]] inline void fail(const std::string &why)
{
    std::fflush(stdout);  // keep the log in order: progress, then the failure
    std::fprintf(stderr, "FAIL: %s\n", why.c_str());
    std::exit(1);
}

// GRANULE_NO_SKIP=1 (CI): a missing component is a failure, not a skip.
inline bool no_skip()
{
    const char *v = std::getenv("GRANULE_NO_SKIP");
    return v && std::string(v) == "1";
}

// Exit 77 (skip) with the reason, or fail under GRANULE_NO_SKIP=1.
[[noreturn]] inline void skip(const std::string &why)
{
    if (no_skip())
        fail("GRANULE_NO_SKIP=1, would skip: " + why);
    std::printf("SKIP: %s\n", why.c_str());
    std::exit(77);
}

// One caller buffer at a chosen distance from a 4096-aligned address: skew 0
// or a multiple of 512 can go zero-copy (mem-align 512), others bounce.
class buffer {
public:
    buffer(std::size_t len, std::size_t skew) : storage_(len + 2 * max_skew), len_(len)
    {
        auto p = reinterpret_cast<std::uintptr_t>(storage_.data());
        base_ = reinterpret_cast<std::uint8_t *>((p + max_skew - 1) / max_skew * max_skew + skew);
    }
    std::uint8_t *data() { return base_; }
    std::size_t size() const { return len_; }
    std::vector<io_buffer> iov() { return {{base_, len_}}; }

private:
    std::vector<std::uint8_t> storage_;
    std::uint8_t *base_;
    std::size_t len_;
};

inline std::size_t random_skew(std::mt19937_64 &rng)
{
    static const std::size_t skews[] = {0, 0, 512, 1024, 1, 3, 511, 2049};
    return skews[rng() % std::size(skews)];
}

// 1 to 3 iovec elements over len bytes, each in its own buffer at a random
// memory skew, cut on 512-byte edges half the time (so some requests can go
// zero-copy); src (len bytes), when given, is copied in.
inline void split_iov(std::mt19937_64 &rng, std::uint64_t len, const std::uint8_t *src,
                      std::vector<buffer> &bufs, std::vector<io_buffer> &iov)
{
    std::vector<std::uint64_t> cuts{0, len};
    const unsigned parts = 1 + rng() % 3;
    for (unsigned i = 1; i < parts && len > 1; ++i) {
        std::uint64_t c = 1 + rng() % (len - 1);
        if (rng() % 2 && c >= 512)
            c -= c % 512;
        cuts.push_back(c);
    }
    std::sort(cuts.begin(), cuts.end());
    cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
    bufs.reserve(cuts.size() - 1);
    for (std::size_t i = 0; i + 1 < cuts.size(); ++i) {
        const auto n = static_cast<std::size_t>(cuts[i + 1] - cuts[i]);
        bufs.emplace_back(n, random_skew(rng));
        if (src)
            std::memcpy(bufs.back().data(), src + cuts[i], n);
        iov.push_back({bufs.back().data(), n});
    }
}

// All 8 bytes of each draw: a 64 MiB device is refilled several times a round.
inline void fill_random(std::mt19937_64 &rng, std::uint8_t *p, std::size_t n)
{
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const std::uint64_t v = rng();
        std::memcpy(p + i, &v, 8);
    }
    if (i < n) {
        const std::uint64_t v = rng();
        std::memcpy(p + i, &v, n - i);
    }
}

// Attributable data: the byte a write `id` puts at device offset `pos` is a
// hash of (salt, id, pos / 8), so two writes (or one write at two offsets)
// almost never agree, and a run of 16 found bytes names its writer. The salt
// (the run's seed) keeps runs apart. id 0 is the initial fill.
inline std::uint64_t pattern_word(std::uint64_t salt, std::uint64_t id, std::uint64_t word)
{
    std::uint64_t z = salt ^ (id * 0x9e3779b97f4a7c15ull) ^ (word * 0xd1b54a32d192ed03ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;  // splitmix64's finaliser
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

inline std::uint8_t pattern_byte(std::uint64_t salt, std::uint64_t id, std::uint64_t pos)
{
    return static_cast<std::uint8_t>(pattern_word(salt, id, pos / 8) >> (pos % 8 * 8));
}

// dst[0, len) = what write `id` puts at [pos, pos + len).
inline void fill_pattern(std::uint8_t *dst, std::uint64_t salt, std::uint64_t id,
                         std::uint64_t pos, std::size_t len)
{
    std::size_t i = 0;
    while (i < len) {
        const std::uint64_t p = pos + i;
        const std::uint64_t w = pattern_word(salt, id, p / 8);
        const std::size_t from = p % 8, n = std::min<std::size_t>(8 - from, len - i);
        for (std::size_t k = 0; k < n; ++k)
            dst[i + k] = static_cast<std::uint8_t>(w >> ((from + k) * 8));
        i += n;
    }
}

// How many of found[0, len) at device offset pos are write id's bytes, from the start.
inline std::size_t pattern_run(const std::uint8_t *found, std::uint64_t salt, std::uint64_t id,
                               std::uint64_t pos, std::size_t len)
{
    std::size_t n = 0;
    while (n < len && found[n] == pattern_byte(salt, id, pos + n))
        ++n;
    return n;
}

// Completions of requests numbered by their issuer, pushed from the device
// thread (error: empty on success), taken by the issuing thread.
class completion_queue {
public:
    void push(std::uint64_t seq, std::string error)
    {
        std::lock_guard lock(m_);
        q_.emplace_back(seq, std::move(error));
        cv_.notify_one();
    }
    // Everything queued; waits for at least one first when `wait`.
    std::deque<std::pair<std::uint64_t, std::string>> take(bool wait)
    {
        std::unique_lock lock(m_);
        if (wait && !cv_.wait_for(lock, std::chrono::seconds(60), [&] { return !q_.empty(); }))
            fail("no request completed for 60 s (a request hangs)");
        return std::exchange(q_, {});
    }

private:
    std::mutex m_;
    std::condition_variable cv_;
    std::deque<std::pair<std::uint64_t, std::string>> q_;
};

inline void print_stats(const granule::stats &s)
{
    std::printf("  stats: write_requests %llu read_requests %llu bytes_written %llu "
                "bytes_bounced %llu rmw_cycles %llu serialisation_waits %llu "
                "driver_requests %llu failed_requests %llu writes_carried %llu\n",
                (unsigned long long)s.write_requests, (unsigned long long)s.read_requests,
                (unsigned long long)s.bytes_written, (unsigned long long)s.bytes_bounced,
                (unsigned long long)s.rmw_cycles, (unsigned long long)s.serialisation_waits,
                (unsigned long long)s.driver_requests, (unsigned long long)s.failed_requests,
                (unsigned long long)s.writes_carried);
}

// The device a --backend names, with the temp file behind it (removed after
// the device closed).
struct stack {
    std::unique_ptr<granule::device> dev;
    std::string temp;
    stack() = default;
    stack(stack &&) = default;
    ~stack() { close(); }
    void close()
    {
        dev.reset();
        if (!temp.empty())
            std::filesystem::remove(temp);
        temp.clear();
    }
};

// backend "memory": blkdebug align=4096,mem-align=512 over a memory node of
// `size` bytes; "raw-posix": the same over a temp file of `size` bytes, with
// raw_posix_extra (e.g. ",image.cache.direct=on") appended; a non-empty spec
// is opened as given (backend empty). Exit 77 when a driver is missing or
// the temp directory has no O_DIRECT (fail with GRANULE_NO_SKIP=1); exit 2
// on an unknown backend.
inline stack open_stack(const std::string &backend, std::string spec, std::uint64_t size,
                        const std::string &raw_posix_extra = "")
{
    stack s;
    if (spec.empty()) {
        std::string image;
        if (backend == "memory") {
            // growable: reads past the end return zeroes, which the
            // model checks (a fixed-size device fails them).
            image = "image.driver=memory,image.growable=on,image.size=" + std::to_string(size);
        } else if (backend == "raw-posix") {
            auto tmpl = (std::filesystem::temp_directory_path() / "granule-stress-XXXXXX").string();
            int fd = mkstemp(tmpl.data());
            if (fd < 0 || ftruncate(fd, static_cast<off_t>(size)) != 0)
                fail("cannot create a temp file " + tmpl + ": " + std::strerror(errno));
            ::close(fd);
            s.temp = tmpl;
            image = "image.driver=raw-posix,image.growable=on,image.filename=" + s.temp +
                    raw_posix_extra;
        } else {
            std::fprintf(stderr, "unknown backend '%s'\n", backend.c_str());
            std::exit(2);
        }
        // blkdebug forces a 4096 request and 512 memory alignment on any child.
        spec = "driver=blkdebug,align=4096,mem-align=512," + image;
    }
    auto opened = granule::device::open(spec);
    if (!opened) {
        s.close();
        const auto msg = opened.error().message;
        if (msg.find("unknown driver") != std::string::npos ||
            msg.find("O_DIRECT not supported") != std::string::npos)
            skip(msg);
        fail("cannot open " + spec + ": " + msg);
    }
    s.dev = std::move(*opened);
    return s;
}

}  // namespace stress
