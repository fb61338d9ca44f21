// Brings a driver's C completion callback, called from any thread, back to
// the awaiting coroutine's executor (Asio's c_callback_wrapper idea).
#pragma once

#include <granule/driver_abi.h>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

namespace granule {

struct driver_result {
    std::int64_t value = 0;  // >= 0 success, < 0 -errno
    std::string message;     // the driver's detail, may be empty
};

namespace detail {

template <class Handler, class Executor>
struct pending_call {
    Handler handler;
    // Keeps the device's io_context running while the driver holds the call.
    boost::asio::executor_work_guard<Executor> work;

    static void complete(void *opaque, std::int64_t value, const char *message)
    {
        auto *self = static_cast<pending_call *>(opaque);
        driver_result r{value, message ? message : ""};
        auto ex = self->work.get_executor();
        boost::asio::post(ex, [self, r = std::move(r)]() mutable {
            std::unique_ptr<pending_call> owned(self);
            auto h = std::move(owned->handler);
            owned.reset();
            std::move(h)(std::move(r));
        });
    }
};

}  // namespace detail

// start(granule_completion_fn, void *opaque) -> int: 0 when the driver took
// the request (it will call back exactly once), or -errno when it refused it
// (it will not call back).
template <class Start>
boost::asio::awaitable<driver_result> call_driver(Start start)
{
    return boost::asio::async_initiate<const boost::asio::use_awaitable_t<> &,
                                       void(driver_result)>(
        [start = std::move(start)](auto handler) mutable {
            auto ex = boost::asio::get_associated_executor(handler);
            using pending = detail::pending_call<decltype(handler), decltype(ex)>;
            auto *p = new pending{std::move(handler), boost::asio::make_work_guard(ex)};
            int rc = start(&pending::complete, static_cast<void *>(p));
            if (rc < 0)
                pending::complete(p, rc, nullptr);
        },
        boost::asio::use_awaitable);
}

}  // namespace granule
