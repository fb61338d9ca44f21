#include <granule/platform/readiness_watch.hpp>

// No Windows driver hands out a poll fd (raw-win32 completes from its IOCP
// thread), so the core never constructs a watch here.
namespace granule::platform {

struct readiness_watch::impl {};

readiness_watch::readiness_watch(boost::asio::any_io_executor, int) {}
readiness_watch::~readiness_watch() = default;
bool readiness_watch::available() noexcept { return false; }
void readiness_watch::async_wait(std::function<void(std::error_code)> done)
{
    done(std::make_error_code(std::errc::operation_not_supported));
}
void readiness_watch::cancel() {}

}  // namespace granule::platform
