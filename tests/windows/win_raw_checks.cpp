// raw-win32 through the public API, where granule-io cannot reach:
//  - reopen toggling cache.direct and cache.writethrough (a new handle from
//    ReOpenFile, re-probed, attached to the same completion port), also
//    below blkdebug, where the new limits must reach the root;
//  - many requests in flight at once (the driver sets no queue depth): 256
//    async writes and reads, unaligned and aligned, vectored and not;
//  - the two request paths: iovec elements that are multiples of the
//    request alignment (one ReadFile/WriteFile per element) and uneven ones
//    (one bounce buffer);
//  - bad input: options, filenames, a directory, a missing file;
//  - ABI 1.1: each limit's source is raw-win32's (the probe's, "buffered"),
//    max_iov and max_transfer stay unlimited; request flags: FUA writes (no
//    GRANULE_NODE_FUA: the core flushes), write_zeroes with may_unmap and
//    no_fallback on a plain and on a sparse file.
// Runs under Wine and on Windows: it asserts what holds on both (the limits
// are powers of two, at least 512 with NO_BUFFERING), not Wine's numbers.
// Exit 0 pass, 1 fail (reasons on stderr).
#include <granule/device.hpp>

#include <boost/asio/use_future.hpp>

#include <windows.h>
#include <winioctl.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <random>
#include <string>
#include <vector>

