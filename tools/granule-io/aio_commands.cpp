// aio_read / aio_write start a request and return at once; the request's
// lines are printed by its completion, so scripts can interleave requests
// (with blkdebug breakpoints) the way qemu-iotests 077 does.
#include "commands.hpp"
#include "data_request.hpp"
#include "format.hpp"
#include "shell.hpp"

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

std::string failure_line(const aio_request &a, std::exception_ptr ep,
                         const granule::result<std::size_t> *r)
{
    std::string why;
    if (ep) {
        try {
            std::rethrow_exception(ep);
        } catch (const std::bad_alloc &) {
            why = "out of memory";
        } catch (const std::exception &e) {
            why = e.what();
        } catch (...) {
            why = "unknown exception";
        }
    } else {
        why = error_text(r->error());
    }
    return a.name + " failed: " + why + "\n";
}

// Runs on the device's executor (or the -z worker). Nothing here may block
// on the device. The caller ends the request's tracking afterwards.
void complete(aio_request &a, std::exception_ptr ep, const granule::result<std::size_t> &r)
{
    auto elapsed = clock_type::now() - a.start;
    shell &sh = *a.sh;
    try {
        bool ok = false;
        if (ep || !r) {
            sh.out().write(failure_line(a, ep, &r));
        } else {
            sh.out().write(completion_text(a.req, a.buffers ? &*a.buffers : nullptr, *r, elapsed,
                                           sh.timing(), ok));
        }
        if (!ok) {
            sh.mark_failed();
        }
    } catch (...) {
        // Printing failed (out of memory): the run must still fail and the
        // request must still be counted out, or aio_flush would wait forever.
        sh.mark_failed();
    }
}

bool start(const invocation &inv, bool is_write)
{
    auto req = parse_data_request(inv, is_write, true);
    if (!req) {
        return false;
    }
    if (req->total == 0) {
        return report_empty(inv, *req);
    }
    shell &sh = inv.sh;
    granule::device *dev = sh.dev();
    auto a = std::make_shared<aio_request>(aio_request{&sh, std::string(inv.cmd.name),
                                                       std::move(*req), std::nullopt, {}});

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
    if (!inv.args.empty()) {
        return inv.usage();
    }
    std::string name(inv.cmd.name);
    if (!inv.sh.wait_aio(name)) {
        return false;
    }
    auto r = inv.sh.run_blocking(name, [&] { return inv.sh.dev()->flush(); });
    if (!r) {
        return inv.fail(name + " failed: " + error_text(r.error()));
    }
    return true;
}

}  // namespace granule_io
