// One libiscsi context logged in to one target, plus blocking helpers for the
// slow path (open and reconnect). libiscsi's own *_sync calls poll without a
// deadline and never run its timeout processing, so a target that accepts the
// TCP connection and then goes silent would hang them forever; these helpers
// drive the async API with a deadline of `timeout` seconds per exchange.
//
// Threads: a session is used by one thread at a time (libiscsi contexts are
// not thread-safe): the device thread during open, then the event loop.
// Callbacks that libiscsi keeps (the connect callback is called again when an
// established connection breaks) point at the session object, which therefore
// never moves: sessions live in unique_ptrs.
#pragma once

#include "config.hpp"
#include "scsi_status.hpp"

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>

namespace granule_iscsi {

// Lets a blocking wait notice a request to stop: `fd` (an eventfd) is polled
// too; when readable it is drained and *stop is checked. The event loop's
// wake-ups are absorbed by this, which is fine: the loop re-reads its queue
// after every blocking step.
struct waker {
    int fd = -1;
    const std::atomic<bool> *stop = nullptr;
};

class session {
public:
    using clock = std::chrono::steady_clock;
    // Starts one SCSI command: returns the task or NULL (libiscsi error).
    using start_fn = std::function<scsi_task *(iscsi_context *, iscsi_command_cb, void *)>;

    // Connects, logs in and waits until the LUN answers TEST UNIT READY.
    // Throws driver_error naming cfg.where(): ECONNREFUSED etc. for TCP,
    // EACCES for authentication, ENOENT for an unknown target, ENXIO for a LUN
    // the target does not have, ETIMEDOUT when a step takes longer than timeout.
    static std::unique_ptr<session> open(const target_config &cfg, waker w = {});
    ~session();  // libiscsi calls pending callbacks with SCSI_STATUS_CANCELLED
    session(const session &) = delete;
    session &operator=(const session &) = delete;

    iscsi_context *get() const noexcept { return ctx_; }
    const target_config &config() const noexcept { return cfg_; }

    // Runs one command to completion and returns its task, whatever its SCSI
    // status (check task->status). Throws driver_error on transport failure,
    // timeout or stop; what names the command in messages.
    task_ptr run(const char *what, const start_fn &start);

    // Set once the TCP connection broke after it had been established.
    bool connection_lost() const noexcept { return lost_; }

    // Best effort, at most one second: tells the target we are going.
    void logout() noexcept;

    // Blocks SIGPIPE in the calling thread while alive (libiscsi writes to the
    // socket with writev, which raises SIGPIPE when the target is gone) and
    // swallows a SIGPIPE that became pending meanwhile.
    class sigpipe_guard {
    public:
        sigpipe_guard();
        ~sigpipe_guard();
        sigpipe_guard(const sigpipe_guard &) = delete;
        sigpipe_guard &operator=(const sigpipe_guard &) = delete;

    private:
        bool was_blocked_ = false;
        bool was_pending_ = false;
    };

private:
    session(const target_config &cfg, waker w);
    void connect_and_login();
    void check_lun();
    clock::time_point deadline() const;
    // Polls and services until *done, or throws (timeout, transport error, stop).
    void drive(const bool &done, const std::string &what, clock::time_point until);

    static void on_connect(iscsi_context *, int status, void *, void *self);
    static void on_login(iscsi_context *, int status, void *, void *self);
    static void on_task(iscsi_context *, int status, void *task, void *self);

    target_config cfg_;
    waker waker_;
    iscsi_context *ctx_ = nullptr;
    bool connecting_ = false;
    bool connected_ = false;
    bool lost_ = false;
    bool step_done_ = false;
    int step_status_ = 0;
    scsi_task *step_task_ = nullptr;
};

}  // namespace granule_iscsi
