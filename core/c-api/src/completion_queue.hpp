// The completions of requests submitted without a callback, waiting for
// granule_poll_completions, and the descriptor that tells an event loop so.
#pragma once

#include <granule.h>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

namespace granule::c_api {

struct queued_completion {
    void *user_data;
    int ret;
    std::string message;  // empty on success
};

class completion_queue {
public:
    completion_queue() = default;
    ~completion_queue();
    completion_queue(const completion_queue &) = delete;
    completion_queue &operator=(const completion_queue &) = delete;

    // From the device's thread.
    void push(queued_completion c);
    // Up to max into out, waiting up to timeout_ms (-1: no limit) for the
    // first; error messages go to messages (one per failed entry), which
    // out's error_msg pointers point into.
    std::size_t take(granule_completion *out, std::size_t max, int timeout_ms,
                     std::vector<std::string> &messages);
    // Created on first use (a program that never polls has no descriptor);
    // -errno when it cannot be.
    int fd();

private:
    // Level-triggered: the descriptor is readable exactly while q_ is not
    // empty. Both are changed under mu_.
    void signal_locked();
    void drain_locked();

    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<queued_completion> q_;
    int waiters_ = 0;
    int read_fd_ = -1;
    int write_fd_ = -1;  // == read_fd_ for an eventfd
};

}  // namespace granule::c_api
