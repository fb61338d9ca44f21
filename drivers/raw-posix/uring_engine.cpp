#include "uring_engine.hpp"

#include <granule/platform/system_error.hpp>

#include <liburing.h>

#include <cerrno>
#include <cstddef>
#include <mutex>
#include <thread>
#include <vector>

#include <sys/eventfd.h>
#include <sys/uio.h>
#include <unistd.h>

namespace raw_posix {

using granule::sdk::completion;
using granule::sdk::driver_error;

// The host's iovec is passed to the kernel as is: no copy per request.
static_assert(sizeof(granule_iovec) == sizeof(iovec));
static_assert(offsetof(granule_iovec, base) == offsetof(iovec, iov_base));
static_assert(offsetof(granule_iovec, len) == offsetof(iovec, iov_len));

namespace {

enum class op_kind { read, write, flush };

struct op {
    op_kind kind;
    const iovec *iov;  // the host's, until a partial transfer forces a copy
    unsigned iovcnt;
    std::uint64_t offset;
    std::uint64_t length;
    std::uint64_t done = 0;
    bool fua = false;
    std::vector<iovec> rest;  // remaining iovec after a partial transfer
    completion finish;
};

constexpr std::uint64_t stop_token = 1;  // user_data of the wake-up NOP

}  // namespace

struct uring_engine::impl {
    int fd = -1;
    std::string name;
    io_uring ring{};
    unsigned entries = 0;
    std::mutex sq_mutex;
    std::thread reaper;
    int event_fd = -1;  // host-polled mode only
    bool deferred = false;
    bool queued = false;  // SQEs not yet handed to the kernel

    // Built only on failure: no string work on the hot path.
    void fail(op *o, int code, const std::string &why)
    {
        std::string what = o->kind == op_kind::flush ? "flush"
                           : o->kind == op_kind::read ? "read" : "write";
        if (o->kind != op_kind::flush)
            what += " of " + std::to_string(o->length) + " bytes at offset " +
                    std::to_string(o->offset);
        o->finish.fail(code, "raw-posix: " + what + " on '" + name + "': " + why);
        delete o;
    }

    void queue(op *o)
    {
        std::lock_guard lock(sq_mutex);
        io_uring_sqe *sqe = io_uring_get_sqe(&ring);
        if (!sqe) {
            // Without SQPOLL the kernel consumes the whole SQ on submit.
            io_uring_submit(&ring);
            sqe = io_uring_get_sqe(&ring);
        }
        if (!sqe)
            return fail(o, EAGAIN, "io_uring submission queue full");
        const iovec *iov = o->rest.empty() ? o->iov : o->rest.data();
        unsigned cnt = o->rest.empty() ? o->iovcnt : static_cast<unsigned>(o->rest.size());
        auto at = o->offset + o->done;
        switch (o->kind) {
        case op_kind::read:
            io_uring_prep_readv(sqe, fd, iov, cnt, at);
            break;
        case op_kind::write:
            io_uring_prep_writev(sqe, fd, iov, cnt, at);
            if (o->fua)
                sqe->rw_flags = RWF_DSYNC;
            break;
        case op_kind::flush:
            io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
            break;
        }
        io_uring_sqe_set_data(sqe, o);
        if (deferred) {
            queued = true;
            return;
        }
        int rc = io_uring_submit(&ring);
        if (rc < 0) {
            // The SQE stays queued only if the kernel did not take it; make
            // it a harmless NOP so nothing refers to o after we fail it.
            io_uring_prep_nop(sqe);
            io_uring_sqe_set_data64(sqe, 0);
            fail(o, -rc, "io_uring_submit: " + granule::platform::error_text(-rc));
        }
    }

    // Runs on the reaper thread: finish, or resubmit what a partial
    // transfer left over.
    void complete(op *o, int res)
    {
        if (res == -EINTR || res == -EAGAIN)
            return queue(o);
        if (res < 0)
            return fail(o, -res, granule::platform::error_text(-res));
        if (o->kind == op_kind::flush) {
            o->finish(0);
            delete o;
            return;
        }
        o->done += static_cast<std::uint64_t>(res);
        if (o->done >= o->length || res == 0) {
            if (res == 0 && o->kind == op_kind::write)
                return fail(o, EIO, "write made no progress");
            o->finish(static_cast<std::int64_t>(o->done));  // short read = end of file
            delete o;
            return;
        }
        // Partial transfer: continue after the bytes done.
        std::vector<iovec> rest;
        std::uint64_t skip = o->done;
        for (unsigned i = 0; i < o->iovcnt; ++i) {
            iovec e = o->iov[i];
            if (skip >= e.iov_len) {
                skip -= e.iov_len;
                continue;
            }
            e.iov_base = static_cast<char *>(e.iov_base) + skip;
            e.iov_len -= skip;
            skip = 0;
            rest.push_back(e);
        }
        o->rest = std::move(rest);
        queue(o);
    }

