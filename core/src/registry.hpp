// The process-wide set of driver plugins. Directories are scanned once, on
// first use, in this order: GRANULE_DRIVER_PATH entries, the build tree's
// drivers/ folder, <libdir>/granule/drivers beside libgranule. A file is a
// candidate when it is named granule-driver-<anything><.so|.dll>.
#pragma once

#include <granule/driver_abi.h>
#include <granule/error.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace granule {

struct driver_entry {
    granule_driver table{};  // copied from the plugin, zero-filled past its struct_size
    std::filesystem::path file;
};

struct driver_refusal {
    std::filesystem::path file;
    std::string reason;  // names the file
};

class driver_registry {
public:
    static driver_registry &instance();

    // The driver named name, or an error that says why not (including the
    // refusal of a file that would have provided it).
    result<const driver_entry *> find(std::string_view name) const;
    // The driver that claims a filename shorthand (URL prefix or plain file).
    result<const driver_entry *> for_filename(std::string_view filename) const;

    const std::vector<driver_entry> &drivers() const { return drivers_; }
    const std::vector<driver_refusal> &refusals() const { return refusals_; }
    std::vector<std::filesystem::path> search_path() const { return dirs_; }

private:
    driver_registry();
    void scan(const std::filesystem::path &dir);
    std::optional<driver_entry> load(const std::filesystem::path &file);

    std::vector<std::filesystem::path> dirs_;
    std::vector<driver_entry> drivers_;
    std::vector<driver_refusal> refusals_;
};

}  // namespace granule
