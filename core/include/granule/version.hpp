// Versions of the library a program runs with, as against the headers it
// was compiled with (granule/version.h: GRANULE_VERSION_STRING; the driver
// ABI's GRANULE_DRIVER_ABI_VERSION). Tools print both in --version. Any
// thread; the strings have static storage.
#pragma once

#include <granule/export.hpp>
#include <granule/version.h>

#include <cstdint>

namespace granule {

// "MAJOR.MINOR.PATCH" of the libgranule loaded (the soname keeps MAJOR.MINOR
// the same as the headers' while 0.x; the patch level may differ).
GRANULE_API const char *library_version() noexcept;

// The driver ABI this libgranule loads: major << 16 | minor, as
// GRANULE_DRIVER_ABI_VERSION in driver_abi.h. Drivers of the same major and
// any minor load.
GRANULE_API std::uint32_t driver_abi_version() noexcept;

}  // namespace granule
