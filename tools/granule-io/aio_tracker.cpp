#include "aio_tracker.hpp"

#include <cassert>

namespace granule_io {

aio_tracker::~aio_tracker()
{
    // The shell drains before destroying us; this only makes sure no
    // joinable std::thread is destroyed (which would terminate).
    reap_workers();
}

void aio_tracker::begin()
{
    std::lock_guard lock(mutex_);
    ++outstanding_;
}

void aio_tracker::end()
{
    std::lock_guard lock(mutex_);
    assert(outstanding_ > 0);
    if (--outstanding_ == 0) {
        idle_.notify_all();
    }
}

void aio_tracker::spawn(std::function<void()> fn)
{
    begin();
    try {
        workers_.emplace_back([this, fn = std::move(fn)] {
            fn();
            end();
        });
    } catch (...) {
        end();
        throw;
    }
}

std::size_t aio_tracker::outstanding() const
{
    std::lock_guard lock(mutex_);
    return outstanding_;
}

bool aio_tracker::wait_idle_for(std::chrono::milliseconds timeout)
{
    bool idle;
    {
        std::unique_lock lock(mutex_);
        idle = idle_.wait_for(lock, timeout, [this] { return outstanding_ == 0; });
    }
    if (idle) {
        reap_workers();
    }
    return idle;
}

void aio_tracker::reap_workers()
{
    // Only called once the count is zero, so every worker has run its end()
    // and is at most returning: join() is immediate.
    for (auto &t : workers_) {
        if (t.joinable()) {
            t.join();
        }
    }
    workers_.clear();
}

}  // namespace granule_io
