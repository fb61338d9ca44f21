// aio_read / aio_write start a request and return at once; the request's
// lines are printed by its completion, so scripts can interleave requests
// (with blkdebug breakpoints) the way qemu-iotests 077 does.
#include "args.hpp"
#include "commands.hpp"
#include "data_request.hpp"
#include "format.hpp"
#include "shell.hpp"

#include <cerrno>
#include <exception>
#include <memory>
#include <new>

namespace granule_io {

namespace {

using clock_type = std::chrono::steady_clock;

// Everything a completion needs; it owns the buffers, which must outlive
// the request.
struct aio_request {
    shell *sh;
    std::string name;
    data_request req;
    std::optional<buffer_list> buffers;
    clock_type::time_point start;
};

// Runs on the device's executor (or the -z worker). Nothing here may block
// on the device. The caller ends the request's tracking afterwards. As in
// qemu-io, the command succeeded when the request started: what happens to
// it later is printed, and does not change the exit status.
void complete(aio_request &a, std::exception_ptr ep, const granule::result<std::size_t> &r)
{
    auto elapsed = clock_type::now() - a.start;
    shell &sh = *a.sh;
    try {
        if (ep) {
            std::string why;
            try {
                std::rethrow_exception(ep);
            } catch (const std::bad_alloc &) {
                why = "out of memory";
            } catch (const std::exception &e) {
                why = e.what();
            } catch (...) {
                why = "unknown exception";
            }
            sh.report_failure(a.req.report_name + " failed: ", granule::error{EIO, why});
        } else if (!r) {
            sh.report_failure(a.req.report_name + " failed: ", r.error());
        } else {
            bool ok = false;
            sh.out().write(completion_text(a.req, a.buffers ? &*a.buffers : nullptr, *r, elapsed,
                                           sh.timing(), ok));
        }
    } catch (...) {
        // Printing failed (out of memory): the request must still be counted
        // out, or aio_flush would wait forever.
    }
}

bool start(const invocation &inv, bool is_write)
{
    auto parsed = parse_data_request(inv, is_write ? data_command::aio_write : data_command::aio_read);
    if (!parsed.req) {
        return parsed.invalid;
    }
    if (parsed.req->total == 0) {
        return report_empty(inv, *parsed.req);
    }
    shell &sh = inv.sh;
    granule::device *dev = sh.dev();
    std::string error;
    if (!check_range(parsed.req->report_name, parsed.req->offset, parsed.req->total, error)) {
        return inv.io_failed(parsed.req->report_name, granule::error{EIO, error});
    }
    auto a = std::make_shared<aio_request>(aio_request{&sh, std::string(inv.cmd.name),
                                                       std::move(*parsed.req), std::nullopt, {}});

    if (a->req.zero) {
        // The device has no async zeroing, so a worker thread makes the
        // blocking call concurrent with the commands that follow.
        a->start = clock_type::now();
        sh.aio().spawn([a, dev] {
            try {
                auto r = dev->pwrite_zeroes(a->req.offset, a->req.total, a->req.flags);
                complete(*a, nullptr, r ? granule::result<std::size_t>(a->req.total)
                                        : granule::result<std::size_t>(r.error()));
            } catch (...) {
                complete(*a, std::current_exception(), granule::result<std::size_t>(0));
            }
        });
        return true;
    }

    a->buffers = allocate_buffers(inv, a->req);
    if (!a->buffers) {
        return false;
    }
    auto iov = a->buffers->iov();
    auto handler = [a](std::exception_ptr ep, granule::result<std::size_t> r) {
        complete(*a, ep, r);
        a->sh->aio().end();
    };
    sh.aio().begin();
    a->start = clock_type::now();
    try {
        if (is_write) {
            dev->async_pwritev(a->req.offset, std::move(iov), a->req.flags, std::move(handler));
        } else {
            dev->async_preadv(a->req.offset, std::move(iov), std::move(handler));
        }
    } catch (...) {
        // Not started, so no completion will count it out.
        sh.aio().end();
        throw;
    }
    return true;
}

}  // namespace

bool cmd_aio_read(const invocation &inv) { return start(inv, false); }
bool cmd_aio_write(const invocation &inv) { return start(inv, true); }

bool cmd_aio_flush(const invocation &inv)
{
    std::string name(inv.cmd.name);
    if (!inv.sh.wait_aio(name)) {
        return false;
    }
    auto r = inv.sh.run_blocking(name, [&] { return inv.sh.dev()->flush(); });
    if (!r) {
        return inv.io_failed(name, r.error());
    }
    return true;
}

}  // namespace granule_io
