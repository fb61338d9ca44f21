// Submitted requests: each runs through the C++ API's async_* call, and its
// completion goes to the caller's callback or to the device's queue.
#include "c_device.hpp"
#include "c_request.hpp"

#include <exception>
#include <type_traits>

using namespace granule;
using namespace granule::c_api;

namespace {

// The completion handler of one submitted request. Small and copyable: the
// request's description is only turned into text when it failed.
struct completer {
    granule_device *dev;
    granule_completion_cb cb;
    void *user_data;
    const char *function;
    uint64_t offset;
    uint64_t len;
    bool ranged;  // the message names offset and length
    granule_extent *extent = nullptr;  // block status: where the answer goes

    template <class T>
    void operator()(std::exception_ptr ep, const result<T> &r) const noexcept
    {
        if (!ep && r) {
            if constexpr (std::is_same_v<T, block_extent>)
                *extent = to_extent(*r);
            deliver(0, {});
            return;
        }
        try {
            std::string what = ranged ? request_what(function, offset, len) : std::string(function);
            if (ep)
                deliver(-ENOMEM, error_text(what, "out of memory"));
            else
                deliver(negative_errno(r.error().code), error_text(what, r.error().message));
        } catch (const std::bad_alloc &) {
            deliver(-ENOMEM, {});
        }
    }

    void deliver(int ret, std::string message) const noexcept
    {
        if (cb) {
            granule_completion c{user_data, ret, 0, ret < 0 ? message.c_str() : nullptr};
            auto &running = callback_device();
            auto *outer = running;
            running = dev;
            cb(&c);
            running = outer;
            return;
        }
        // A queue that cannot grow loses the completion: there is no way to
        // report that but to stop (the caller would wait for it forever).
        try {
            dev->completions.push({user_data, ret, std::move(message)});
        } catch (...) {
            std::terminate();
        }
    }
};

int submit_read(const char *function, granule_device *dev, uint64_t offset,
                std::vector<io_buffer> bufs, uint64_t len, granule_completion_cb cb, void *ud)
{
    dev->dev->async_preadv(offset, std::move(bufs),
                           completer{dev, cb, ud, function, offset, len, true});
    return 0;
}

int submit_write(const char *function, granule_device *dev, uint64_t offset,
                 std::vector<io_buffer> bufs, uint64_t len, request_flags f,
                 granule_completion_cb cb, void *ud)
{
    dev->dev->async_pwritev(offset, std::move(bufs), f,
                            completer{dev, cb, ud, function, offset, len, true});
    return 0;
}

// submit_preadv and submit_pwritev (allowed: the flags a write takes).
int submit_vectored(const char *fn, granule_device *dev, uint64_t offset, const granule_iov *iov,
                    int iovcnt, uint32_t flags, uint32_t allowed, granule_completion_cb cb, void *ud)
{
    return guarded(fn, [&] {
        request_flags f;
        std::vector<io_buffer> bufs;
        uint64_t len;
        if (int r = check_device(dev, fn); r || (r = to_request_flags(fn, flags, allowed, f)) ||
                                           (r = to_buffers(fn, iov, iovcnt, bufs, len)))
            return r;
        return allowed ? submit_write(fn, dev, offset, std::move(bufs), len, f, cb, ud)
                       : submit_read(fn, dev, offset, std::move(bufs), len, cb, ud);
    });
}

}  // namespace

