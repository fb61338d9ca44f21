#include "event_loop.hpp"

#include <granule/platform/system_error.hpp>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstddef>
#include <limits>

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace granule_iscsi {

using granule::sdk::completion;
using granule::sdk::describe_current_exception;
using granule::sdk::fail;
using clock = std::chrono::steady_clock;
using std::uint64_t;

// The host's iovec goes to libiscsi unchanged (copied array, same buffers).
static_assert(sizeof(granule_iovec) == sizeof(scsi_iovec));
static_assert(offsetof(granule_iovec, base) == offsetof(scsi_iovec, iov_base));
static_assert(offsetof(granule_iovec, len) == offsetof(scsi_iovec, iov_len));

namespace {

enum class op_kind { read, write, flush, unmap, write_same };
// How long the answer of a failed reconnect stands before the next request
// tries again: long enough for a burst of requests, short enough that a
// target that is back is used at once.
constexpr std::chrono::milliseconds reconnect_retry{1000};
constexpr int max_retries = 8;          // UNIT ATTENTION / BUSY / TASK SET FULL
constexpr uint64_t max_range_blocks = 0xFFFFFFFFu;  // 32-bit block count fields
// UNMAP ranges go in commands of at most this much, one after the other, so
// that each one finishes well within `timeout` on a slow target (WRITE SAME:
// write_same_blocks()).
constexpr uint64_t range_chunk_bytes = uint64_t{1} << 30;

const char *kind_name(op_kind k)
{
    switch (k) {
    case op_kind::read: return "read";
    case op_kind::write: return "write";
    case op_kind::flush: return "flush (SYNCHRONIZE CACHE(16))";
    case op_kind::unmap: return "discard (UNMAP)";
    case op_kind::write_same: return "write_zeroes (WRITE SAME(16))";
    }
    return "?";
}

}  // namespace

struct event_loop::op {
    op(op_kind k, completion d, uint64_t off = 0, uint64_t len = 0, uint32_t block_size = 1)
        : kind(k), offset(off), length(len), lba(off / block_size), blocks(len / block_size),
          done(std::move(d))
    {
    }
    op_kind kind;
    uint64_t offset;  // bytes, for messages
    uint64_t length;
    uint64_t lba;     // next block to send (ranged ops advance it)
    uint64_t blocks;  // blocks left (unmap / write_same)
    uint32_t chunk = 0;   // blocks of the task in flight
    bool fua = false;     // write: FUA bit; write_same: SYNCHRONIZE CACHE(16) after
    bool unmap = false;   // write_same: UNMAP bit
    bool syncing = false; // write_same with fua: every WRITE SAME done, syncing the range
    int retries = 0;
    std::vector<scsi_iovec> iov;
    unmap_list desc{};
    clock::time_point deadline = clock::time_point::max();
    event_loop *loop = nullptr;
    completion done;
};

namespace {

// What messages call the request, with the command in flight.
std::string op_name(const event_loop::op *o)
{
    if (o->kind == op_kind::write_same && o->syncing)
        return "write_zeroes (SYNCHRONIZE CACHE(16) after WRITE SAME(16), for FUA)";
    return kind_name(o->kind);
}

}  // namespace

event_loop::event_loop(std::unique_ptr<session> s, const lun_geometry &geometry)
    : cfg_(s->config()), geo_(geometry), zero_block_(geometry.block_size, 0), sess_(std::move(s))
{
    efd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (efd_ < 0) {
        int e = errno;
        fail(e, "eventfd: " + granule::platform::error_text(e));
    }
    state_ = "connected (reconnects: 0)";
    thread_ = std::thread([this] { run(); });
}

event_loop::~event_loop()
{
    stop_ = true;
    std::uint64_t one = 1;
    [[maybe_unused]] auto r = ::write(efd_, &one, sizeof one);
    thread_.join();
    ::close(efd_);
}

std::string event_loop::state() const
{
    std::lock_guard lock(mutex_);
    return state_ + ", peak in flight " + std::to_string(peak_in_flight_.load()) + "/" +
           std::to_string(cfg_.queue_depth);
}

void event_loop::set_state(std::string s)
{
    std::lock_guard lock(mutex_);
    state_ = std::move(s);
}

write_same_refusals event_loop::refusals() const
{
    std::lock_guard lock(mutex_);
    return refused_;
}

void event_loop::note_refusal(std::string write_same_refusals::*which, std::string why)
{
    std::lock_guard lock(mutex_);
    if ((refused_.*which).empty())
        refused_.*which = std::move(why);
}

void event_loop::post(op *raw)
{
    std::unique_ptr<op> o(raw);  // if push_back throws, ~completion answers -EIO
    o->loop = this;
    {
        std::lock_guard lock(mutex_);
        posted_.push_back(o.get());
    }
    o.release();
    std::uint64_t one = 1;
    [[maybe_unused]] auto r = ::write(efd_, &one, sizeof one);
}

void event_loop::read_write(const granule_request &req, completion done)
{
    auto *o = new op(req.op == GRANULE_OP_READ ? op_kind::read : op_kind::write, std::move(done),
                     req.offset, req.length, geo_.block_size);
    o->fua = (req.flags & GRANULE_REQ_FUA) != 0;
    o->iov.reserve(req.iovcnt);
    for (uint32_t i = 0; i < req.iovcnt; ++i)
        o->iov.push_back({req.iov[i].base, static_cast<std::size_t>(req.iov[i].len)});
    post(o);
}

void event_loop::flush(completion done)
{
    post(new op(op_kind::flush, std::move(done)));
}

void event_loop::discard(uint64_t offset, uint64_t length, completion done)
{
    if (unmap_unsupported_)
        return done.fail(ENOTSUP, "iscsi: the target rejected UNMAP before");
    post(new op(op_kind::unmap, std::move(done), offset, length, geo_.block_size));
}

void event_loop::write_zeroes(uint64_t offset, uint64_t length, bool unmap, bool fua,
                              completion done)
{
    if (write_same_unsupported_)
        return done.fail(ENOTSUP, "iscsi: the target refused WRITE SAME(16) before (" +
                                      refusals().command + ")");
    auto *o = new op(op_kind::write_same, std::move(done), offset, length, geo_.block_size);
    o->unmap = unmap && !write_same_unmap_unsupported_;
    o->fua = fua;
    post(o);
}

void event_loop::finish(op *o, std::int64_t result, const std::string &message)
{
    completion done = std::move(o->done);
    delete o;
    done(result, message.empty() ? nullptr : message.c_str());
}

void event_loop::run()
{
    // libiscsi writes with writev: a vanished target must give EPIPE, not a signal.
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
    while (!stop_) {
        take_posted();
        if (!sess_ && !queue_.empty()) {
            if (clock::now() < retry_at_)
                fail_all_queued(down_code_, down_why_);
            else
                reconnect();
        }
        issue();
        wait_and_service();
        check_timeouts();
    }
    // The host closes only without requests in flight; anything left is a bug
    // upstream, and still gets an answer.
    take_posted();
    fail_all_queued(ECANCELED, "the node is closing");
    if (sess_) {
        if (in_flight_.empty())
            sess_->logout();
        teardown(ECANCELED, "the node is closing");
    }
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
        finish(o, -code, "iscsi: " + op_name(o) + " not sent: " + why);
    }
}

