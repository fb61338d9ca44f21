// The io_uring engine ("aio=io_uring"): one ring per node. The device thread
// submits; one reaper thread of ours waits for completions and calls them.
// liburing allows exactly that split (one submitter, one reaper) without a
// lock; resubmissions of partial transfers come from the reaper, so the
// submission side takes a mutex anyway, uncontended in the common case.
#pragma once

#include <granule/driver.hpp>

#include <memory>
#include <string>

namespace raw_posix {

class uring_engine {
public:
    // Whether this kernel lets us create a ring (seccomp, io_uring_disabled
    // and old kernels say no); why is filled when it does not. Probed once.
    static bool available(std::string *why = nullptr);

    // Throws granule::sdk::driver_error when the ring cannot be created.
    // name is only used in error messages. With host_polls, completions run
    // inside poll() on the host's thread (no reaper thread): the host waits
    // for poll_fd(), an eventfd the ring signals.
    // With deferred, submit() only queues; unplug() starts what was queued.
    uring_engine(int fd, unsigned entries, std::string name, bool host_polls, bool deferred);
    ~uring_engine();  // no requests may be in flight (the ABI guarantees it at close)
    uring_engine(const uring_engine &) = delete;
    uring_engine &operator=(const uring_engine &) = delete;

    // req and its iovec stay valid until done is called (ABI lifetime rule);
    // req.iovcnt must not exceed IOV_MAX.
    void submit(const granule_request &req, granule::sdk::completion done);
    void flush(granule::sdk::completion done);

    unsigned entries() const;
    int poll_fd() const noexcept;  // -1 without host_polls
    void poll() noexcept;
    void unplug() noexcept;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace raw_posix
