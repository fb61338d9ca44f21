// One Granule read or write as overlapped ReadFile/WriteFile calls completed
// through the node's I/O completion port. ReadFile and WriteFile take one
// buffer and a DWORD length, so a request becomes pieces:
//   - zero-copy, one piece per iovec element (its file offset is known), when
//     every element's length is a multiple of the request alignment: with
//     FILE_FLAG_NO_BUFFERING each call's offset and length must be aligned,
//     not just the request's (unlike Linux preadv, which checks the total);
//   - otherwise through one aligned bounce buffer;
//   and no piece longer than 1 GiB. All pieces are in flight at once; the
//   Granule completion runs once, after the last, from whichever thread
//   finished it (the completion thread, or the submitting thread when a call
//   failed at once).
#pragma once

#include "iocp.hpp"

#include <granule/driver.hpp>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace raw_win32 {

// Runs blocking calls (FlushFileBuffers has no overlapped form) in FIFO
// order on a thread of its own, so neither the device thread nor the
// completion thread waits for a disk cache flush.
class blocking_worker {
public:
    blocking_worker() : thread_([this] { run(); }) {}
    blocking_worker(const blocking_worker &) = delete;
    blocking_worker &operator=(const blocking_worker &) = delete;
    // Runs what is queued, then joins.
    ~blocking_worker();

    // f is moved into the queue (move-only is fine: it may own a completion);
    // it must not throw (it completes with an error instead).
    template <class F>
    void post(F f)
    {
        push(std::make_unique<job_of<F>>(std::move(f)));
    }

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
    void push(std::unique_ptr<job> j);
    void run();

    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::unique_ptr<job>> jobs_;
    bool stopping_ = false;
    std::thread thread_;  // last: starts after the rest exists
};

// What a request needs of its node. The node changes it only in reopen,
// when no request is in flight.
struct io_target {
    HANDLE handle = INVALID_HANDLE_VALUE;
    std::string filename;
    std::uint64_t request_alignment = 1;  // offset/length rule of each call
    std::uint64_t bounce_alignment = 4096;
    bool fua_needs_flush = true;          // false with FILE_FLAG_WRITE_THROUGH
    blocking_worker *worker = nullptr;
};

// Starts req on t; done is called exactly once with the bytes transferred
// (a read is short only at end of file) or -errno and a message naming the
// file, offset and length.
void start_request(const io_target &t, const granule_request &req, granule::sdk::completion done);

}  // namespace raw_win32