void event_loop::reconnect()
{
    try {
        auto s = session::open(cfg_, waker{efd_, &stop_});
        lun_geometry now = read_capacity(*s);
        if (now.block_size != geo_.block_size || now.blocks < geo_.blocks)
            fail(EIO, "after reconnecting, " + cfg_.where() + " has " +
                          std::to_string(now.blocks) + " blocks of " +
                          std::to_string(now.block_size) + " bytes, was " +
                          std::to_string(geo_.blocks) + " of " + std::to_string(geo_.block_size));
        sess_ = std::move(s);
        lost_ = false;
        ++reconnects_;
        set_state("connected (reconnects: " + std::to_string(reconnects_) + ")");
    } catch (...) {
        // A target that does not answer a login would make every request
        // that follows wait a login timeout of its own (issue 9: 80 flushes,
        // over two minutes): for reconnect_retry that answer stands. A
        // refusal costs nothing to ask again, so it is not remembered.
        auto e = describe_current_exception();
        set_state(std::string("disconnected (") + e.message + ")");
        if (e.code == ETIMEDOUT)
            retry_at_ = clock::now() + reconnect_retry;
        down_code_ = e.code;
        down_why_ = "not connected: the reconnect failed (" + std::string(e.message) + "); the next try in " +
                    std::to_string(reconnect_retry.count()) + " ms at the earliest";
        fail_all_queued(e.code, e.message);
    }
}

void event_loop::issue()
{
    while (sess_ && !queue_.empty() && in_flight_.size() < cfg_.queue_depth) {
        op *o = queue_.front();
        queue_.pop_front();
        start(o);
    }
}