namespace {

int failures = 0;

void check(bool ok, const std::string &what)
{
    std::fprintf(stderr, "  %s: %s\n", ok ? "ok" : "FAIL", what.c_str());
    if (!ok)
        ++failures;
}

bool pow2(std::uint64_t v) { return v && !(v & (v - 1)); }

bool starts_with(const std::string &s, const std::string &prefix) { return s.rfind(prefix, 0) == 0; }

std::vector<unsigned char> pattern(std::size_t n, unsigned seed)
{
    std::vector<unsigned char> v(n);
    std::mt19937 rng(seed);
    for (auto &b : v)
        b = static_cast<unsigned char>(rng());
    return v;
}

// Reads the file as the OS sees it, not through Granule.
std::vector<unsigned char> file_bytes(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// leaf: d is raw-win32 itself. Above a filter only values above 1 are sure
// to carry raw-win32's source: the core's inherit() keeps the parent's
// "default" when the child's value is the same (1).
void limits_after(granule::device &d, const char *when, bool direct, bool leaf = true)
{
    auto l = d.get_limits();
    std::string got = std::to_string(l.request_alignment) + "/" + std::to_string(l.min_mem_alignment);
    if (direct)
        check(l.request_alignment >= 512 && pow2(l.request_alignment) && pow2(l.min_mem_alignment),
              std::string(when) + ": limits " + got + " (NO_BUFFERING: a sector, >= 512)");
    else
        check(l.request_alignment == 1 && l.min_mem_alignment == 1,
              std::string(when) + ": limits " + got + " (buffered: 1/1)");
    // Sources come from refresh_limits, qualified by the host with the
    // driver's name: the probe's method with NO_BUFFERING, else "buffered".
    const auto &rs = l.source(granule::limit_id::request_alignment);
    const auto &ms = l.source(granule::limit_id::min_mem_alignment);
    std::string sources = "sources '" + rs + "' / '" + ms + "'";
    if (!leaf)
        check((l.request_alignment == 1 || starts_with(rs, "raw-win32: ")) &&
                  (l.min_mem_alignment == 1 || starts_with(ms, "raw-win32: ")),
              std::string(when) + ": " + sources + " (raw-win32's for values above 1)");
    else if (direct)
        check(starts_with(rs, "raw-win32: ") && starts_with(ms, "raw-win32: ") &&
                  rs != "raw-win32: buffered" && ms != "raw-win32: buffered",
              std::string(when) + ": " + sources + " (the probe's)");
    else
        check(rs == "raw-win32: buffered" && ms == "raw-win32: buffered",
              std::string(when) + ": " + sources + " (raw-win32: buffered)");
    check(l.max_iov == 0 && l.max_transfer == 0,
          std::string(when) + ": max_iov " + std::to_string(l.max_iov) + ", max_transfer " +
              std::to_string(l.max_transfer) + " (unlimited: the driver splits and bounces)");
}

void reopen_checks(const std::string &file)
{
    std::fprintf(stderr, "reopen\n");
    auto d = granule::device::open("driver=raw-win32,filename=" + file);
    if (!d)
        return check(false, "open: " + d.error().message);
    limits_after(**d, "buffered", false);
    auto out = pattern(3001, 1), in = std::vector<unsigned char>(3001);
    for (auto [key, value] : {std::pair{"cache.direct", "on"}, std::pair{"cache.writethrough", "on"},
                              std::pair{"cache.direct", "off"}, std::pair{"cache.writethrough", "off"}}) {
        auto r = (*d)->reopen({{key, value}});
        check(bool(r), std::string("reopen ") + key + "=" + value + (r ? "" : ": " + r.error().message));
        out = pattern(3001, out[0] + 1u);
        check((*d)->pwrite(777, out.data(), out.size()) && (*d)->pread(777, in.data(), in.size()) &&
                  in == out,
              std::string("unaligned write/read 777+3001 after ") + key + "=" + value);
    }
    (void)(*d)->reopen({{"cache.direct", "on"}});
    limits_after(**d, "after reopen cache.direct=on", true);
    auto r = (*d)->reopen({{"filename", file + ".other"}});
    check(!r && r.error().message.find("cannot change on reopen") != std::string::npos,
          "reopen with another filename refused: " + (r ? "accepted" : r.error().message));
    d->reset();
    auto disk = file_bytes(file);
    check(disk.size() >= 3778 && std::equal(out.begin(), out.end(), disk.begin() + 777),
          "the file holds the last pattern at 777 (read outside Granule)");

    auto tree = granule::device::open("driver=blkdebug,image.driver=raw-win32,image.filename=" + file);
    if (!tree)
        return check(false, "open blkdebug: " + tree.error().message);
    limits_after(**tree, "blkdebug over raw-win32, buffered", false, false);
    r = (*tree)->reopen({{"image.cache.direct", "on"}});
    check(bool(r), "reopen image.cache.direct=on" + (r ? "" : ": " + r.error().message));
    limits_after(**tree, "blkdebug root after reopen image.cache.direct=on", true, false);
}

// 256 requests in flight through the completion port, then all read back.
void queue_depth_checks(const std::string &file, const char *extra)
{
    std::fprintf(stderr, "256 requests in flight (%s)\n", extra);
    auto d = granule::device::open(std::string("driver=raw-win32,filename=") + file + "," + extra);
    if (!d)
        return check(false, "open: " + d.error().message);
    auto &dev = **d;
    constexpr int n = 256;
    std::vector<std::vector<unsigned char>> data(n), back(n);
    std::vector<std::future<granule::result<std::size_t>>> writes, reads;
    for (int i = 0; i < n; ++i) {
        // Even i: aligned 4096 at 8192 * i; odd: unaligned, 3 uneven elements.
        std::uint64_t off = i % 2 ? 8192ull * i + 100 : 8192ull * i;
        data[i] = pattern(i % 2 ? 4000 : 4096, 1000u + i);
        std::vector<granule::io_buffer> iov;
        if (i % 2)
            iov = {{data[i].data(), 1000}, {data[i].data() + 1000, 7}, {data[i].data() + 1007, 2993}};
        else
            iov = {{data[i].data(), 512}, {data[i].data() + 512, 3584}};
        writes.push_back(dev.async_pwritev(off, iov, boost::asio::use_future));
    }
    int ok = 0;
    for (int i = 0; i < n; ++i) {
        auto r = writes[i].get();
        ok += r && *r == data[i].size() ? 1 : 0;
    }
    check(ok == n, std::to_string(ok) + "/" + std::to_string(n) + " async writes completed");
    for (int i = 0; i < n; ++i) {
        back[i].assign(data[i].size(), 0xee);
        std::uint64_t off = i % 2 ? 8192ull * i + 100 : 8192ull * i;
        reads.push_back(dev.async_preadv(off, {{back[i].data(), back[i].size()}}, boost::asio::use_future));
    }
    int same = 0;
    for (int i = 0; i < n; ++i) {
        auto r = reads[i].get();
        same += r && back[i] == data[i] ? 1 : 0;
    }
    check(same == n, std::to_string(same) + "/" + std::to_string(n) + " async reads returned what was written");
}

void bad_input_checks(const std::string &dir)
{
    std::fprintf(stderr, "bad input\n");
    struct bad {
        std::string spec;
        std::vector<std::string> parts;
    };
    const std::string file = dir + "/t.img";
    const std::vector<bad> cases = {
        {"driver=raw-win32,filename=" + file + ",aio=threads", {"option 'aio'", "'threads'", "(iocp)"}},
        {"driver=raw-win32,filename=" + file + ",cache.direct=maybe", {"cache.direct", "'maybe'"}},
        {"driver=raw-win32,filename=" + file + "\xff", {"not a valid UTF-8 name"}},
        {"driver=raw-win32,filename=" + dir + "/missing", {"cannot open '" + dir + "/missing'",
                                                           "No such file or directory (Windows error 2"}},
        {"driver=raw-win32,filename=" + dir, {"cannot open '" + dir + "'", "(Windows error "}},
        {"driver=raw-win32", {"missing required option 'filename'"}},
    };
    for (const auto &c : cases) {
        auto d = granule::device::open(c.spec);
        bool ok = !d;
        for (const auto &p : c.parts)
            ok = ok && d.error().message.find(p) != std::string::npos;
        check(ok, c.spec + " -> " + (d ? std::string("opened") : d.error().message));
    }
    auto ro = granule::device::open("driver=raw-win32,filename=" + file, {.read_only = true});
    if (!ro)
        return check(false, "read-only open: " + ro.error().message);
    char b = 0;
    auto w = (*ro)->pwrite(0, &b, 1);
    check(!w && w.error().code == EROFS, "write on a read-only open: EROFS");
    check(bool((*ro)->flush()), "flush on a read-only open succeeds (nothing to flush)");
}

// Request flags through raw-win32 (ABI 1.1). It declares no FUA, so a FUA
// write is a write and a flush; write_zeroes honours may_unmap and
// no_fallback: a plain file has no zeroing without a fallback, a sparse one
// has it with may_unmap where the filesystem has FSCTL_SET_ZERO_DATA (NTFS;
// not Wine: ENOTSUP there, the data stays).
void flag_checks(const std::string &file, const char *extra)
{
    std::fprintf(stderr, "request flags (%s)\n", extra);
    auto d = granule::device::open("driver=raw-win32,filename=" + file + "," + extra);
    if (!d)
        return check(false, "open: " + d.error().message);
    auto &dev = **d;
    using granule::request_flags;
    auto out = pattern(5000, 77), in = std::vector<unsigned char>(5000);
    auto w = dev.pwrite(10001, out.data(), out.size(), request_flags::fua);
    check(w && *w == out.size() && dev.pread(10001, in.data(), in.size()) && in == out,
          "FUA write of 5000 at 10001" + (w ? std::string() : ": " + w.error().message));
    auto z = dev.pwrite_zeroes(10001, 2000, request_flags::may_unmap);
    check(z && dev.pread(10001, in.data(), in.size()) &&
              std::all_of(in.begin(), in.begin() + 2000, [](unsigned char c) { return c == 0; }) &&
              std::equal(in.begin() + 2000, in.end(), out.begin() + 2000),
          "write_zeroes may_unmap 10001+2000 reads zeroes" + (z ? std::string() : ": " + z.error().message));
    for (auto f : {request_flags::no_fallback, request_flags::no_fallback | request_flags::may_unmap}) {
        z = dev.pwrite_zeroes(12288, 4096, f);
        check(!z && z.error().code == ENOTSUP && dev.pread(12001, in.data(), 3000) &&
                  std::equal(in.begin(), in.begin() + 3000, out.begin() + 2000),
              std::string("write_zeroes no_fallback") +
                  (f == request_flags::no_fallback ? "" : "|may_unmap") +
                  " on a plain file: ENOTSUP, data intact -> " +
                  (z ? std::string("succeeded") : z.error().message));
    }
}

// The same on a sparse copy: without may_unmap the range must stay
// allocated (zero buffers), with it FSCTL_SET_ZERO_DATA may deallocate.
void sparse_checks(const std::string &dir)
{
    std::fprintf(stderr, "sparse file\n");
    const std::string file = dir + "/sparse.img";
    auto data = pattern(65536, 99);
    {
        std::ofstream f(file, std::ios::binary);
        f.write(reinterpret_cast<const char *>(data.data()), static_cast<std::streamsize>(data.size()));
    }
    HANDLE h = CreateFileA(file.c_str(), GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_EXISTING, 0, nullptr);
    DWORD bytes = 0;
    bool set = h != INVALID_HANDLE_VALUE &&
               DeviceIoControl(h, FSCTL_SET_SPARSE, nullptr, 0, nullptr, 0, &bytes, nullptr);
    bool sparse = GetFileAttributesA(file.c_str()) & FILE_ATTRIBUTE_SPARSE_FILE;
    if (h != INVALID_HANDLE_VALUE)
        CloseHandle(h);
    std::fprintf(stderr, "  info: FSCTL_SET_SPARSE %s, the file is %s\n", set ? "succeeded" : "failed",
                 sparse ? "sparse" : "not sparse (the sparse path is not exercised)");
    auto d = granule::device::open("driver=raw-win32,filename=" + file);
    if (!d)
        return check(false, "open: " + d.error().message);
    auto &dev = **d;
    using granule::request_flags;
    std::vector<unsigned char> in(8192);
    auto zeroed = [&](std::uint64_t off) {
        return dev.pread(off, in.data(), in.size()) &&
               std::all_of(in.begin(), in.end(), [](unsigned char c) { return c == 0; });
    };
    auto z = dev.pwrite_zeroes(0, 8192);
    check(z && zeroed(0), "write_zeroes 0+8192 without flags reads zeroes" +
                              (z ? std::string() : ": " + z.error().message));
    z = dev.pwrite_zeroes(16384, 8192, request_flags::may_unmap);
    check(z && zeroed(16384), "write_zeroes may_unmap 16384+8192 reads zeroes" +
                                  (z ? std::string() : ": " + z.error().message));
    z = dev.pwrite_zeroes(32768, 8192, request_flags::may_unmap | request_flags::no_fallback);
    bool intact = dev.pread(32768, in.data(), in.size()) &&
                  std::equal(in.begin(), in.end(), data.begin() + 32768);
    check(z ? zeroed(32768) : z.error().code == ENOTSUP && intact,
          "write_zeroes may_unmap|no_fallback 32768+8192: zeroes, or ENOTSUP and intact -> " +
              (z ? std::string("succeeded") : z.error().message));
    z = dev.pwrite_zeroes(49152, 8192, request_flags::no_fallback);
    intact = dev.pread(49152, in.data(), in.size()) &&
             std::equal(in.begin(), in.end(), data.begin() + 49152);
    check(!z && z.error().code == ENOTSUP && intact,
          "write_zeroes no_fallback without may_unmap: ENOTSUP, data intact -> " +
              (z ? std::string("succeeded") : z.error().message));
}

}  // namespace

int main()
{
    auto dir = std::filesystem::temp_directory_path() / ("granule-win-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(dir);
    const std::string d = dir.string(), file = d + "/t.img";
    {
        std::ofstream f(file, std::ios::binary);
        auto init = pattern(8192 * 257 + 100, 7);  // written data, for the probe's trials
        f.write(reinterpret_cast<const char *>(init.data()), static_cast<std::streamsize>(init.size()));
    }
    reopen_checks(file);
    queue_depth_checks(file, "cache.direct=off");
    queue_depth_checks(file, "cache.direct=on");
    bad_input_checks(d);
    flag_checks(file, "cache.direct=off");
    flag_checks(file, "cache.writethrough=on");
    sparse_checks(d);
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    std::fprintf(stderr, failures ? "%d check(s) failed\n" : "all raw-win32 API checks passed\n", failures);
    return failures ? 1 : 0;
}
