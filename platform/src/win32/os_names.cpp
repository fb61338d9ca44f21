#include <granule/platform/shared_library.hpp>

namespace granule::platform {

const char *shared_library_suffix() noexcept { return ".dll"; }
// ':' is part of drive letters (C:\...), so Windows lists use ';' like PATH.
char path_list_separator() noexcept { return ';'; }

}  // namespace granule::platform
