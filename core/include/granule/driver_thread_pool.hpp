// Part of the driver SDK: a fixed set of threads running move-only jobs in
// FIFO order, for the blocking calls a driver must keep off the device's
// thread (preadv, fdatasync, fallocate, FlushFileBuffers). A job may own a
// completion and call it from its thread, as the ABI allows.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace granule::sdk {

class thread_pool {
public:
    // Throws std::system_error if a thread cannot be started.
    explicit thread_pool(unsigned threads = 1)
    {
        try {
            for (unsigned i = 0; i < threads; ++i)
                threads_.emplace_back([this] { work(); });
        } catch (...) {
            stop();
            throw;
        }
    }
    thread_pool(const thread_pool &) = delete;
    thread_pool &operator=(const thread_pool &) = delete;
    // Runs what is queued, then joins.
    ~thread_pool() { stop(); }

    // f is moved into the queue; it must not throw (complete with an error instead).
    template <class F>
    void post(F &&f)
    {
        auto j = std::make_unique<job_of<std::decay_t<F>>>(std::forward<F>(f));
        {
            std::lock_guard lock(mutex_);
            jobs_.push_back(std::move(j));
        }
        wake_.notify_one();
    }

    std::size_t size() const noexcept { return threads_.size(); }

private:
    struct job {
        virtual ~job() = default;
        virtual void run() noexcept = 0;
    };
    template <class F>
    struct job_of final : job {
        explicit job_of(F f) : f_(std::move(f)) {}
        void run() noexcept override { f_(); }
        F f_;
    };

    void work()
    {
        for (;;) {
            std::unique_ptr<job> j;
            {
                std::unique_lock lock(mutex_);
                wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
                if (jobs_.empty())
                    return;
                j = std::move(jobs_.front());
                jobs_.pop_front();
            }
            j->run();
        }
    }

    void stop()
    {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_all();
        for (auto &t : threads_)
            if (t.joinable())
                t.join();
    }

    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::unique_ptr<job>> jobs_;
    bool stopping_ = false;
    std::vector<std::thread> threads_;  // last: started after the rest exists
};

}  // namespace granule::sdk
