// Synchronous I/O commands: the command returns once the device answered.
#include "args.hpp"
#include "commands.hpp"
#include "data_request.hpp"
#include "format.hpp"
#include "shell.hpp"

#include <granule/options.hpp>

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

bool transfer(const invocation &inv, bool is_write, bool vectored)
{
    auto req = parse_data_request(inv, is_write, vectored);
    if (!req) {
        return false;
    }
    if (req->total == 0) {
        return report_empty(inv, *req);
    }
    shell &sh = inv.sh;
    granule::device *dev = sh.dev();
    std::string name(inv.cmd.name);

    if (req->zero) {
        std::chrono::nanoseconds elapsed{};
        auto r = sh.run_blocking(
            name, timed(elapsed, [&] { return dev->pwrite_zeroes(req->offset, req->total, req->flags); }));
        if (!r) {
            return inv.fail(name + " failed: " + error_text(r.error()));
        }
        bool ok = true;
        sh.out().write(completion_text(*req, nullptr, req->total, elapsed, sh.timing(), ok));
        return ok;
    }

    auto buffers = allocate_buffers(inv, *req);
    if (!buffers) {
        return false;
    }
    auto iov = buffers->iov();
    std::chrono::nanoseconds elapsed{};
    auto r = sh.run_blocking(name, timed(elapsed, [&] {
        return is_write ? dev->pwritev(req->offset, iov, req->flags) : dev->preadv(req->offset, iov);
    }));
    if (!r) {
        return inv.fail(name + " failed: " + error_text(r.error()));
    }
    bool ok = true;
    sh.out().write(completion_text(*req, &*buffers, *r, elapsed, sh.timing(), ok));
    return ok;
}

}  // namespace

bool cmd_read(const invocation &inv) { return transfer(inv, false, false); }
bool cmd_readv(const invocation &inv) { return transfer(inv, false, true); }
bool cmd_write(const invocation &inv) { return transfer(inv, true, false); }
bool cmd_writev(const invocation &inv) { return transfer(inv, true, true); }

bool cmd_discard(const invocation &inv)
{
    std::string name(inv.cmd.name);
    std::string error;
    auto args = parse_args(name, inv.args, "q", {}, error);
    if (!args) {
        inv.fail(error);
        return inv.usage();
    }
    if (args->positional.size() != 2) {
        return inv.usage();
    }
    auto offset = parse_number(name, "offset", args->positional[0], error);
    auto length = offset ? parse_length(name, args->positional[1], error) : std::nullopt;
    if (!offset || !length || !check_range(name, *offset, *length, error)) {
        return inv.fail(error);
    }
    shell &sh = inv.sh;
    std::chrono::nanoseconds elapsed{};
    auto r = sh.run_blocking(name,
                             timed(elapsed, [&] { return sh.dev()->pdiscard(*offset, *length); }));
    if (!r) {
        return inv.fail(name + " failed: " + error_text(r.error()));
    }
    if (!args->has('q')) {
        sh.out().write(report("discard", *offset, *length, *length, elapsed, sh.timing()));
    }
    return true;
}

bool cmd_flush(const invocation &inv)
{
    if (!inv.args.empty()) {
        return inv.usage();
    }
    auto r = inv.sh.run_blocking(inv.cmd.name, [&] { return inv.sh.dev()->flush(); });
    if (!r) {
        return inv.fail(std::string(inv.cmd.name) + " failed: " + error_text(r.error()));
    }
    return true;
}

bool cmd_length(const invocation &inv)
{
    if (!inv.args.empty()) {
        return inv.usage();
    }
    inv.sh.out().write(size_to_str(inv.sh.dev()->length()) + "\n");
    return true;
}

bool cmd_truncate(const invocation &inv)
{
    if (inv.args.size() != 1) {
        return inv.usage();
    }
    std::string name(inv.cmd.name);
    std::string error;
    // Length 0 is a valid size here, so parse_number, not parse_length.
    auto length = parse_number(name, "length", inv.args[0], error);
    if (!length || !check_range(name, 0, *length, error)) {
        return inv.fail(error);
    }
    auto r = inv.sh.run_blocking(name, [&] { return inv.sh.dev()->truncate(*length); });
    if (!r) {
        return inv.fail(name + " failed: " + error_text(r.error()));
    }
    return true;
}

// One line per run of answers of one kind: "N bytes data|zero at offset O".
// Data is what the backend holds (or cannot tell about); zero reads as
// zeroes without being stored: holes, and past the end.
bool cmd_map(const invocation &inv)
{
    if (inv.args.size() != 0 && inv.args.size() != 2) {
        return inv.usage();
    }
    std::string error;
    std::uint64_t offset = 0, length = inv.sh.dev()->length();
    if (inv.args.size() == 2) {
        auto o = parse_number("map", "offset", inv.args[0], error);
        auto l = o ? parse_length("map", inv.args[1], error) : std::nullopt;
        if (!o || !l || !check_range("map", *o, *l, error)) {
            return inv.fail(error);
        }
        offset = *o;
        length = *l;
    }
    std::uint64_t run_start = offset, pos = offset;
    bool run_zero = false;
    auto flush_run = [&](std::uint64_t end) {
        if (end > run_start) {
            inv.sh.out().write(std::to_string(end - run_start) + " bytes " +
                               (run_zero ? "zero" : "data") + " at offset " +
                               std::to_string(run_start) + "\n");
        }
    };
    while (pos < offset + length) {
        auto r = inv.sh.run_blocking("map", [&] {
            return inv.sh.dev()->block_status(pos, offset + length - pos);
        });
        if (!r) {
            flush_run(pos);
            return inv.fail("map failed: " + error_text(r.error()));
        }
        if (pos == run_start) {
            run_zero = r->zero;
        } else if (r->zero != run_zero) {
            flush_run(pos);
            run_start = pos;
            run_zero = r->zero;
        }
        pos += r->bytes;
    }
    flush_run(pos);
    return true;
}

// qemu-io's `reopen -o options`: the keys are relative to the device's root
// (image.cache.direct=on reaches a child), throttle.* are the core's.
bool cmd_reopen(const invocation &inv)
{
    std::string error;
    auto args = parse_args(inv.cmd.name, inv.args, "o:", {}, error);
    if (!args) {
        inv.fail(error);
        return inv.usage();
    }
    const std::string *dotted = args->value('o');
    if (!dotted || !args->positional.empty()) {
        return inv.usage();
    }
    auto changes = granule::parse_options(*dotted);
    if (!changes) {
        return inv.fail("reopen: " + error_text(changes.error()));
    }
    auto r = inv.sh.run_blocking("reopen", [&] { return inv.sh.dev()->reopen(*changes); });
    if (!r) {
        return inv.fail("reopen failed: " + error_text(r.error()));
    }
    return true;
}

}  // namespace granule_io