void event_loop::start(op *o)
{
    iscsi_context *c = sess_->get();
    const int lun = cfg_.lun;
    const int bs = static_cast<int>(geo_.block_size);
    if (o->kind == op_kind::unmap) {
        uint64_t limit = geo_.max_unmap;
        if (limit == 0 || limit > max_range_blocks)
            limit = max_range_blocks;
        limit = std::min(limit, range_chunk_bytes / geo_.block_size);
        o->chunk = static_cast<uint32_t>(std::min(o->blocks, limit));
    } else if (o->kind == op_kind::write_same && !o->syncing) {
        // A refusal may have arrived while this request waited in the queue.
        if (write_same_unsupported_)
            return finish(o, -ENOTSUP, "iscsi: the target refused WRITE SAME(16) before (" +
                                           refusals().command + ")");
        if (write_same_unmap_unsupported_)
            o->unmap = false;
        o->chunk = static_cast<uint32_t>(
            std::min<uint64_t>(o->blocks, write_same_blocks(geo_, o->unmap).blocks));
    }
    scsi_task *t = nullptr;
    switch (o->kind) {
    case op_kind::read:
        t = iscsi_read16_iov_task(c, lun, o->lba, static_cast<uint32_t>(o->length), bs, 0, 0, 0,
                                  0, 0, on_task, o, o->iov.data(), static_cast<int>(o->iov.size()));
        break;
    case op_kind::write:
        t = iscsi_write16_iov_task(c, lun, o->lba, nullptr, static_cast<uint32_t>(o->length), bs,
                                   0, 0, o->fua ? 1 : 0, 0, 0, on_task, o, o->iov.data(),
                                   static_cast<int>(o->iov.size()));
        break;
    case op_kind::flush:
        t = iscsi_synchronizecache16_task(c, lun, 0, 0, 0, 0, on_task, o);
        break;
    case op_kind::unmap:
        o->desc = {o->lba, o->chunk};
        t = iscsi_unmap_task(c, lun, 0, 0, &o->desc, 1, on_task, o);
        break;
    case op_kind::write_same:
        if (o->syncing) {
            // The whole range (NUMBER OF LOGICAL BLOCKS 0: to the end of the
            // LUN when the count does not fit its 32 bits).
            const uint64_t first = o->offset / geo_.block_size;
            const uint64_t n = o->length / geo_.block_size;
            t = iscsi_synchronizecache16_task(c, lun, first,
                                              n > max_range_blocks ? 0 : static_cast<uint32_t>(n),
                                              0, 0, on_task, o);
            break;
        }
        t = iscsi_writesame16_task(c, lun, o->lba, zero_block_.data(),
                                   static_cast<uint32_t>(zero_block_.size()), o->chunk, 0,
                                   o->unmap ? 1 : 0, 0, 0, on_task, o);
        break;
    }
    if (!t)
        return finish(o, -EIO, "iscsi: " + op_name(o) + " to " + cfg_.where() +
                                   ": cannot queue: " + iscsi_get_error(c));
    o->deadline = cfg_.timeout_s ? clock::now() + std::chrono::seconds(cfg_.timeout_s)
                                 : clock::time_point::max();
    in_flight_.push_back(o);
    if (in_flight_.size() > peak_in_flight_)
        peak_in_flight_ = static_cast<unsigned>(in_flight_.size());
}

void event_loop::on_task(iscsi_context *, int status, void *task, void *self)
{
    auto *o = static_cast<op *>(self);
    o->loop->task_done(o, status, static_cast<scsi_task *>(task));
}

void event_loop::task_done(op *o, int status, scsi_task *raw)
{
    task_ptr task(raw);
    std::erase(in_flight_, o);
    auto what = [&] {
        std::string w = "iscsi: " + op_name(o);
        if (o->kind != op_kind::flush)
            w += " of " + std::to_string(o->length) + " bytes at offset " +
                 std::to_string(o->offset);
        return w + " on " + cfg_.where();
    };
    if (status == SCSI_STATUS_GOOD) {
        if ((o->kind == op_kind::read || o->kind == op_kind::write) && task &&
            task->residual_status == SCSI_RESIDUAL_UNDERFLOW && task->residual > 0)
            return finish(o, -EIO, what() + ": target moved " +
                                       std::to_string(o->length - task->residual) + " bytes");
        if ((o->kind == op_kind::unmap || o->kind == op_kind::write_same) && !o->syncing) {
            o->lba += o->chunk;
            o->blocks -= o->chunk;
            o->retries = 0;
            if (o->blocks > 0 || (o->kind == op_kind::write_same && o->fua)) {
                o->syncing = o->blocks == 0;  // all written: make it durable (FUA)
                queue_.push_front(o);
                return;
            }
            return finish(o, 0);
        }
        if (o->syncing)
            return finish(o, 0);
        return finish(o, o->kind == op_kind::flush ? 0 : static_cast<std::int64_t>(o->length));
    }
    if (status == SCSI_STATUS_CANCELLED) {
        if (!tearing_down_)
            lost_ = true;  // libiscsi cancels everything when the connection breaks
        int code = tearing_down_ ? teardown_code_ : ECONNRESET;
        std::string why = tearing_down_ ? teardown_why_ : "connection lost";
        return finish(o, -code, what() + " failed: " + why);
    }
    if (status_retryable(status, task.get()) && o->retries < max_retries) {
        ++o->retries;  // the target did not execute it: sending it again is safe
        queue_.push_front(o);
        return;
    }
    if (o->kind == op_kind::unmap && status_unsupported(status, task.get())) {
        unmap_unsupported_ = true;
        return finish(o, -ENOTSUP, what() + ": " + status_text(status, task.get()));
    }
    if (o->kind == op_kind::write_same && !o->syncing) {
        // ILLEGAL REQUEST: nothing of this command was executed, so sending
        // the same blocks again (without the UNMAP bit), or zero buffers from
        // the core, cannot undo anything. Earlier chunks of the request that
        // succeeded are zeroes already.
        switch (classify_write_same_failure(status, task.get(), o->unmap)) {
        case write_same_failure::unmap_bit_refused:
            note_refusal(&write_same_refusals::unmap_bit, status_text(status, task.get()));
            write_same_unmap_unsupported_ = true;
            o->unmap = false;
            queue_.push_front(o);
            return;
        case write_same_failure::refused:
            note_refusal(&write_same_refusals::command, status_text(status, task.get()));
            write_same_unsupported_ = true;
            return finish(o, -ENOTSUP, what() + ": " + status_text(status, task.get()) +
                                           " (WRITE SAME(16) is not sent again)");
        case write_same_failure::error:
            break;
        }
    }
    if (status == SCSI_STATUS_ERROR || status == SCSI_STATUS_TIMEOUT)
        lost_ = true;  // transport trouble: start over with a fresh login
    finish(o, -status_errno(status, task.get()), what() + ": " + status_text(status, task.get()));
}