extern "C" {

int granule_submit_pread(granule_device *dev, uint64_t offset, void *buf, size_t len, uint32_t flags,
                         granule_completion_cb cb, void *user_data)
{
    constexpr const char *fn = "granule_submit_pread";
    return guarded(fn, [&] {
        request_flags f;
        if (int r = check_device(dev, fn); r || (r = to_request_flags(fn, flags, 0, f)) ||
                                           (r = check_buffer(fn, buf, len)))
            return r;
        return submit_read(fn, dev, offset, {{buf, len}}, len, cb, user_data);
    });
}

int granule_submit_pwrite(granule_device *dev, uint64_t offset, const void *buf, size_t len,
                          uint32_t flags, granule_completion_cb cb, void *user_data)
{
    constexpr const char *fn = "granule_submit_pwrite";
    return guarded(fn, [&] {
        request_flags f;
        if (int r = check_device(dev, fn); r || (r = to_request_flags(fn, flags, write_flags, f)) ||
                                           (r = check_buffer(fn, buf, len)))
            return r;
        // The C++ API's buffers are not const: a write never writes to them.
        return submit_write(fn, dev, offset, {{const_cast<void *>(buf), len}}, len, f, cb, user_data);
    });
}

int granule_submit_preadv(granule_device *dev, uint64_t offset, const struct granule_iov *iov,
                          int iovcnt, uint32_t flags, granule_completion_cb cb, void *user_data)
{
    return submit_vectored("granule_submit_preadv", dev, offset, iov, iovcnt, flags, 0, cb, user_data);
}

int granule_submit_pwritev(granule_device *dev, uint64_t offset, const struct granule_iov *iov,
                           int iovcnt, uint32_t flags, granule_completion_cb cb, void *user_data)
{
    return submit_vectored("granule_submit_pwritev", dev, offset, iov, iovcnt, flags, write_flags,
                           cb, user_data);
}

int granule_submit_flush(granule_device *dev, granule_completion_cb cb, void *user_data)
{
    constexpr const char *fn = "granule_submit_flush";
    return guarded(fn, [&] {
        if (int r = check_device(dev, fn))
            return r;
        dev->dev->async_flush(completer{dev, cb, user_data, fn, 0, 0, false});
        return 0;
    });
}

int granule_submit_discard(granule_device *dev, uint64_t offset, uint64_t len,
                           granule_completion_cb cb, void *user_data)
{
    constexpr const char *fn = "granule_submit_discard";
    return guarded(fn, [&] {
        if (int r = check_device(dev, fn))
            return r;
        dev->dev->async_pdiscard(offset, len, completer{dev, cb, user_data, fn, offset, len, true});
        return 0;
    });
}

int granule_submit_write_zeroes(granule_device *dev, uint64_t offset, uint64_t len, uint32_t flags,
                                granule_completion_cb cb, void *user_data)
{
    constexpr const char *fn = "granule_submit_write_zeroes";
    return guarded(fn, [&] {
        request_flags f;
        if (int r = check_device(dev, fn); r || (r = to_request_flags(fn, flags, zero_flags, f)))
            return r;
        dev->dev->async_pwrite_zeroes(offset, len, f,
                                      completer{dev, cb, user_data, fn, offset, len, true});
        return 0;
    });
}

int granule_submit_block_status(granule_device *dev, uint64_t offset, uint64_t len,
                                struct granule_extent *extent, granule_completion_cb cb,
                                void *user_data)
{
    constexpr const char *fn = "granule_submit_block_status";
    return guarded(fn, [&] {
        if (int r = check_device(dev, fn))
            return r;
        if (!extent)
            return fail(fn, EINVAL, "extent is NULL");
        dev->dev->async_block_status(offset, len,
                                     completer{dev, cb, user_data, fn, offset, len, true, extent});
        return 0;
    });
}

int granule_get_completion_fd(granule_device *dev)
{
    return guarded("granule_get_completion_fd", [&] {
        if (int r = check_device(dev, "granule_get_completion_fd"))
            return r;
        int fd = dev->completions.fd();
        return fd >= 0 ? fd : fail("granule_get_completion_fd", -fd, errno_text(-fd));
    });
}

int granule_poll_completions(granule_device *dev, struct granule_completion *out, size_t max,
                             int timeout_ms)
{
    constexpr const char *fn = "granule_poll_completions";
    return guarded(fn, [&] {
        if (int r = check_device(dev, fn))
            return r;
        if (max && !out)
            return fail(fn, EINVAL, "out is NULL");
        if (timeout_ms != 0 && callback_device() == dev)
            return fail(fn, EDEADLK, "waiting in a completion callback of the same device");
        if (max > static_cast<size_t>(INT32_MAX))
            max = INT32_MAX;
        thread_local std::vector<std::string> messages;
        return static_cast<int>(dev->completions.take(out, max, timeout_ms, messages));
    });
}

}  // extern "C"
