// Synchronous I/O commands: the command returns once the device answered.
#include "args.hpp"
#include "commands.hpp"
#include "data_request.hpp"
#include "format.hpp"
#include "shell.hpp"

#include <granule/options.hpp>

#include <cerrno>
#include <cinttypes>
#include <limits>

namespace granule_io {

namespace {

using clock_type = std::chrono::steady_clock;

// Wraps a device call so it times itself on the worker thread, keeping the
// thread's start-up out of the reported rate.
template <class F>
auto timed(std::chrono::nanoseconds &elapsed, F fn)
{
    return [&elapsed, fn] {
        auto start = clock_type::now();
        auto r = fn();
        elapsed = clock_type::now() - start;
        return r;
    };
}

// -b (VM state) and -c (compressed data) need an image format with a place
// for them; raw has none, so these fail as qemu's raw does.
granule::error no_place_for(const data_request &req)
{
    return granule::error{ENOTSUP, req.vmstate ? "there is no VM state area: Granule opens raw images"
                                               : "compressed writes need an image format: Granule "
                                                 "writes raw bytes"};
}

bool transfer(const invocation &inv, data_command kind)
{
    auto parsed = parse_data_request(inv, kind);
    if (!parsed.req) {
        return parsed.invalid;
    }
    data_request &req = *parsed.req;
    if (req.total == 0) {
        return report_empty(inv, req);
    }
    shell &sh = inv.sh;
    granule::device *dev = sh.dev();
    std::string error;
    if (!check_range(req.report_name, req.offset, req.total, error)) {
        return inv.io_failed(req.report_name, granule::error{EIO, error});
    }

    if (req.zero) {
        std::chrono::nanoseconds elapsed{};
        auto r = sh.run_blocking(
            req.report_name,
            timed(elapsed, [&] { return dev->pwrite_zeroes(req.offset, req.total, req.flags); }));
        if (!r) {
            return inv.io_failed(req.report_name, r.error());
        }
        bool ok = true;
        sh.out().write(completion_text(req, nullptr, req.total, elapsed, sh.timing(), ok));
        return ok;
    }

    auto buffers = allocate_buffers(inv, req);
    if (!buffers) {
        return false;
    }
    if (req.vmstate || req.compressed) {
        return inv.io_failed(req.report_name, no_place_for(req));
    }
    auto iov = buffers->iov();
    std::chrono::nanoseconds elapsed{};
    auto r = sh.run_blocking(req.report_name, timed(elapsed, [&] {
        return req.is_write ? dev->pwritev(req.offset, iov, req.flags) : dev->preadv(req.offset, iov);
    }));
    if (!r) {
        return inv.io_failed(req.report_name, r.error());
    }
    bool ok = true;
    sh.out().write(completion_text(req, &*buffers, *r, elapsed, sh.timing(), ok));
    return ok;
}

// "off len" of discard and map, with qemu-io's number lines on failure (the
// callers check the range: check_range).
std::optional<std::pair<std::uint64_t, std::uint64_t>> parse_range(const invocation &inv,
                                                                   const std::string &off,
                                                                   const std::string &len)
{
    std::string error;
    auto o = parse_number(inv.cmd.name, "offset", off, error);
    auto l = o ? parse_number(inv.cmd.name, "length", len, error) : std::nullopt;
    if (!o || !l) {
        inv.fail(error);
        return std::nullopt;
    }
    return std::pair{*o, *l};
}

}  // namespace

bool cmd_read(const invocation &inv) { return transfer(inv, data_command::read); }
bool cmd_readv(const invocation &inv) { return transfer(inv, data_command::readv); }
bool cmd_write(const invocation &inv) { return transfer(inv, data_command::write); }
bool cmd_writev(const invocation &inv) { return transfer(inv, data_command::writev); }

bool cmd_discard(const invocation &inv)
{
    std::string name(inv.cmd.name);
    std::string error;
    auto args = parse_args(name, inv.args, "Cq", {}, error);
    if (!args) {
        inv.fail_stderr(error);
        return inv.usage();
    }
    if (args->positional.size() != 2) {
        return inv.usage();
    }
    auto range = parse_range(inv, args->positional[0], args->positional[1]);
    if (!range) {
        return false;
    }
    auto [offset, length] = *range;
    if (length > max_buffer_bytes) {
        return inv.fail("length cannot exceed " + std::to_string(max_buffer_bytes) + ", given " +
                        args->positional[1]);
    }
    shell &sh = inv.sh;
    std::chrono::nanoseconds elapsed{};
    if (length > 0) {
        if (!check_range(name, offset, length, error)) {
            return inv.io_failed(name, granule::error{EIO, error});
        }
        auto r = sh.run_blocking(name,
                                 timed(elapsed, [&] { return sh.dev()->pdiscard(offset, length); }));
        if (!r) {
            return inv.io_failed(name, r.error());
        }
    }
    if (!args->has('q')) {
        sh.out().write(report("discard", offset, length, length, elapsed, sh.timing(), args->has('C')));
    }
    return true;
}

bool cmd_flush(const invocation &inv)
{
    auto r = inv.sh.run_blocking(inv.cmd.name, [&] { return inv.sh.dev()->flush(); });
    if (!r) {
        return inv.io_failed(inv.cmd.name, r.error());
    }
    return true;
}

bool cmd_length(const invocation &inv)
{
    inv.sh.out().write(cvtstr(static_cast<double>(inv.sh.dev()->length())) + "\n");
    return true;
}

// qemu-io's truncate [-m off|falloc|full|metadata] off. Granule has no
// preallocation of its own: falloc and full write zeroes over the new part
// (a driver that can allocates it), metadata has no meaning without a format.
bool cmd_truncate(const invocation &inv)
{
    std::string name(inv.cmd.name);
    std::string error;
    auto args = parse_args(name, inv.args, "m:", {}, error);
    if (!args) {
        inv.fail_stderr(error);
        return inv.usage();
    }
    if (args->positional.size() != 1) {
        return inv.usage();
    }
    std::string mode = args->has('m') ? *args->value('m') : "off";
    if (mode != "off" && mode != "falloc" && mode != "full" && mode != "metadata") {
        return inv.fail_stderr("granule-io: Invalid preallocation mode '" + mode + "'");
    }
    if (mode == "metadata") {
        return inv.fail_stderr("granule-io: Unsupported preallocation mode: metadata");
    }
    auto length = parse_number(name, "length", args->positional[0], error);
    if (!length) {
        return inv.fail(error);
    }
    granule::device &dev = *inv.sh.dev();
    const std::uint64_t old_length = dev.length();
    auto r = inv.sh.run_blocking(name, [&] { return dev.truncate(*length); });
    if (r && mode != "off" && *length > old_length) {
        r = inv.sh.run_blocking(name, [&] {
            return dev.pwrite_zeroes(old_length, *length - old_length);
        });
    }
    if (!r) {
        // qemu-io reports a failed truncate with error_report: the whole message.
        return inv.fail_stderr("granule-io: " + error_text(r.error()));
    }
    return true;
}

// qemu-io's "allocated": the device's own node holds the bytes (anything
// but an overlay's hole over its backing; a raw file is allocated through
// and through, holes included, as in qemu).
namespace {

granule::result<granule::block_extent> allocation(const invocation &inv, std::uint64_t offset,
                                                  std::uint64_t bytes)
{
    return inv.sh.run_blocking(inv.cmd.name,
                               [&] { return inv.sh.dev()->block_status(offset, bytes); });
}

}  // namespace

// alloc offset [count]: "<allocated>/<count> bytes allocated at offset <cvtstr>";
// count (default 512) stops at the device's end, as qemu-io's does.
bool cmd_alloc(const invocation &inv)
{
    std::string error;
    auto offset = parse_number(inv.cmd.name, "offset", inv.args[0], error);
    if (!offset) {
        return inv.fail(error);
    }
    std::uint64_t count = 512;
    if (inv.args.size() == 2) {
        auto c = parse_number(inv.cmd.name, "count", inv.args[1], error);
        if (!c) {
            return inv.fail(error);
        }
        count = *c;
    }
    const std::uint64_t len = inv.sh.dev()->length();
    count = *offset >= len ? 0 : std::min(count, len - *offset);
    std::uint64_t allocated = 0;
    for (std::uint64_t pos = *offset; pos < *offset + count;) {
        auto r = allocation(inv, pos, *offset + count - pos);
        if (!r) {
            inv.fail("is_allocated failed: " + granule::errno_text(r.error().code));
            return false;
        }
        if (r->allocated)
            allocated += r->bytes;
        pos += r->bytes;
    }
    inv.sh.out().write(std::to_string(allocated) + "/" + std::to_string(count) +
                       " bytes allocated at offset " + cvtstr(static_cast<double>(*offset)) +
                       "\n");
    return true;
}

// map [off len]: qemu-io's lines, one per run of allocated or not allocated
// bytes: "<size> (0x<hex>) bytes     allocated at offset <size> (0x<hex>)".
bool cmd_map(const invocation &inv)
{
    if (inv.args.size() == 1) {
        return inv.usage();
    }
    std::uint64_t offset = 0, length = inv.sh.dev()->length();
    if (inv.args.size() == 2) {
        auto range = parse_range(inv, inv.args[0], inv.args[1]);
        if (!range) {
            return false;
        }
        std::tie(offset, length) = *range;
        std::string error;
        if (!check_range("map", offset, length, error)) {
            return inv.fail(error);
        }
    }
    auto line = [&](std::uint64_t start, std::uint64_t bytes, bool allocated) {
        char text[200];
        std::snprintf(text, sizeof text, "%s (0x%" PRIx64 ") bytes %s at offset %s (0x%" PRIx64 ")\n",
                      cvtstr(static_cast<double>(bytes)).c_str(), bytes,
                      allocated ? "    allocated" : "not allocated",
                      cvtstr(static_cast<double>(start)).c_str(), start);
        inv.sh.out().write(text);
    };
    std::uint64_t run_start = offset, pos = offset;
    bool run_allocated = false;
    while (pos < offset + length) {
        auto r = allocation(inv, pos, offset + length - pos);
        if (!r) {
            if (pos > run_start)
                line(run_start, pos - run_start, run_allocated);
            return inv.fail_stderr("granule-io: Failed to get allocation status: " +
                                   granule::errno_text(r.error().code));
        }
        if (pos == run_start) {
            run_allocated = r->allocated;
        } else if (r->allocated != run_allocated) {
            line(run_start, pos - run_start, run_allocated);
            run_start = pos;
            run_allocated = r->allocated;
        }
        pos += r->bytes;
    }
    if (pos > run_start)
        line(run_start, pos - run_start, run_allocated);
    return true;
}

// qemu-io's reopen: -r / -w (read-only or read-write) and -c MODE reopen the
// device as it was opened with those changed; -o changes options of the open
// device (keys relative to its root: image.cache.direct=on reaches a child;
// throttle.* are the core's).
bool cmd_reopen(const invocation &inv)
{
    std::string error;
    auto args = parse_args(inv.cmd.name, inv.args, "c:o:rw", {}, error);
    if (!args) {
        inv.fail_stderr(error);
        return inv.usage();
    }
    if (!args->positional.empty()) {
        return inv.usage();
    }
    std::optional<bool> read_only;
    std::optional<std::string_view> cache;
    for (const auto &[letter, value] : args->options) {
        if (letter == 'r' || letter == 'w') {
            if (read_only)
                return inv.fail_stderr("granule-io: Only one -r/-w option may be given");
            read_only = letter == 'r';
        } else if (letter == 'c') {
            qemu_settings check;
            if (auto r = set_cache_mode(check, value); !r)
                return inv.fail_stderr("granule-io: " + r.error().message);
            cache = value;
        }
    }
    if (read_only || cache) {
        if (auto r = inv.sh.reopen_with(read_only, cache); !r)
            return inv.fail_stderr("granule-io: " + error_text(r.error()));
    }
    if (const std::string *dotted = args->value('o')) {
        auto changes = granule::parse_options(*dotted);
        if (!changes) {
            return inv.fail_stderr("granule-io: " + error_text(changes.error()));
        }
        auto r = inv.sh.run_blocking("reopen", [&] { return inv.sh.dev()->reopen(*changes); });
        if (!r) {
            return inv.fail_stderr("granule-io: " + error_text(r.error()));
        }
    }
    return true;
}

}  // namespace granule_io
