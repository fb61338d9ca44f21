#include "event_loop.hpp"

#include <granule/platform/system_error.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

namespace granule_nbd {

using granule::sdk::completion;
using granule::sdk::copy_iov;
using granule::sdk::fail;
using clock = std::chrono::steady_clock;
using std::uint64_t;

namespace {

enum class op_kind { read, write, flush, trim, zero, block_status };

const char *kind_name(op_kind k)
{
    switch (k) {
    case op_kind::read: return "read";
    case op_kind::write: return "write";
    case op_kind::flush: return "flush";
    case op_kind::trim: return "discard (NBD_CMD_TRIM)";
    case op_kind::zero: return "write_zeroes (NBD_CMD_WRITE_ZEROES)";
    case op_kind::block_status: return "block_status (NBD_CMD_BLOCK_STATUS)";
    }
    return "?";
}

// How long a polite NBD_CMD_DISC may take at close.
constexpr std::chrono::milliseconds disconnect_wait{1000};

}  // namespace

struct event_loop::op {
    op(op_kind k, completion d, uint64_t off = 0, uint64_t len = 0)
        : kind(k), offset(off), length(len), next(off), left(len), done(std::move(d))
    {
    }
    op_kind kind;
    uint64_t offset;  // the request, for messages
    uint64_t length;
    uint64_t next;    // trim / zero: the next piece to send
    uint64_t left;
    uint64_t chunk = 0;       // trim / zero: the piece in flight
    uint32_t nbd_flags = 0;
    uint64_t transfer = 0;    // read / write: bytes sent to the server
    std::byte *buf = nullptr;  // read / write: the host's buffer, or bounce
    std::unique_ptr<std::byte[]> bounce;
    std::vector<granule_iovec> iov;  // read into bounce: where the bytes go
    granule_block_status *out = nullptr;
    bool got_extent = false;
    uint64_t extent_length = 0;
    uint32_t extent_flags = 0;
    int error = 0;          // from libnbd's completion callback
    bool reported = false;  // the completion callback ran
    clock::time_point deadline = clock::time_point::max();
    event_loop *loop = nullptr;
    completion done;
};

event_loop::event_loop(handle_ptr handle, const server_config &cfg, std::string server,
                       bool batch_submits, bool host_polls)
    : cfg_(cfg), server_(std::move(server)), handle_(std::move(handle)),
      batch_submits_(batch_submits), host_polls_(host_polls)
{
    efd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (efd_ < 0) {
        int e = errno;
        fail(e, "eventfd: " + granule::platform::error_text(e));
    }
    if (host_polls_) {
        cfd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (cfd_ < 0) {
            int e = errno;
            ::close(efd_);
            fail(e, "eventfd: " + granule::platform::error_text(e));
        }
    }
    state_ = "connected";
    thread_ = std::thread([this] { run(); });
}

event_loop::~event_loop()
{
    stop_ = true;
    wake();
    thread_.join();
    // From here on nobody polls: what is finished now is completed here.
    loop_done_ = true;
    poll();
    // Close the handle while the lists its callbacks write to still exist.
    // Nothing is in flight at close (the ABI); were something left, it
    // still gets an answer rather than a dangling completion.
    handle_.reset();
    reap();
    fail_all_queued(ECANCELED, "the node is closing");
    for (op *o : std::exchange(in_flight_, {}))
        finish(o, -ECANCELED, describe(o) + " failed: the node closed with it in flight");
    ::close(efd_);
    if (cfd_ >= 0)
        ::close(cfd_);
}

std::string event_loop::state() const
{
    std::lock_guard lock(mutex_);
    return state_ + ", peak in flight " + std::to_string(peak_in_flight_.load()) + "/" +
           std::to_string(cfg_.queue_depth);
}

void event_loop::wake() noexcept
{
    std::uint64_t one = 1;
    [[maybe_unused]] auto r = ::write(efd_, &one, sizeof one);
}

void event_loop::post(op *raw, bool wake_now)
{
    std::unique_ptr<op> o(raw);  // if push_back throws, ~completion answers -EIO
    o->loop = this;
    {
        std::lock_guard lock(mutex_);
        posted_.push_back(o.get());
    }
    o.release();
    if (wake_now)
        wake();
    else
        plugged_ = true;
}

// One wake-up of the loop per burst instead of one per request: the host
// calls this once the device thread's queued handlers (the burst's
// submits) have run.
void event_loop::unplug() noexcept
{
    if (std::exchange(plugged_, false))
        wake();
}

void event_loop::read_write(const granule_request &req, uint64_t length_to_read,
                            uint32_t nbd_flags, completion done)
{
    const bool read = req.op == GRANULE_OP_READ;
    auto o = std::make_unique<op>(read ? op_kind::read : op_kind::write, std::move(done),
                                  req.offset, req.length);
    o->nbd_flags = nbd_flags;
    o->transfer = read ? length_to_read : req.length;
    if (req.iovcnt == 1) {
        o->buf = static_cast<std::byte *>(req.iov[0].base);
    } else {
        // libnbd takes one buffer per command.
        o->bounce.reset(new std::byte[o->transfer]);
        o->buf = o->bounce.get();
        if (read)
            o->iov.assign(req.iov, req.iov + req.iovcnt);
        else
            copy_iov(req.iov, req.iovcnt, o->buf, o->transfer, true);
    }
    // Reads and writes reach a driver only through submit, which the host
    // follows with unplug(); the other kinds wake the loop at once (a filter
    // may call them from a continuation no unplug follows).
    post(o.release(), !batch_submits_);
}

void event_loop::flush(completion done) { post(new op(op_kind::flush, std::move(done))); }

void event_loop::trim(uint64_t offset, uint64_t length, completion done)
{
    post(new op(op_kind::trim, std::move(done), offset, length));
}

void event_loop::zero(uint64_t offset, uint64_t length, uint32_t nbd_flags, completion done)
{
    auto *o = new op(op_kind::zero, std::move(done), offset, length);
    o->nbd_flags = nbd_flags;
    post(o);
}

void event_loop::block_status(uint64_t offset, uint64_t length, granule_block_status &out,
                              completion done)
{
    auto *o = new op(op_kind::block_status, std::move(done), offset, length);
    o->out = &out;
    post(o);
}

std::string event_loop::describe(const op *o) const
{
    std::string w = std::string("nbd: ") + kind_name(o->kind);
    if (o->kind != op_kind::flush)
        w += " of " + std::to_string(o->length) + " bytes at offset " + std::to_string(o->offset);
    return w + (o->kind == op_kind::read ? " from " : " to ") + server_;
}

void event_loop::finish(op *o, std::int64_t result, const std::string &message)
{
    completion done = std::move(o->done);
    delete o;
    if (!host_polls_ || loop_done_)
        return done(result, message.empty() ? nullptr : message.c_str());
    // One signal per batch: the host reads the eventfd, then calls poll(),
    // which takes everything finished by then.
    bool first;
    {
        std::lock_guard lock(finished_mutex_);
        first = finished_.empty();
        finished_.push_back({std::move(done), result, message});
    }
    if (first) {
        std::uint64_t one = 1;
        [[maybe_unused]] auto r = ::write(cfd_, &one, sizeof one);
    }
}

void event_loop::poll() noexcept
{
    std::vector<finished> got;
    {
        std::lock_guard lock(finished_mutex_);
        got.swap(finished_);
    }
    for (auto &f : got)
        f.done(f.result, f.message.empty() ? nullptr : f.message.c_str());
}

void event_loop::run()
{
    while (!stop_) {
        take_posted();
        issue();
        reap();
        wait_and_service();
        reap();
        check_timeouts();
    }
    // The host closes only without requests in flight; anything left is a bug
    // upstream, and still gets an answer.
    take_posted();
    fail_all_queued(ECANCELED, "the node is closing");
    disconnect_politely();
    reap();
}

void event_loop::take_posted()
{
    std::vector<op *> got;
    {
        std::lock_guard lock(mutex_);
        got.swap(posted_);
    }
    queue_.insert(queue_.end(), got.begin(), got.end());
}

void event_loop::fail_all_queued(int code, const std::string &why)
{
    while (!queue_.empty()) {
        op *o = queue_.front();
        queue_.pop_front();
        finish(o, -code, describe(o) + " not sent: " + why);
    }
}

void event_loop::issue()
{
    if (dead_)
        return fail_all_queued(dead_code_, dead_why_);
    while (!queue_.empty() && in_flight_.size() < cfg_.queue_depth && !dead_) {
        op *o = queue_.front();
        queue_.pop_front();
        start(o);
    }
}

// libnbd's callbacks run inside nbd_aio_* / nbd_aio_notify_* with the
// handle locked: record, never call libnbd or the host from here.
int event_loop::on_complete(void *self, int *error)
{
    auto *o = static_cast<op *>(self);
    o->error = error ? *error : 0;
    o->reported = true;
    o->loop->reported_.push_back(o);
    return 1;  // retire the command: nobody asks nbd_aio_command_completed
}

int event_loop::on_extent(void *self, const char *context, uint64_t, uint32_t *entries,
                          std::size_t n, int *)
{
    auto *o = static_cast<op *>(self);
    // A buggy server may send a context twice or one we did not ask for.
    if (o->got_extent || !context || std::strcmp(context, LIBNBD_CONTEXT_BASE_ALLOCATION) != 0 ||
        n < 2)
        return 0;
    o->got_extent = true;
    o->extent_length = entries[0];
    o->extent_flags = entries[1];
    return 0;
}

void event_loop::start(op *o)
{
    nbd_handle *h = handle_.get();
    // In the list before libnbd may call back (inline, in principle).
    in_flight_.push_back(o);
    const nbd_completion_callback cb{&event_loop::on_complete, o, nullptr};
    std::int64_t cookie = -1;
    switch (o->kind) {
    case op_kind::read:
        cookie = nbd_aio_pread(h, o->buf, o->transfer, o->offset, cb, 0);
        break;
    case op_kind::write:
        cookie = nbd_aio_pwrite(h, o->buf, o->transfer, o->offset, cb, o->nbd_flags);
        break;
    case op_kind::flush:
        cookie = nbd_aio_flush(h, cb, 0);
        break;
    case op_kind::trim:
        o->chunk = std::min(o->left, range_chunk);
        cookie = nbd_aio_trim(h, o->chunk, o->next, cb, 0);
        break;
    case op_kind::zero:
        o->chunk = std::min(o->left, range_chunk);
        cookie = nbd_aio_zero(h, o->chunk, o->next, cb, o->nbd_flags);
        break;
    case op_kind::block_status: {
        const nbd_extent_callback ecb{&event_loop::on_extent, o, nullptr};
        cookie = nbd_aio_block_status(h, o->length, o->offset, ecb, cb, LIBNBD_CMD_FLAG_REQ_ONE);
        break;
    }
    }
    if (cookie < 0) {
        // Refused before anything was sent: libnbd does not call back, but
        // if it did, the op must not be finished twice.
        const int e = last_errno();
        const std::string why = last_error();
        std::erase(in_flight_, o);
        std::erase(reported_, o);
        if (nbd_aio_is_dead(h) || nbd_aio_is_closed(h))
            connection_died(why);
        if (dead_)
            return finish(o, -dead_code_, describe(o) + " not sent: " + dead_why_);
        return finish(o, -e, describe(o) + " not sent: " + why);
    }
    o->deadline = cfg_.timeout_s ? clock::now() + std::chrono::seconds(cfg_.timeout_s)
                                 : clock::time_point::max();
    if (in_flight_.size() > peak_in_flight_)
        peak_in_flight_ = static_cast<unsigned>(in_flight_.size());
}

void event_loop::reap()
{
    while (!reported_.empty()) {
        std::vector<op *> got;
        got.swap(reported_);
        for (op *o : got) {
            std::erase(in_flight_, o);
            complete(o);
        }
    }
}

void event_loop::complete(op *o)
{
    if (o->error) {
        if (dead_)  // libnbd failed what was in flight when the connection died
            return finish(o, -dead_code_,
                          describe(o) + " failed: " + dead_why_ + " (" +
                              granule::platform::error_text(o->error) + ")");
        return finish(o, -o->error,
                      describe(o) + ": the server answered: " +
                          granule::platform::error_text(o->error));
    }
    switch (o->kind) {
    case op_kind::read:
        if (o->bounce)
            copy_iov(o->iov.data(), o->iov.size(), o->buf, o->transfer, false);
        return finish(o, static_cast<std::int64_t>(o->transfer));
    case op_kind::write:
        return finish(o, static_cast<std::int64_t>(o->length));
    case op_kind::flush:
        return finish(o, 0);
    case op_kind::trim:
    case op_kind::zero:
        o->next += o->chunk;
        o->left -= o->chunk;
        if (o->left) {  // the next piece goes before anything queued after it
            queue_.push_front(o);
            return;
        }
        return finish(o, 0);
    case op_kind::block_status:
        if (!o->got_extent) {
            // The server may omit a context it cannot answer for: then
            // nothing is known, and unknown is data.
            *o->out = granule_block_status{o->length, GRANULE_BLOCK_DATA, 0, {}};
            return finish(o, 0);
        }
        if (o->extent_length == 0)
            return finish(o, -EPROTO, describe(o) + ": the server answered an empty extent");
        *o->out = granule_block_status{std::min(o->extent_length, o->length),
                                       block_status_of(o->extent_flags), 0, {}};
        return finish(o, 0);
    }
}

void event_loop::wait_and_service()
{
    nbd_handle *h = handle_.get();
    int wait_ms = -1;
    if (!dead_ && !in_flight_.empty() && cfg_.timeout_s && timeout_why_.empty()) {
        auto first = std::min_element(in_flight_.begin(), in_flight_.end(),
                                      [](op *a, op *b) { return a->deadline < b->deadline; });
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>((*first)->deadline -
                                                                          clock::now());
        wait_ms = static_cast<int>(std::clamp<long long>(left.count() + 1, 0, 1000));
    }
    pollfd p[2] = {{efd_, POLLIN, 0}, {-1, 0, 0}};
    unsigned dir = 0;
    if (!dead_) {
        // Also while idle: a server that goes away is noticed (EOF) before
        // the next request has to find out.
        dir = nbd_aio_get_direction(h);
        int fd = nbd_aio_get_fd(h);
        if (fd >= 0 && dir) {
            p[1].fd = fd;
            if (dir & LIBNBD_AIO_DIRECTION_READ)
                p[1].events |= POLLIN;
            if (dir & LIBNBD_AIO_DIRECTION_WRITE)
                p[1].events |= POLLOUT;
        }
    }
    int n = ::poll(p, p[1].fd >= 0 ? 2 : 1, wait_ms);
    if (n <= 0)
        return;
    if (p[0].revents & POLLIN) {
        std::uint64_t drain;
        [[maybe_unused]] auto r = ::read(efd_, &drain, sizeof drain);
    }
    const short rev = p[1].fd >= 0 ? p[1].revents : 0;
    if (!rev)
        return;
    int r = 0;
    // Reading first: an answer may change what is to be written next.
    if ((dir & LIBNBD_AIO_DIRECTION_READ) && (rev & (POLLIN | POLLHUP | POLLERR)))
        r = nbd_aio_notify_read(h);
    else if ((dir & LIBNBD_AIO_DIRECTION_WRITE) && (rev & (POLLOUT | POLLHUP | POLLERR)))
        r = nbd_aio_notify_write(h);
    if (r < 0 || nbd_aio_is_dead(h) || nbd_aio_is_closed(h))
        connection_died(r < 0 ? last_error() : "the server closed the connection");
}

void event_loop::check_timeouts()
{
    if (dead_ || in_flight_.empty() || !cfg_.timeout_s || !timeout_why_.empty())
        return;
    const auto now = clock::now();
    for (op *o : in_flight_)
        if (o->deadline <= now) {
            timeout_why_ = "no answer within " + std::to_string(cfg_.timeout_s) +
                           " s (option 'timeout'); connection closed";
            // libnbd owns the socket: shutting it down (not closing it) makes
            // its next read see end of file, so it fails every command in
            // flight through their callbacks, as when the server dies.
            if (int fd = nbd_aio_get_fd(handle_.get()); fd >= 0)
                ::shutdown(fd, SHUT_RDWR);
            return;
        }
}

void event_loop::connection_died(std::string why)
{
    if (dead_)
        return;
    dead_ = true;
    if (!timeout_why_.empty()) {
        dead_code_ = ETIMEDOUT;
        dead_why_ = timeout_why_;
    } else {
        dead_code_ = EIO;
        dead_why_ = "connection to the server lost (" + why + ")";
    }
    std::lock_guard lock(mutex_);
    state_ = "disconnected (" + dead_why_ + "); every request fails";
}

void event_loop::disconnect_politely()
{
    nbd_handle *h = handle_.get();
    if (dead_ || !in_flight_.empty() || !nbd_aio_is_ready(h))
        return;
    if (nbd_aio_disconnect(h, 0) < 0)
        return;
    const auto deadline = clock::now() + disconnect_wait;
    while (!nbd_aio_is_closed(h) && !nbd_aio_is_dead(h) && clock::now() < deadline) {
        const unsigned dir = nbd_aio_get_direction(h);
        const int fd = nbd_aio_get_fd(h);
        if (fd < 0 || !dir)
            break;
        pollfd p{fd, 0, 0};
        if (dir & LIBNBD_AIO_DIRECTION_READ)
            p.events |= POLLIN;
        if (dir & LIBNBD_AIO_DIRECTION_WRITE)
            p.events |= POLLOUT;
        if (::poll(&p, 1, 100) <= 0)
            continue;
        int r = (dir & LIBNBD_AIO_DIRECTION_READ) && (p.revents & (POLLIN | POLLHUP | POLLERR))
                    ? nbd_aio_notify_read(h)
                    : nbd_aio_notify_write(h);
        if (r < 0)
            break;
    }
}

}  // namespace granule_nbd