void event_loop::wait_and_service()
{
    int wait_ms = -1;
    if (!in_flight_.empty() && cfg_.timeout_s) {
        auto first = std::min_element(in_flight_.begin(), in_flight_.end(),
                                      [](op *a, op *b) { return a->deadline < b->deadline; });
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>((*first)->deadline -
                                                                          clock::now());
        wait_ms = static_cast<int>(std::clamp<long long>(left.count() + 1, 0, 1000));
    }
    pollfd p[2] = {{efd_, POLLIN, 0}, {-1, 0, 0}};
    if (sess_)
        p[1] = {iscsi_get_fd(sess_->get()),
                static_cast<short>(iscsi_which_events(sess_->get()) | POLLRDHUP), 0};
    int n = poll(p, sess_ ? 2 : 1, wait_ms);
    if (n <= 0)
        return;
    if (p[0].revents & POLLIN) {
        std::uint64_t drain;
        [[maybe_unused]] auto r = ::read(efd_, &drain, sizeof drain);
    }
    short rev = p[1].revents;
    if (!sess_ || !rev)
        return;
    iscsi_context *c = sess_->get();
    const short serviced = POLLIN | POLLOUT | POLLERR | POLLHUP;
    if (iscsi_service(c, rev & serviced) < 0)
        return teardown(ECONNRESET, std::string("connection lost: ") + iscsi_get_error(c));
    if (rev & (POLLRDHUP | POLLHUP | POLLERR)) {
        // The target closed its side: its last answers are still in our
        // receive buffer; take them before closing, then fail the rest.
        for (int i = 0; i < 4096 && !lost_ && !sess_->connection_lost() && !in_flight_.empty();
             ++i)
            if (iscsi_service(c, POLLIN) < 0)
                break;
        return teardown(ECONNRESET, "connection lost (the target closed it)");
    }
    if (lost_ || sess_->connection_lost())
        teardown(ECONNRESET, "connection lost");
}

void event_loop::check_timeouts()
{
    if (!sess_ || in_flight_.empty() || !cfg_.timeout_s)
        return;
    auto now = clock::now();
    for (op *o : in_flight_)
        if (o->deadline <= now)
            return teardown(ETIMEDOUT, "no answer within " + std::to_string(cfg_.timeout_s) +
                                           " s (option 'timeout'); connection closed");
}

void event_loop::teardown(int code, const std::string &why)
{
    if (!sess_)
        return;
    tearing_down_ = true;
    teardown_code_ = code;
    teardown_why_ = why;
    // Cancelling calls task_done with SCSI_STATUS_CANCELLED for each task.
    iscsi_scsi_cancel_all_tasks(sess_->get());
    sess_.reset();
    tearing_down_ = false;
    lost_ = false;
    // Every task had its callback; anything left would otherwise wait forever.
    while (!in_flight_.empty()) {
        op *o = in_flight_.back();
        in_flight_.pop_back();
        finish(o, -code, "iscsi: " + op_name(o) + " on " + cfg_.where() + " failed: " + why);
    }
    set_state("disconnected (" + why + "); reconnects on the next request");
}

}  // namespace granule_iscsi
