#include <granule/platform/shared_library.hpp>

namespace granule::platform {

const char *shared_library_suffix() noexcept { return ".so"; }
char path_list_separator() noexcept { return ':'; }

}  // namespace granule::platform
