// The data path: one thread per node that owns the libiscsi context and runs
// a poll() loop over the iSCSI socket and an eventfd.
//
// Threads: read_write/flush/discard/write_zeroes run on the device's thread
// and only append to a queue under a mutex, then signal the eventfd; every
// libiscsi call and every completion happens on the loop thread.
// Flow control: at most queue_depth SCSI tasks in flight; the rest wait in
// the queue. Buffers: the host's iovec elements go to libiscsi as they are
// (zero-copy; they stay valid until completion per the ABI).
// Failures: a task that gets no answer within `timeout` seconds of being sent
// closes the connection, which fails every task in flight (ETIMEDOUT); a
// connection that breaks fails the tasks in flight (ECONNRESET). Nothing that
// was sent is ever sent again, except commands the target refused without
// executing them (UNIT ATTENTION, BUSY, TASK SET FULL). Queued requests, and
// new ones, trigger a fresh login; if that fails, the queued requests fail
// with its message.
#pragma once

#include "scsi_limits.hpp"
#include "session.hpp"

#include <granule/driver.hpp>

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace granule_iscsi {

class event_loop {
public:
    // Takes over a logged-in session; geometry is what open read (a
    // reconnect must find the same block size and at least the same length).
    event_loop(std::unique_ptr<session> s, const lun_geometry &geometry);
    // No requests may be in flight (the ABI guarantees it at close).
    ~event_loop();
    event_loop(const event_loop &) = delete;
    event_loop &operator=(const event_loop &) = delete;

    // req is aligned to the logical block and at most transfer_cap() bytes;
    // GRANULE_REQ_FUA in req.flags sets WRITE(16)'s FUA bit.
    void read_write(const granule_request &req, granule::sdk::completion done);
    void flush(granule::sdk::completion done);
    // Byte ranges aligned to the logical block. -ENOTSUP once the target
    // rejected the command as unsupported.
    void discard(std::uint64_t offset, std::uint64_t length, granule::sdk::completion done);
    // WRITE SAME(16) of a zero block, on any LUN, in commands of at most
    // write_same_blocks(); with the UNMAP bit when unmap (the caller checked
    // LBPWS and LBPRZ); fua: SYNCHRONIZE CACHE(16) of the range once every
    // WRITE SAME completed (WRITE SAME has no FUA bit). A target that refuses
    // WRITE SAME(16) (classify_write_same_failure) makes this request and
    // every later one complete -ENOTSUP (the core then writes zero buffers);
    // one that refuses only the UNMAP bit gets the blocks again without it,
    // and no UNMAP bit from then on. Any other failure fails the request.
    void write_zeroes(std::uint64_t offset, std::uint64_t length, bool unmap, bool fua,
                      granule::sdk::completion done);
    // What the target refused so far (for info); any thread.
    write_same_refusals refusals() const;

    // "connected (reconnects: N)" or "disconnected (reason)", then the most
    // tasks ever in flight at once; any thread.
    std::string state() const;

    struct op;  // one request, see event_loop.cpp

private:
    void post(op *o);
    void run();
    void take_posted();
    void reconnect();
    void issue();
    void start(op *o);
    void wait_and_service();
    void check_timeouts();
    void teardown(int code, const std::string &why);
    void finish(op *o, std::int64_t result, const std::string &message = {});
    void fail_all_queued(int code, const std::string &why);
    void set_state(std::string s);
    void note_refusal(std::string write_same_refusals::*which, std::string why);
    static void on_task(iscsi_context *, int status, void *task, void *self);
    void task_done(op *o, int status, scsi_task *task);

    const target_config cfg_;
    const lun_geometry geo_;
    std::vector<unsigned char> zero_block_;  // WRITE SAME's one block of data
    std::unique_ptr<session> sess_;           // loop thread only (after start)
    std::deque<op *> queue_;                  // loop thread only
    std::vector<op *> in_flight_;             // loop thread only
    bool tearing_down_ = false;
    int teardown_code_ = 0;
    std::string teardown_why_;
    bool lost_ = false;
    // After a failed reconnect: until retry_at_, requests fail at once with
    // down_why_ instead of each waiting for a login of its own.
    std::chrono::steady_clock::time_point retry_at_{};
    int down_code_ = 0;
    std::string down_why_;
    std::atomic<bool> unmap_unsupported_{false};
    std::atomic<bool> write_same_unsupported_{false};
    std::atomic<bool> write_same_unmap_unsupported_{false};

    int efd_ = -1;
    std::atomic<bool> stop_{false};
    mutable std::mutex mutex_;  // guards posted_, state_, refused_
    std::vector<op *> posted_;
    std::string state_;
    write_same_refusals refused_;
    unsigned reconnects_ = 0;
    std::atomic<unsigned> peak_in_flight_{0};
    std::thread thread_;
};

}  // namespace granule_iscsi
