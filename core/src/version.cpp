#include <granule/driver_abi.h>
#include <granule/version.hpp>

namespace granule {

const char *library_version() noexcept { return GRANULE_VERSION_STRING; }

std::uint32_t driver_abi_version() noexcept { return GRANULE_DRIVER_ABI_VERSION; }

}  // namespace granule
