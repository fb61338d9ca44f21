// The one --version line of every Granule tool:
//   granule-img version 0.1.0 (Granule library 0.1.0, driver ABI 1.1)
// The tool's version is the one it was built as (granule/version.h); the
// library's and the driver ABI are those of the libgranule it runs with.
#pragma once

#include <granule/driver_abi.h>
#include <granule/version.hpp>

#include <string>

namespace granule_tools {

inline std::string version_line(const char *tool)
{
    const auto abi = granule::driver_abi_version();
    return std::string(tool) + " version " GRANULE_VERSION_STRING " (Granule library " +
           granule::library_version() + ", driver ABI " +
           std::to_string(GRANULE_ABI_MAJOR_OF(abi)) + "." +
           std::to_string(GRANULE_ABI_MINOR_OF(abi)) + ")";
}

}  // namespace granule_tools
