// The data path: one thread per node that owns the libnbd handle after open
// and runs a poll() loop over the NBD socket and an eventfd.
//
// Threads: read_write/flush/trim/zero/block_status run on the device's
// thread and only append to a queue under a mutex, then signal the eventfd
// (reads and writes once per burst, at unplug); every libnbd call and every
// libnbd callback happens on the loop thread. libnbd's callbacks (called
// inside nbd_aio_* and nbd_aio_notify_*, holding the handle's lock) only
// record the result; the loop finishes requests after the libnbd call
// returned, so a completion never runs under libnbd's lock and a ranged
// request can send its next piece. Finished requests are completed on the
// device's thread by poll() (host_polls: one signal of a second eventfd per
// batch), else on the loop thread.
// Flow control: at most queue_depth NBD commands in flight; the rest wait.
// Buffers: a request of one iovec element is read into / written from the
// host's buffer directly (libnbd takes one buffer per command); several
// elements go through one bounce buffer of the request's length.
// Failures: when the connection dies (the server closed it, was killed, or
// sent garbage), libnbd fails every command in flight; they complete with
// EIO naming the server and the request, and so does every later request,
// at once (no reconnect: see docs/drivers/nbd.md). A command without an
// answer `timeout` seconds after it was sent shuts the socket down, which
// kills the connection the same way; those requests complete with ETIMEDOUT.
// Nothing is ever sent twice.
#pragma once

#include "config.hpp"
#include "connection.hpp"

#include <granule/driver.hpp>

#include <atomic>
#include <chrono>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace granule_nbd {

class event_loop {
public:
    // Takes over a connected handle; server names it in messages.
    // batch_submits: the host calls unplug() after each burst of submits
    // (GRANULE_OPEN_HOST_UNPLUGS), so read_write only queues and unplug()
    // wakes the loop once for the burst.
    // host_polls: completions are handed to the device's thread through
    // poll_fd()/poll() (GRANULE_OPEN_HOST_POLLS) instead of being called
    // from the loop's thread.
    event_loop(handle_ptr handle, const server_config &cfg, std::string server,
               bool batch_submits = false, bool host_polls = false);
    // No requests may be in flight (the ABI guarantees it at close). Sends
    // NBD_CMD_DISC when the connection is still up (waiting at most 1 s).
    ~event_loop();
    event_loop(const event_loop &) = delete;
    event_loop &operator=(const event_loop &) = delete;

    // req is aligned and inside the export; length_to_read <= req.length is
    // what exists of a read before the end (a read completes with it: short).
    // nbd_flags: LIBNBD_CMD_FLAG_FUA or 0.
    void read_write(const granule_request &req, std::uint64_t length_to_read,
                    std::uint32_t nbd_flags, granule::sdk::completion done);
    void flush(granule::sdk::completion done);
    // Ranges of any size: sent in pieces of at most range_chunk, one after
    // the other (the protocol's length field is 32 bits).
    void trim(std::uint64_t offset, std::uint64_t length, granule::sdk::completion done);
    // nbd_flags: LIBNBD_CMD_FLAG_NO_HOLE, _FUA, _FAST_ZERO.
    void zero(std::uint64_t offset, std::uint64_t length, std::uint32_t nbd_flags,
              granule::sdk::completion done);
    // One NBD_CMD_BLOCK_STATUS with REQ_ONE for at most length bytes (<=
    // range_chunk); the answer's first base:allocation extent goes to out.
    void block_status(std::uint64_t offset, std::uint64_t length, granule_block_status &out,
                      granule::sdk::completion done);

    // "connected, peak in flight 3/32" or "disconnected (reason): ...";
    // any thread.
    std::string state() const;

    // Wakes the loop for the reads and writes queued since the last call
    // (batch_submits); the device's thread.
    void unplug() noexcept;

    // host_polls: an eventfd signalled when finished requests wait, and the
    // call (device thread) that completes them all.
    int poll_fd() const noexcept { return cfd_; }
    void poll() noexcept;

    struct op;  // one request, see event_loop.cpp

private:
    void post(op *o, bool wake = true);
    void wake() noexcept;
    void run();
    void take_posted();
    void issue();
    void start(op *o);
    void reap();
    void complete(op *o);
    void wait_and_service();
    void check_timeouts();
    void connection_died(std::string why);
    void disconnect_politely();
    void finish(op *o, std::int64_t result, const std::string &message = {});
    void fail_all_queued(int code, const std::string &why);
    std::string describe(const op *o) const;
    static int on_complete(void *self, int *error);
    static int on_extent(void *self, const char *context, std::uint64_t offset,
                         std::uint32_t *entries, std::size_t n, int *error);

    const server_config cfg_;
    const std::string server_;
    handle_ptr handle_;            // loop thread only (after the constructor)
    std::deque<op *> queue_;       // loop thread only
    std::vector<op *> in_flight_;  // loop thread only: sent, no callback yet
    std::vector<op *> reported_;   // loop thread only: callback seen, not finished
    bool dead_ = false;            // the connection is gone for good
    int dead_code_ = EIO;          // EIO, or ETIMEDOUT after our timeout
    std::string dead_why_;
    std::string timeout_why_;      // set when the loop shut the socket down

    const bool batch_submits_;
    const bool host_polls_;
    struct finished {
        granule::sdk::completion done;
        std::int64_t result;
        std::string message;
    };
    int cfd_ = -1;                      // host_polls: signalled when finished_ fills
    std::mutex finished_mutex_;
    std::vector<finished> finished_;    // guarded by finished_mutex_
    bool loop_done_ = false;            // the loop thread ended: complete directly
    bool plugged_ = false;  // device thread only: queued since the last unplug
    int efd_ = -1;
    std::atomic<bool> stop_{false};
    mutable std::mutex mutex_;  // guards posted_, state_
    std::vector<op *> posted_;
    std::string state_;
    std::atomic<unsigned> peak_in_flight_{0};
    std::thread thread_;
};

}  // namespace granule_nbd
