// Waits, on an Asio executor, until a driver's eventfd (see poll_fd in
// driver_abi.h) is signalled, consuming the signal. POSIX only; on other
// systems no driver hands out such an fd and available() is false.
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <functional>
#include <memory>
#include <system_error>

namespace granule::platform {

class readiness_watch {
public:
    // Watches a duplicate of fd; the driver keeps ownership of fd.
    readiness_watch(boost::asio::any_io_executor ex, int fd);
    ~readiness_watch();
    readiness_watch(const readiness_watch &) = delete;
    readiness_watch &operator=(const readiness_watch &) = delete;

    static bool available() noexcept;
    // Calls done(error) once the fd was signalled (error empty) or the wait
    // was cancelled (operation_aborted). One wait at a time.
    void async_wait(std::function<void(std::error_code)> done);
    void cancel();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace granule::platform
