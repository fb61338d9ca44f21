// stress: thousands of concurrent unaligned writes that share aligned blocks
// but never overlap byte-wise, then every byte checked against a model. If
// request serialisation lets two read-modify-writes of one block interleave,
// one of them writes back stale bytes and the check names the first one.
//
//   stress [--backend memory|raw-posix | --spec SPEC] [--seed N] [--writes N]
//          [--rounds N] [--size N]
// --backend (default memory) opens blkdebug align=4096,mem-align=512 over a
// memory node or a temp file sized for the writes. --spec opens SPEC as given
// (dotted options, e.g. driver=raw-posix,filename=/dev/loop0,cache.direct=on)
// and OVERWRITES the whole device, or its first --size bytes: the size comes
// from the device, the alignment from its limits (at least 2, or no write
// needs a read-modify-write and there is nothing to serialise).
// Exit 0: pass, 1: wrong byte or failed request, 2: usage,
// 77: backend driver not available (a failure when GRANULE_NO_SKIP=1).
#include "stress_support.hpp"

#include <granule/device.hpp>

#include <boost/asio/post.hpp>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace {

using stress::buffer;
using stress::fail;
using stress::fill_random;
using stress::print_stats;
using stress::random_skew;
using range = std::pair<std::uint64_t, std::uint64_t>;  // offset, length

constexpr std::uint64_t block = 4096;

// Splits [0, size) into n disjoint ranges covering it, with cuts half on
// 512-byte edges (zero-copy candidates) and half anywhere, in random order.
std::vector<range> partition(std::mt19937_64 &rng, std::uint64_t size, std::size_t n)
{
    std::set<std::uint64_t> cuts{0, size};
    while (cuts.size() < n + 1) {
        std::uint64_t c = 1 + rng() % (size - 1);
        if (rng() % 2)
            c = c / 512 * 512;
        if (c)
            cuts.insert(c);
    }
    std::vector<range> out;
    for (auto it = cuts.begin(); std::next(it) != cuts.end(); ++it)
        out.push_back({*it, *std::next(it) - *it});
    std::shuffle(out.begin(), out.end(), rng);
    return out;
}

// Counts completions from the device thread; the main thread waits for all.
class completion_counter {
public:
    explicit completion_counter(std::size_t n) : left_(n) {}
    auto handler(std::string what)
    {
        return [this, what = std::move(what)](std::exception_ptr e,
                                              granule::result<std::size_t> r) {
            std::lock_guard lock(m_);
            if (e)
                errors_.push_back(what + ": exception");
            else if (!r)
                errors_.push_back(what + ": " + r.error().message);
            if (--left_ == 0)
                cv_.notify_all();
        };
    }
    void wait()
    {
        std::unique_lock lock(m_);
        cv_.wait(lock, [&] { return left_ == 0; });
        if (!errors_.empty())
            fail(std::to_string(errors_.size()) + " requests failed, first: " + errors_.front());
    }

private:
    std::mutex m_;
    std::condition_variable cv_;
    std::size_t left_;
    std::vector<std::string> errors_;
};

void check_device(granule::device &dev, const std::vector<std::uint8_t> &model, const char *when)
{
    std::vector<std::uint8_t> got(model.size());
    auto r = dev.pread(0, got.data(), got.size());
    if (!r)
        fail(std::string(when) + ": read back failed: " + r.error().message);
    auto m = std::mismatch(model.begin(), model.end(), got.begin());
    if (m.first != model.end())
        fail(std::string(when) + ": wrong byte at offset " +
             std::to_string(m.first - model.begin()) + ": expected " + std::to_string(*m.first) +
             ", got " + std::to_string(*m.second));
    std::printf("  %s: all %zu bytes match\n", when, model.size());
}

// Round 1: every write in flight at once.
void round_writes(granule::device &dev, std::vector<std::uint8_t> &model, std::mt19937_64 &rng,
                  std::size_t writes)
{
    auto ranges = partition(rng, model.size(), writes);
    std::vector<buffer> bufs;
    bufs.reserve(ranges.size());
    for (auto [off, len] : ranges) {
        bufs.emplace_back(len, random_skew(rng));
        fill_random(rng, bufs.back().data(), len);
        std::memcpy(model.data() + off, bufs.back().data(), len);
    }
    completion_counter done(ranges.size());
    // Issued from one handler on the device's executor: every write is
    // tracked before any completion runs, so writes sharing a block must
    // wait for each other, however fast the backend is. (Round 2 issues
    // from this thread instead, racing the completions.)
    boost::asio::post(dev.get_executor(), [&] {
        for (std::size_t i = 0; i < ranges.size(); ++i)
            dev.async_pwritev(ranges[i].first, bufs[i].iov(),
                              done.handler("write at " + std::to_string(ranges[i].first) + "+" +
                                           std::to_string(ranges[i].second)));
    });
    done.wait();
    check_device(dev, model, "concurrent writes");
}

