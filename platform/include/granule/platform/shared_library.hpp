// Loading driver plugins. Libraries stay loaded for the life of the process,
// so a driver's threads and callbacks never outlive its code.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace granule::platform {

// ".so" or ".dll"
const char *shared_library_suffix() noexcept;
// ':' or ';' between entries of GRANULE_DRIVER_PATH
char path_list_separator() noexcept;
// Directory of the library or executable containing this code.
std::filesystem::path this_module_dir();

struct loaded_symbol {
    void *address = nullptr;  // nullptr on failure
    std::string error;        // why, naming the file
};

// Loads path with immediate binding (a missing symbol fails here, not later)
// and returns the address of symbol.
loaded_symbol load_symbol(const std::filesystem::path &path, const char *symbol);

}  // namespace granule::platform
