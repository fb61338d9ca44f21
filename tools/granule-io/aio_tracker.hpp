// Counts aio requests in flight so aio_flush, close and exit can wait for
// them. begin() is called on the command thread before submission; end() on
// whatever thread completes the request (the device's executor, or a worker
// thread for aio_write -z, which has no async API).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace granule_io {

class aio_tracker {
public:
    aio_tracker() = default;
    aio_tracker(const aio_tracker &) = delete;
    aio_tracker &operator=(const aio_tracker &) = delete;
    ~aio_tracker();

    void begin();
    // Must be the completion's last touch of shell state: once the count
    // reaches zero the command thread may close the device.
    void end();
    // Runs fn on a new thread as one tracked request: begin() now, end()
    // after fn returns, so fn must not call end(). fn must not throw.
    // Command thread only.
    void spawn(std::function<void()> fn);

    std::size_t outstanding() const;
    // Waits up to timeout for the count to reach zero; true when it did.
    // Command thread only (it also reaps finished worker threads).
    bool wait_idle_for(std::chrono::milliseconds timeout);

private:
    void reap_workers();

    mutable std::mutex mutex_;
    std::condition_variable idle_;
    std::size_t outstanding_ = 0;
    std::vector<std::thread> workers_;  // touched by the command thread only
};

}  // namespace granule_io
