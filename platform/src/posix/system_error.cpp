#include <granule/platform/system_error.hpp>

#include <cerrno>
#include <cstring>

namespace granule::platform {

int last_error() noexcept { return errno; }

std::string error_text(int errno_value)
{
    char buf[256];
    // GNU strerror_r may return a static string instead of filling buf.
    const char *s = strerror_r(errno_value, buf, sizeof buf);
    return s;
}

}  // namespace granule::platform