    // Hands queued SQEs to the kernel. A failure here cannot be pinned on
    // one request: each SQE then completes with its own error.
    void flush_queued()
    {
        std::lock_guard lock(sq_mutex);
        if (!queued)
            return;
        queued = false;
        io_uring_submit(&ring);
    }

    // Host-polled mode: everything the ring has, without blocking.
    void poll_ring()
    {
        for (;;) {
            io_uring_cqe *cqe = nullptr;
            if (io_uring_peek_cqe(&ring, &cqe) != 0 || !cqe)
                break;
            auto data = io_uring_cqe_get_data64(cqe);
            int res = cqe->res;
            io_uring_cqe_seen(&ring, cqe);
            if (data)
                complete(reinterpret_cast<op *>(data), res);
        }
        flush_queued();  // resubmitted partial transfers
    }

    void reap()
    {
        for (;;) {
            io_uring_cqe *cqe = nullptr;
            int rc = io_uring_wait_cqe(&ring, &cqe);
            if (rc == -EINTR)
                continue;
            if (rc < 0)
                return;  // the ring is broken; nothing sane is left to do
            auto data = io_uring_cqe_get_data64(cqe);
            int res = cqe->res;
            io_uring_cqe_seen(&ring, cqe);
            if (data == stop_token)
                return;
            if (data)
                complete(reinterpret_cast<op *>(data), res);
        }
    }
};

bool uring_engine::available(std::string *why)
{
    static const int probe = [] {
        io_uring ring;
        int rc = io_uring_queue_init(2, &ring, 0);
        if (rc == 0)
            io_uring_queue_exit(&ring);
        return rc;
    }();
    if (probe < 0 && why)
        *why = "io_uring_setup: " + granule::platform::error_text(-probe);
    return probe == 0;
}

uring_engine::uring_engine(int fd, unsigned entries, std::string name, bool host_polls,
                           bool deferred)
    : impl_(std::make_unique<impl>())
{
    impl_->fd = fd;
    impl_->name = std::move(name);
    int rc = io_uring_queue_init(entries, &impl_->ring, 0);
    if (rc < 0)
        throw driver_error(-rc, "io_uring_setup: " + granule::platform::error_text(-rc));
    impl_->entries = entries;
    if (host_polls) {
        impl_->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        rc = impl_->event_fd < 0 ? -errno : io_uring_register_eventfd(&impl_->ring, impl_->event_fd);
        if (rc == 0) {
            // Resubmissions come from poll(), which flushes them itself.
            impl_->deferred = deferred;
            return;
        }
        if (impl_->event_fd >= 0)
            ::close(impl_->event_fd);
        impl_->event_fd = -1;  // fall back to our own reaper thread
    }
    impl_->reaper = std::thread([this] { impl_->reap(); });
}

int uring_engine::poll_fd() const noexcept { return impl_->event_fd; }

// The host has read (reset) the eventfd before calling: one syscall fewer
// per completion batch.
void uring_engine::poll() noexcept { impl_->poll_ring(); }

void uring_engine::unplug() noexcept { impl_->flush_queued(); }

uring_engine::~uring_engine()
{
    if (impl_->event_fd >= 0) {
        io_uring_queue_exit(&impl_->ring);
        ::close(impl_->event_fd);
        return;
    }
    {
        std::lock_guard lock(impl_->sq_mutex);
        io_uring_sqe *sqe = io_uring_get_sqe(&impl_->ring);
        if (!sqe) {
            io_uring_submit(&impl_->ring);
            sqe = io_uring_get_sqe(&impl_->ring);
        }
        io_uring_prep_nop(sqe);
        io_uring_sqe_set_data64(sqe, stop_token);
        io_uring_submit(&impl_->ring);
    }
    impl_->reaper.join();
    io_uring_queue_exit(&impl_->ring);
}

unsigned uring_engine::entries() const { return impl_->entries; }

void uring_engine::submit(const granule_request &req, completion done)
{
    auto *o = new op{req.op == GRANULE_OP_READ ? op_kind::read : op_kind::write,
                     reinterpret_cast<const iovec *>(req.iov), req.iovcnt, req.offset, req.length};
    o->fua = (req.flags & GRANULE_REQ_FUA) != 0;
    o->finish = std::move(done);
    impl_->queue(o);
}

void uring_engine::flush(completion done)
{
    auto *o = new op{op_kind::flush, nullptr, 0, 0, 0};
    o->finish = std::move(done);
    impl_->queue(o);
}

}  // namespace raw_posix