// Round 2: half the ranges are rewritten while the other half are read; the
// reads must see exactly the old bytes although neighbours RMW their blocks.
void round_mixed(granule::device &dev, std::vector<std::uint8_t> &model, std::mt19937_64 &rng,
                 std::size_t ops)
{
    auto ranges = partition(rng, model.size(), ops);
    const auto old = model;
    std::vector<buffer> bufs;
    bufs.reserve(ranges.size());
    completion_counter done(ranges.size());
    std::vector<bool> is_read(ranges.size());
    for (std::size_t i = 0; i < ranges.size(); ++i) {
        auto [off, len] = ranges[i];
        bufs.emplace_back(len, random_skew(rng));
        is_read[i] = rng() % 2;
        if (!is_read[i]) {
            fill_random(rng, bufs.back().data(), len);
            std::memcpy(model.data() + off, bufs.back().data(), len);
        }
    }
    for (std::size_t i = 0; i < ranges.size(); ++i) {
        auto what = std::to_string(ranges[i].first) + "+" + std::to_string(ranges[i].second);
        if (is_read[i])
            dev.async_preadv(ranges[i].first, bufs[i].iov(), done.handler("read at " + what));
        else
            dev.async_pwritev(ranges[i].first, bufs[i].iov(), done.handler("write at " + what));
    }
    done.wait();
    for (std::size_t i = 0; i < ranges.size(); ++i) {
        if (!is_read[i])
            continue;
        auto [off, len] = ranges[i];
        auto m = std::mismatch(bufs[i].data(), bufs[i].data() + len, old.begin() + off);
        if (m.first != bufs[i].data() + len)
            fail("concurrent read at " + std::to_string(off) + "+" + std::to_string(len) +
                 ": wrong byte at offset " + std::to_string(off + (m.first - bufs[i].data())) +
                 ": expected " + std::to_string(*m.second) + ", got " + std::to_string(*m.first));
    }
    std::printf("  mixed reads: all match\n");
    check_device(dev, model, "mixed reads and writes");
}

// Round 3: overlapping writes, issued one after another within each range
// (the next from the previous one's completion), ranges concurrently.
struct chain {
    granule::device *dev;
    range area;
    std::vector<range> steps;
    std::vector<buffer> bufs;
    std::size_t next = 0;
    completion_counter *done;

    void issue()
    {
        auto [off, len] = steps[next];
        dev->async_pwritev(off, bufs[next].iov(),
                           [this, h = done->handler("chained write at " + std::to_string(off) +
                                                    "+" + std::to_string(len))](
                               std::exception_ptr e, granule::result<std::size_t> r) mutable {
                               bool ok = !e && r;
                               if (ok && ++next < steps.size())
                                   issue();
                               else
                                   for (auto left = steps.size() - next - (ok ? 0 : 1); left; --left)
                                       h(nullptr, 1);  // account for the writes never issued
                               h(e, std::move(r));
                           });
    }
};

void round_chains(granule::device &dev, std::vector<std::uint8_t> &model, std::mt19937_64 &rng,
                  std::size_t n_chains, std::size_t per_chain)
{
    auto areas = partition(rng, model.size(), n_chains);
    std::vector<chain> chains(areas.size());
    completion_counter done(areas.size() * per_chain);
    for (std::size_t c = 0; c < areas.size(); ++c) {
        auto &ch = chains[c];
        ch.dev = &dev;
        ch.area = areas[c];
        ch.done = &done;
        ch.bufs.reserve(per_chain);
        for (std::size_t k = 0; k < per_chain; ++k) {
            std::uint64_t off = ch.area.first + rng() % ch.area.second;
            std::uint64_t len = 1 + rng() % (ch.area.first + ch.area.second - off);
            ch.steps.push_back({off, len});
            ch.bufs.emplace_back(len, random_skew(rng));
            fill_random(rng, ch.bufs.back().data(), len);
            std::memcpy(model.data() + off, ch.bufs.back().data(), len);  // in issue order
        }
    }
    for (auto &ch : chains)
        ch.issue();
    done.wait();
    check_device(dev, model, "chained overlapping writes");
}

}  // namespace

