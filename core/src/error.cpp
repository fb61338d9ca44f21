#include <granule/error.hpp>
#include <granule/platform/system_error.hpp>

namespace granule {

std::string errno_text(int code) { return platform::error_text(code); }

}  // namespace granule
