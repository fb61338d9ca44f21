#include <granule/platform/readiness_watch.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <cstdint>

#include <unistd.h>

namespace granule::platform {

struct readiness_watch::impl {
    boost::asio::posix::stream_descriptor sd;
    std::uint64_t counter = 0;
};

readiness_watch::readiness_watch(boost::asio::any_io_executor ex, int fd)
    : impl_(new impl{boost::asio::posix::stream_descriptor(ex, ::dup(fd))})
{
}

readiness_watch::~readiness_watch() = default;

bool readiness_watch::available() noexcept { return true; }

void readiness_watch::async_wait(std::function<void(std::error_code)> done)
{
    // A read, not async_wait(wait_read): Asio's reactor tries a read first,
    // so a signal that arrived while no wait was queued is not lost.
    impl_->sd.async_read_some(boost::asio::buffer(&impl_->counter, sizeof impl_->counter),
                              [done = std::move(done)](boost::system::error_code ec, std::size_t) {
                                  done(ec ? std::error_code(ec.value(), std::generic_category())
                                          : std::error_code());
                              });
}

void readiness_watch::cancel()
{
    boost::system::error_code ignored;
    impl_->sd.cancel(ignored);
}

}  // namespace granule::platform
