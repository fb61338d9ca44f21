#include "completion_queue.hpp"

#include <cerrno>
#include <chrono>

#if defined(__linux__)
#include <sys/eventfd.h>
#include <unistd.h>
#elif !defined(_WIN32)
#include <fcntl.h>
#include <unistd.h>
#endif

namespace granule::c_api {

completion_queue::~completion_queue()
{
#ifndef _WIN32
    if (read_fd_ >= 0)
        ::close(read_fd_);
    if (write_fd_ >= 0 && write_fd_ != read_fd_)
        ::close(write_fd_);
#endif
}

void completion_queue::push(queued_completion c)
{
    std::lock_guard lock(mu_);
    bool was_empty = q_.empty();
    q_.push_back(std::move(c));
    // Only a queue that was empty can have a thread waiting on it: a wake-up
    // per completion would cost a futex call each while the poller is busy.
    if (was_empty) {
        signal_locked();
        if (waiters_ > 0)
            cv_.notify_one();
    }
}

std::size_t completion_queue::take(granule_completion *out, std::size_t max, int timeout_ms,
                                   std::vector<std::string> &messages)
{
    std::unique_lock lock(mu_);
    if (q_.empty() && timeout_ms != 0) {
        ++waiters_;
        auto ready = [this] { return !q_.empty(); };
        if (timeout_ms < 0)
            cv_.wait(lock, ready);
        else
            cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), ready);
        --waiters_;
    }
    // Reserve first: out's pointers into messages must not move.
    std::size_t n = std::min(max, q_.size());
    std::size_t failed = 0;
    for (std::size_t i = 0; i < n; ++i)
        failed += q_[i].ret < 0;
    messages.clear();
    messages.reserve(failed);
    for (std::size_t i = 0; i < n; ++i) {
        auto &c = q_.front();
        out[i] = {c.user_data, c.ret, 0, nullptr};
        if (c.ret < 0) {
            messages.push_back(std::move(c.message));
            out[i].error_msg = messages.back().c_str();
        }
        q_.pop_front();
    }
    if (q_.empty())
        drain_locked();
    else if (waiters_ > 0)
        cv_.notify_one();  // what this thread left, for the next one waiting
    return n;
}

int completion_queue::fd()
{
#ifdef _WIN32
    return -ENOTSUP;
#else
    std::lock_guard lock(mu_);
    if (read_fd_ >= 0)
        return read_fd_;
#if defined(__linux__)
    int efd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (efd < 0)
        return -errno;
    read_fd_ = write_fd_ = efd;
#else
    int p[2];
    if (::pipe(p) != 0)
        return -errno;
    for (int f : p) {
        ::fcntl(f, F_SETFD, FD_CLOEXEC);
        ::fcntl(f, F_SETFL, O_NONBLOCK);
    }
    read_fd_ = p[0];
    write_fd_ = p[1];
#endif
    if (!q_.empty())
        signal_locked();
    return read_fd_;
#endif
}

void completion_queue::signal_locked()
{
#ifndef _WIN32
    if (write_fd_ < 0)
        return;
#if defined(__linux__)
    std::uint64_t one = 1;
    [[maybe_unused]] auto r = ::write(write_fd_, &one, sizeof one);
#else
    char one = 1;
    [[maybe_unused]] auto r = ::write(write_fd_, &one, 1);
#endif
#endif
}

void completion_queue::drain_locked()
{
#ifndef _WIN32
    if (read_fd_ < 0)
        return;
    // An eventfd reads its whole count at once; a pipe holds one byte per signal.
    char buf[64];
    while (::read(read_fd_, buf, sizeof buf) > 0 && write_fd_ != read_fd_) {
    }
#endif
}

}  // namespace granule::c_api
