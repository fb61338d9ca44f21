// The process-wide set of driver plugins. Directories are scanned once, on
// first use, in this order: the plugin dir relative to libgranule itself
// (GRANULE_DRIVER_DIR_FROM_LIBRARY: lib/granule/drivers beside lib/, in a
// build tree as in an install), then each GRANULE_DRIVER_PATH entry; an earlier
// directory's driver shadows a later one of the same name. A file is a
// candidate when it is named granule-driver-<anything><.so|.dll>; every other
// file there, every directory that does not exist and every shadowed or
// refused driver is kept with the reason (skipped()), for the "unknown
// driver" error and `granule-img drivers`. driver=<path> (a name holding a
// directory separator) loads that file.
#pragma once

#include <granule/driver_abi.h>
#include <granule/error.hpp>

#include <deque>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace granule {

struct driver_entry {
    granule_driver table{};  // copied from the plugin, zero-filled past its struct_size
    std::filesystem::path file;
};

// A file or directory the registry did not take a driver from.
struct driver_refusal {
    std::filesystem::path file;
    std::string reason;  // names the file
    bool shadowed = false;  // a good driver, hidden by an earlier one of its name
};

struct driver_search_dir {
    std::filesystem::path dir;
    std::string origin;  // "beside libgranule", "GRANULE_DRIVER_PATH"
};

// "1.1" for GRANULE_ABI_VERSION(1, 1).
std::string abi_version_text(std::uint32_t version);

class driver_registry {
public:
    static driver_registry &instance();

    // The driver named name, or an error that says why not (including the
    // refusal of a file that would have provided it).
    result<const driver_entry *> find(std::string_view name) const;
    // The driver that claims a filename shorthand (URL prefix or plain file).
    result<const driver_entry *> for_filename(std::string_view filename) const;

    const std::vector<driver_entry> &drivers() const { return drivers_; }
    const std::vector<driver_refusal> &skipped() const { return refusals_; }
    const std::vector<driver_search_dir> &search_path() const { return dirs_; }

private:
    driver_registry();
    void scan(const driver_search_dir &dir);
    std::optional<driver_entry> load(const std::filesystem::path &file,
                                     std::vector<driver_refusal> &refusals) const;
    result<const driver_entry *> load_path(std::string_view path) const;

    std::vector<driver_search_dir> dirs_;
    std::vector<driver_entry> drivers_;
    std::vector<driver_refusal> refusals_;
    // driver=<path> loads, at any time from any thread: a deque, so the
    // entries handed out stay where they are.
    mutable std::mutex by_path_mutex_;
    mutable std::deque<driver_entry> by_path_;
};

}  // namespace granule
