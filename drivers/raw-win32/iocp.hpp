// Overlapped I/O for raw-win32: handles, one I/O completion port with its own
// completion thread per node, and synchronous helpers for the few calls
// (ioctls, probe reads) that must wait.
//
// Every handle is opened with FILE_FLAG_OVERLAPPED. An operation started
// through iocp::start completes exactly once: on the completion thread
// (GetQueuedCompletionStatus) when Windows accepted it, also when it finished
// at once (FILE_SKIP_COMPLETION_PORT_ON_SUCCESS is never set), or inline
// in start() when the call failed synchronously, since then no packet comes.
// Units are bytes.
#pragma once

#include <windows.h>

#include <cstdint>
#include <string>
#include <thread>

namespace raw_win32 {

// Owns a HANDLE (INVALID_HANDLE_VALUE and NULL both mean none).
class unique_handle {
public:
    unique_handle() = default;
    explicit unique_handle(HANDLE h) noexcept : h_(h) {}
    unique_handle(unique_handle &&o) noexcept : h_(o.release()) {}
    unique_handle &operator=(unique_handle &&o) noexcept
    {
        reset(o.release());
        return *this;
    }
    ~unique_handle() { reset(); }
    void reset(HANDLE h = INVALID_HANDLE_VALUE) noexcept;
    HANDLE get() const noexcept { return h_; }
    HANDLE release() noexcept
    {
        HANDLE h = h_;
        h_ = INVALID_HANDLE_VALUE;
        return h;
    }
    explicit operator bool() const noexcept { return h_ && h_ != INVALID_HANDLE_VALUE; }

private:
    HANDLE h_ = INVALID_HANDLE_VALUE;
};

// One operation in flight. Derive, pass ov() to the Win32 call, and keep the
// object alive until complete() runs.
class overlapped_op {
public:
    overlapped_op() noexcept { slot_.owner = this; }
    overlapped_op(const overlapped_op &) = delete;
    overlapped_op &operator=(const overlapped_op &) = delete;
    virtual ~overlapped_op() = default;

    // bytes transferred and the Win32 error (0 = success). Called once, from
    // the completion thread or from inside iocp::started; may delete this.
    virtual void complete(DWORD bytes, DWORD error) noexcept = 0;

    // A fresh OVERLAPPED for a call at offset.
    OVERLAPPED *ov(std::uint64_t offset = 0) noexcept
    {
        slot_.ov = OVERLAPPED{};
        slot_.ov.Offset = static_cast<DWORD>(offset);
        slot_.ov.OffsetHigh = static_cast<DWORD>(offset >> 32);
        return &slot_.ov;
    }
    // The operation whose ov() Windows handed back.
    static overlapped_op *from(OVERLAPPED *ov) noexcept
    {
        return reinterpret_cast<slot *>(ov)->owner;  // ov is slot's first member
    }

private:
    // Standard layout, so the OVERLAPPED* leads back to its owner.
    struct slot {
        OVERLAPPED ov;
        overlapped_op *owner;
    };
    slot slot_{};
};

class iocp {
public:
    // Creates the port and starts the completion thread; throws driver_error
    // naming filename on failure.
    explicit iocp(const std::string &filename);
    iocp(const iocp &) = delete;
    iocp &operator=(const iocp &) = delete;
    // Stops and joins the thread. No operation may be in flight (the ABI
    // closes a node only when its requests are done).
    ~iocp();

    // Routes the completions of handle h (opened FILE_FLAG_OVERLAPPED) here.
    // Returns 0 or the Win32 error.
    DWORD attach(HANDLE h) noexcept;

    // ok/error are what the Win32 call returned and GetLastError() right after
    // it. A packet comes for TRUE and for ERROR_IO_PENDING; anything else
    // completes op now with that error.
    static void started(overlapped_op *op, BOOL ok, DWORD error) noexcept;

private:
    void run() noexcept;

    unique_handle port_;
    std::thread thread_;
};

// Waits for one overlapped call on h without a completion packet: the event
// handle's low bit set tells Windows not to queue one to the port.
class sync_call {
public:
    sync_call();
    // false when no event could be created: then nothing may be issued.
    bool ready() const noexcept { return static_cast<bool>(event_); }
    OVERLAPPED *ov(std::uint64_t offset = 0) noexcept;
    // After the call returned ok (GetLastError() in error): waits if it is
    // pending. Returns 0 or the Win32 error; *bytes gets the count.
    DWORD finish(HANDLE h, BOOL ok, DWORD error, DWORD *bytes) noexcept;

private:
    unique_handle event_;
    OVERLAPPED ov_{};
};

// DeviceIoControl that waits. Returns 0 or the Win32 error.
DWORD sync_ioctl(HANDLE h, DWORD code, const void *in, DWORD in_len, void *out, DWORD out_len,
                 DWORD *bytes = nullptr) noexcept;

// ReadFile that waits. Returns 0 or the Win32 error; ERROR_HANDLE_EOF is
// returned as is (the caller decides whether end of file is an error).
DWORD sync_read(HANDLE h, void *buf, DWORD len, std::uint64_t offset, DWORD *bytes) noexcept;

}  // namespace raw_win32
