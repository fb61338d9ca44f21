// The driver plugins this process can use, with what each declares, and the
// files the loader skipped with the reason: what `granule-img drivers` shows.
#pragma once

#include <granule/export.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace granule {

struct driver_option_info {
    std::string name;
    std::string type;  // "string", "size", "bool", "int"
    bool required = false;
    bool prefix = false;  // a family of keys: "inject-error." matches "inject-error.0.event"
    bool secret = false;  // never printed
    std::string help;
};

struct driver_info {
    std::string name;
    std::string description;
    std::string file;
    std::string abi;  // the driver ABI it was built for, "major.minor"
    std::vector<std::string> children;  // child nodes it opens ("image")
    std::vector<std::string> prefixes;  // URL prefixes it claims ("iscsi://")
    bool plain_filenames = false;       // takes filenames no prefix claims
    std::vector<driver_option_info> options;
};

struct driver_search_entry {
    std::string dir;
    std::string origin;  // "beside libgranule", "GRANULE_DRIVER_PATH"
};

struct driver_catalogue {
    std::vector<driver_search_entry> search_path;  // in search order
    std::vector<driver_info> drivers;              // in search order
    std::vector<std::string> skipped;              // "FILE: why", one per file or directory
};

// Scans the search path on first use (like opening a device does).
GRANULE_API driver_catalogue list_drivers();

}  // namespace granule
