#include "iocp.hpp"

#include <granule/driver.hpp>
#include <granule/platform/win32.hpp>

namespace raw_win32 {
namespace {

// The completion key of the packet that stops the thread; handles use 1.
constexpr ULONG_PTR stop_key = 0;
constexpr ULONG_PTR handle_key = 1;

}  // namespace

void unique_handle::reset(HANDLE h) noexcept
{
    if (*this)
        CloseHandle(h_);
    h_ = h;
}

iocp::iocp(const std::string &filename)
    : port_(CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, 1))
{
    if (!port_) {
        DWORD e = GetLastError();
        granule::sdk::fail(granule::platform::win32::errno_from_win32(e),
                           "cannot create an I/O completion port for '" + filename + "': " +
                               granule::platform::win32::describe_win32_error(e));
    }
    thread_ = std::thread([this] { run(); });
}

iocp::~iocp()
{
    if (thread_.joinable()) {
        PostQueuedCompletionStatus(port_.get(), 0, stop_key, nullptr);
        thread_.join();
    }
}

DWORD iocp::attach(HANDLE h) noexcept
{
    return CreateIoCompletionPort(h, port_.get(), handle_key, 0) ? 0 : GetLastError();
}

void iocp::started(overlapped_op *op, BOOL ok, DWORD error) noexcept
{
    if (ok || error == ERROR_IO_PENDING)
        return;  // the packet will come
    op->complete(0, error ? error : ERROR_GEN_FAILURE);
}

void iocp::run() noexcept
{
    for (;;) {
        DWORD bytes = 0;
        ULONG_PTR key = 0;
        OVERLAPPED *ov = nullptr;
        BOOL ok = GetQueuedCompletionStatus(port_.get(), &bytes, &key, &ov, INFINITE);
        DWORD error = ok ? 0 : GetLastError();
        if (!ov) {
            // No operation: the stop packet, or the port itself failed (only
            // possible once it is closed, i.e. never while the node lives).
            if (key == stop_key || !ok)
                return;
            continue;
        }
        overlapped_op::from(ov)->complete(bytes, error);
    }
}

sync_call::sync_call() : event_(CreateEventW(nullptr, TRUE, FALSE, nullptr)) {}

OVERLAPPED *sync_call::ov(std::uint64_t offset) noexcept
{
    ov_ = OVERLAPPED{};
    ov_.Offset = static_cast<DWORD>(offset);
    ov_.OffsetHigh = static_cast<DWORD>(offset >> 32);
    ResetEvent(event_.get());
    ov_.hEvent = reinterpret_cast<HANDLE>(reinterpret_cast<ULONG_PTR>(event_.get()) | 1);
    return &ov_;
}

DWORD sync_call::finish(HANDLE h, BOOL ok, DWORD error, DWORD *bytes) noexcept
{
    DWORD n = 0;
    if (!ok && error != ERROR_IO_PENDING) {
        if (bytes)
            *bytes = 0;
        return error ? error : ERROR_GEN_FAILURE;
    }
    DWORD result = GetOverlappedResult(h, &ov_, &n, TRUE) ? 0 : GetLastError();
    if (bytes)
        *bytes = n;
    return result;
}

DWORD sync_ioctl(HANDLE h, DWORD code, const void *in, DWORD in_len, void *out, DWORD out_len,
                 DWORD *bytes) noexcept
{
    sync_call call;
    if (!call.ready())
        return GetLastError();
    BOOL ok = DeviceIoControl(h, code, const_cast<void *>(in), in_len, out, out_len, nullptr,
                              call.ov());
    return call.finish(h, ok, ok ? 0 : GetLastError(), bytes);
}

DWORD sync_read(HANDLE h, void *buf, DWORD len, std::uint64_t offset, DWORD *bytes) noexcept
{
    sync_call call;
    if (!call.ready())
        return GetLastError();
    BOOL ok = ReadFile(h, buf, len, nullptr, call.ov(offset));
    return call.finish(h, ok, ok ? 0 : GetLastError(), bytes);
}

}  // namespace raw_win32
