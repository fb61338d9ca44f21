// reopen_check TARGET REQUEST MEMORY: opens TARGET with raw-posix buffered
// and expects limits 1/1; reopens with cache.direct=on and expects REQUEST /
// MEMORY (the re-probe must reach the device's limits); writes and reads back
// an unaligned range through O_DIRECT; reopens with cache.direct=off and
// expects 1/1 again. Then the same below blkdebug: reopening
// image.cache.direct must refresh the limits up to the root.
// Exit 0 pass, 1 fail (the reason on stderr).
#include <granule/device.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

int failures = 0;

void expect(const char *what, std::uint64_t actual, std::uint64_t expected)
{
    std::fprintf(stderr, "  %s: %llu (expected %llu)%s\n", what,
                 static_cast<unsigned long long>(actual), static_cast<unsigned long long>(expected),
                 actual == expected ? "" : "  FAIL");
    if (actual != expected)
        ++failures;
}

void expect_limits(const granule::device &d, const char *when, std::uint64_t req,
                   std::uint64_t mem)
{
    auto l = d.get_limits();
    std::fprintf(stderr, " %s\n", when);
    expect("request_alignment", l.request_alignment, req);
    expect("min_mem_alignment", l.min_mem_alignment, mem);
}

[[noreturn]] void die(const std::string &what, const granule::error &e)
{
    std::fprintf(stderr, "FAIL: %s: %s\n", what.c_str(), e.message.c_str());
    std::exit(1);
}

}  // namespace

int main(int argc, char **argv)
{
    if (argc != 4) {
        std::fprintf(stderr, "usage: reopen_check TARGET REQUEST MEMORY\n");
        return 2;
    }
    std::string target = argv[1];
    std::uint64_t req = std::strtoull(argv[2], nullptr, 0);
    std::uint64_t mem = std::strtoull(argv[3], nullptr, 0);
    auto opened = granule::device::open(
        granule::options{{"driver", "raw-posix"}, {"filename", target}, {"cache.direct", "off"}});
    if (!opened)
        die("open " + target, opened.error());
    auto &d = **opened;
    expect_limits(d, "cache.direct=off", 1, 1);

    if (auto r = d.reopen({{"cache.direct", "on"}}); !r)
        die("reopen cache.direct=on", r.error());
    expect_limits(d, "after reopen cache.direct=on", req, mem);

    // An unaligned write and read through the re-probed O_DIRECT limits.
    std::vector<unsigned char> out(3001), in(3001);
    for (std::size_t i = 0; i < out.size(); ++i)
        out[i] = static_cast<unsigned char>(i * 7 + 3);
    if (auto r = d.pwrite(777, out.data(), out.size()); !r)
        die("pwrite 777+3001 with O_DIRECT", r.error());
    if (auto r = d.pread(777, in.data(), in.size()); !r)
        die("pread 777+3001 with O_DIRECT", r.error());
    expect("bytes equal after O_DIRECT write/read", in == out, 1);

    if (auto r = d.reopen({{"cache.direct", "off"}}); !r)
        die("reopen cache.direct=off", r.error());
    expect_limits(d, "after reopen cache.direct=off", 1, 1);
    if (auto r = d.pread(777, in.data(), in.size()); !r)
        die("pread 777+3001 buffered", r.error());
    expect("bytes equal read back buffered", in == out, 1);

    // Below a filter: the reopen reaches the child, whose new limits must
    // propagate up to the root.
    auto tree = granule::device::open(granule::options{{"driver", "blkdebug"},
                                                       {"image.driver", "raw-posix"},
                                                       {"image.filename", target},
                                                       {"image.cache.direct", "off"}});
    if (!tree)
        die("open blkdebug over " + target, tree.error());
    expect_limits(**tree, "blkdebug over raw-posix, cache.direct=off", 1, 1);
    if (auto r = (*tree)->reopen({{"image.cache.direct", "on"}}); !r)
        die("reopen image.cache.direct=on", r.error());
    expect_limits(**tree, "blkdebug root after reopen image.cache.direct=on", req, mem);
    if (auto r = (*tree)->pread(777, in.data(), in.size()); !r)
        die("pread 777+3001 through blkdebug with O_DIRECT", r.error());
    expect("bytes equal through blkdebug", in == out, 1);
    return failures ? 1 : 0;
}