namespace {

// The model and every round's buffers hold the whole area in memory, a few
// times over: a bigger device needs --size.
constexpr std::uint64_t max_spec_size = 256ull << 20;

int usage()
{
    std::fprintf(stderr, "usage: stress [--backend memory|raw-posix | --spec SPEC] [--seed N] "
                         "[--writes N] [--rounds N] [--size N]\n");
    return 2;
}

}  // namespace

int main(int argc, char **argv)
{
    std::string backend, spec;
    std::uint64_t seed = std::random_device{}();
    std::size_t writes = 2000;
    std::uint64_t size_arg = 0;
    int rounds = 3;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--seed" && i + 1 < argc)
            seed = std::strtoull(argv[++i], nullptr, 0);
        else if (a == "--writes" && i + 1 < argc)
            writes = std::strtoull(argv[++i], nullptr, 0);
        else if (a == "--rounds" && i + 1 < argc)
            rounds = std::atoi(argv[++i]);
        else if (a == "--backend" && i + 1 < argc)
            backend = argv[++i];
        else if (a == "--spec" && i + 1 < argc)
            spec = argv[++i];
        else if (a == "--size" && i + 1 < argc)
            size_arg = std::strtoull(argv[++i], nullptr, 0);
        else
            return usage();
    }
    if (!backend.empty() && !spec.empty()) {
        std::fprintf(stderr, "--backend and --spec exclude each other\n");
        return usage();
    }
    if (spec.empty() && size_arg) {
        std::fprintf(stderr, "--size only applies to --spec\n");
        return usage();
    }
    if (writes < 10) {
        std::fprintf(stderr, "--writes must be at least 10\n");
        return usage();
    }
    if (spec.empty() && backend.empty())
        backend = "memory";

    // Small enough that neighbouring ranges keep sharing 4096-byte blocks.
    std::uint64_t size = std::max<std::uint64_t>(16 * block, writes * 1500 / block * block);
    const bool given_spec = !spec.empty();
    auto opened = stress::open_stack(backend, spec, size);
    auto &dev = *opened.dev;
    const auto lim = dev.get_limits();
    if (given_spec) {
        // A given spec: the device decides the size and the alignment.
        size = dev.length();
        if (size_arg) {
            if (size_arg > size)
                fail("--size " + std::to_string(size_arg) + " is past the end of the device (" +
                     std::to_string(size) + " bytes)");
            size = size_arg;
        }
        if (size > max_spec_size)
            fail("the device has " + std::to_string(size) + " bytes; stress keeps the whole area in "
                 "memory several times: use --size N (at most " + std::to_string(max_spec_size) + ")");
        if (size < writes * 64)
            fail("the area to test has " + std::to_string(size) + " bytes, too few for " +
                 std::to_string(writes) + " writes (at least 64 bytes each): use --writes");
        if (std::max(lim.request_alignment, lim.min_mem_alignment) < 2)
            fail("request_alignment and min_mem_alignment are 1: no write needs a read-modify-write, "
                 "so there is nothing to serialise (O_DIRECT: cache.direct=on; or blkdebug align=)");
    } else if (dev.length() != size) {
        fail("device length " + std::to_string(dev.length()) + ", expected " + std::to_string(size));
    }
    std::printf("stress: %s%s, seed %llu (rerun with --seed %llu), %zu writes over %llu bytes, "
                "request_alignment %llu, min_mem_alignment %llu\n",
                backend.empty() ? "spec " : "backend ", backend.empty() ? spec.c_str() : backend.c_str(),
                (unsigned long long)seed, (unsigned long long)seed, writes,
                (unsigned long long)size, (unsigned long long)lim.request_alignment,
                (unsigned long long)lim.min_mem_alignment);
    std::mt19937_64 rng(seed);

    // Known non-zero content, so an RMW that writes back stale bytes shows.
    std::vector<std::uint8_t> model(size);
    fill_random(rng, model.data(), size);
    if (auto r = dev.pwrite(0, model.data(), size); !r)
        fail("initial fill: " + r.error().message);

    for (int round = 1; round <= rounds; ++round) {
        std::printf(" round %d\n", round);
        dev.reset_stats();
        round_writes(dev, model, rng, writes);
        auto st = dev.get_stats();
        print_stats(st);
        // Proof that requests really overlapped in time on shared blocks.
        if (st.serialisation_waits == 0)
            fail("serialisation_waits is 0: the concurrent writes never waited for each other");
        if (st.rmw_cycles == 0 || st.failed_requests != 0)
            fail("expected RMW cycles and no failed requests");
        round_mixed(dev, model, rng, writes);
        round_chains(dev, model, rng, writes / 10, 5);
        print_stats(dev.get_stats());
    }
    opened.close();  // closes the device, then removes the temp file
    std::printf("PASS\n");
    return 0;
}
