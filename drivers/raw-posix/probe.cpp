// Puts the probing methods in order and chooses: for each value the first
// method that knows it, in the order statx, ioctl/sysfs, dioinfo, trial,
// fallback. The cheap kernel answers are always asked; trial I/O only for
// what they left open (or for everything, for granule-img probe).
#include "probe.hpp"
#include "probe_methods.hpp"

#include <granule/platform/aligned_buffer.hpp>

#include <algorithm>
#include <initializer_list>
#include <optional>

#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

namespace raw_posix {
namespace {

using std::uint64_t;

const char *const fallback_source = "fallback (undetectable)";

// Alignments are powers of two; should a source ever say otherwise, round up
// (larger is always safe) and say so.
probed pow2(probed p)
{
    if (p.value && !granule::platform::is_power_of_two(p.value)) {
        uint64_t v = 1;
        while (v < p.value)
            v *= 2;
        p.source += " (" + std::to_string(p.value) + " rounded up)";
        p.value = v;
    }
    return p;
}

struct candidate {
    uint64_t value;
    const char *source;
};

// The first candidate that knows.
std::optional<probed> first(std::initializer_list<candidate> list)
{
    for (const auto &c : list)
        if (c.value)
            return pow2({c.value, c.source});
    return std::nullopt;
}

// The reasons are in the report's method notes; the source stays short.
probed fallback(uint64_t at_least = 0)
{
    return {std::max(fallback_alignment(), at_least), fallback_source};
}

}  // namespace

std::uint64_t fallback_alignment()
{
    return std::max<uint64_t>(4096, granule::platform::page_size());
}

const method_answer *probe_report::find(const std::string &method) const
{
    for (const auto &m : methods)
        if (m.method == method)
            return &m;
    return nullptr;
}

probe_report probe_dio(int fd, const probe_options &opts)
{
    using namespace detail;
    probe_report r;
    struct stat st {};
    bool bdev = fstat(fd, &st) == 0 && S_ISBLK(st.st_mode);
    r.block = probe_block_limits(fd);
    if (bdev) {
        uint64_t size = 0;
        if (ioctl(fd, BLKGETSIZE64, &size) == 0)
            r.size = size;
        r.file_type = "block device";
    } else {
        r.size = static_cast<uint64_t>(std::max<off_t>(st.st_size, 0));
        r.file_type = "regular file on " + filesystem_name(fd);
    }

    method_answer sx = ask_statx(fd);
    method_answer io = ask_ioctl(r.block);
    method_answer sy = ask_sysfs(r.block);
    method_answer di = ask_dioinfo(fd, bdev);

    auto write_known = first({{sx.offset, "statx"}, {io.offset, "ioctl"}, {di.offset, "dioinfo"}});
    auto read_known = first({{sx.read_alignment(), "statx"}, {io.offset, "ioctl"},
                             {di.offset, "dioinfo"}});
    auto mem_known = first({{sx.memory, "statx"}, {sy.memory, "sysfs"}});

    // Trials for what the kernel did not say, and to verify dioinfo's d_mem.
    bool verify_dmem = !mem_known && di.memory;
    bool want_read = opts.every_method || !read_known || !mem_known;
    // A read-only block device accepts a read-write open, then fails writes.
    const bool writable = opts.writable && !r.block.read_only;
    bool want_write = writable && (opts.every_method || !write_known);
    method_answer tr{"trial-read", false, 0, 0, 0, 0, "not needed: the kernel answered"};
    method_answer tw{"trial-write", false, 0, 0, 0, 0,
                     writable            ? "not needed: the kernel answered"
                     : opts.writable     ? "not possible: read-only device (BLKROGET)"
                                         : "not possible: open read-only"};
    if (want_read || want_write) {
        r.written = find_written(fd, bdev, r.size);
        if (want_read)
            tr = trial_read(fd, r.written);
        if (want_write)
            tw = trial_write(fd, r.written);
    }
    r.methods = {sx, io, sy, di, tr, tw};

    // Reads.
    if (read_known)
        r.chosen.read_request = *read_known;
    else if (tr.read_offset)
        r.chosen.read_request = {tr.read_offset, "trial"};
    else if (tw.offset)  // writes never need less than reads
        r.chosen.read_request = {tw.offset, "trial (writes)"};
    else
        r.chosen.read_request = fallback(tr.at_least);

    // Writes (and so reads and writes of a read-write node).
    if (!writable && !write_known)
        r.chosen.request = r.chosen.read_request;
    else if (write_known)
        r.chosen.request = *write_known;
    else if (tw.offset)
        r.chosen.request = {tw.offset, "trial"};
    else  // a read trial says nothing about writes (XFS: reads 512, COW writes 4096)
        r.chosen.request =
            fallback(std::max({tw.at_least, tr.read_offset, tr.at_least}));
    // A read-write node issues both.
    if (r.chosen.read_request.value > r.chosen.request.value)
        r.chosen.request = r.chosen.read_request;

    // Memory: one rule for reads and writes (the queue's DMA alignment).
    uint64_t trial_mem = std::max(tr.memory, tw.memory);
    if (mem_known)
        r.chosen.memory = *mem_known;
    else if (trial_mem && verify_dmem)
        r.chosen.memory = {trial_mem, "trial (dioinfo said " + std::to_string(di.memory) + ")"};
    else if (trial_mem)
        r.chosen.memory = {trial_mem, "trial"};
    else if (di.memory)
        r.chosen.memory = pow2({di.memory, "dioinfo (unverified: no written data)"});
    else
        r.chosen.memory = fallback();
    return r;
}

}  // namespace raw_posix
