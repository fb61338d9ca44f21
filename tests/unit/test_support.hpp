// Shared helpers for the Qt unit tests: the alignment matrix, the skip rule
// and byte patterns.
#pragma once

#include <QtTest/QtTest>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <thread>
#include <set>
#include <string>
#include <vector>

namespace granule_test {

// The request alignments every data-driven test runs over.
inline const std::vector<std::uint64_t> &alignments()
{
    static const std::vector<std::uint64_t> a{1, 512, 4096, 65536};
    return a;
}

// Offsets or lengths at and around block edges for alignment a, deduplicated
// and sorted (a = 1 collapses most of them). Values < min are dropped.
inline std::vector<std::uint64_t> edge_values(std::uint64_t a, std::uint64_t min = 0)
{
    std::set<std::uint64_t> s{0, 1, a - 1, a, a + 1, 2 * a - 1, 2 * a, 2 * a + 1, 3 * a + 7};
    std::vector<std::uint64_t> out;
    for (auto v : s)
        if (v >= min)
            out.push_back(v);
    return out;
}

// CI provides every component: there a missing one must fail, not skip
// (tests/CMakeLists.txt: GRANULE_NO_SKIP=1).
inline bool skips_allowed() { return std::getenv("GRANULE_NO_SKIP") == nullptr ||
                                     std::string(std::getenv("GRANULE_NO_SKIP")) != "1"; }

// Byte i of a pattern that differs per write (seed) and never repeats with a
// short period, so a misplaced block is caught.
inline std::uint8_t pattern_byte(std::uint64_t seed, std::uint64_t i)
{
    std::uint64_t x = (i + 1) * 0x9E3779B97F4A7C15ull ^ (seed * 0xBF58476D1CE4E5B9ull);
    x ^= x >> 29;
    return static_cast<std::uint8_t>(x ^ (x >> 8) ^ 0x5a);
}

// Polls cond for up to 5 s (a request reaching a breakpoint on a device's
// thread, say); whether it became true.
template <class F>
bool eventually(F cond)
{
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!cond()) {
        if (std::chrono::steady_clock::now() > until)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

}  // namespace granule_test

// QSKIP, or QFAIL when skips are not allowed (CI has every component).
#define GRANULE_SKIP(reason)                                                                       \
    do {                                                                                           \
        if (granule_test::skips_allowed())                                                         \
            QSKIP(qPrintable(QString(reason)));                                                    \
        QFAIL(qPrintable(QString("component missing (GRANULE_NO_SKIP=1): ") + QString(reason)));   \
    } while (0)
