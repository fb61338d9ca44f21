#include "registry.hpp"

#include <granule/options.hpp>
#include <granule/platform/shared_library.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <set>

namespace granule {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view file_prefix = "granule-driver-";

// Why a file in a driver directory is not a candidate, or empty when it is.
std::string not_a_candidate(const fs::path &p)
{
    auto name = p.filename().string();
    if (name.compare(0, file_prefix.size(), file_prefix) != 0)
        return "not named " + std::string(file_prefix) + "<name>" +
               platform::shared_library_suffix() + ", so not loaded";
    if (p.extension() != platform::shared_library_suffix())
        return "does not end in " + std::string(platform::shared_library_suffix()) +
               ", so not loaded";
    return {};
}

std::vector<driver_search_dir> default_dirs()
{
    std::vector<driver_search_dir> dirs;
    // Relative to the library, never a path from the build machine: an
    // installed library loads only its own prefix's drivers.
    auto here = platform::this_module_dir();
    if (!here.empty())
        dirs.push_back({(here / GRANULE_DRIVER_DIR_FROM_LIBRARY).lexically_normal(),
                        "beside libgranule"});
    if (const char *env = std::getenv("GRANULE_DRIVER_PATH")) {
        std::string_view list(env);
        while (!list.empty()) {
            auto sep = list.find(platform::path_list_separator());
            auto item = list.substr(0, sep);
            if (!item.empty())
                dirs.push_back({fs::path(std::string(item)), "GRANULE_DRIVER_PATH"});
            if (sep == std::string_view::npos)
                break;
            list.remove_prefix(sep + 1);
        }
    }
    return dirs;
}

// Why a driver of another major version cannot load, naming both versions.
std::string abi_mismatch(std::uint32_t found)
{
    const auto major = GRANULE_ABI_MAJOR_OF(found);
    std::string why = "built for driver ABI " + abi_version_text(found);
    if (major == 0)
        why += " (a development ABI from before the 1.0 freeze)";
    why += "; this Granule speaks driver ABI " + abi_version_text(GRANULE_DRIVER_ABI_VERSION) +
           ", which loads drivers built for " + std::to_string(GRANULE_DRIVER_ABI_MAJOR) +
           ".x only: rebuild the driver against this Granule's headers";
    return why;
}

bool has_dir_separator(std::string_view name)
{
    return name.find('/') != std::string_view::npos
#ifdef _WIN32
           || name.find('\\') != std::string_view::npos
#endif
        ;
}

}  // namespace

std::string abi_version_text(std::uint32_t version)
{
    return std::to_string(GRANULE_ABI_MAJOR_OF(version)) + "." +
           std::to_string(GRANULE_ABI_MINOR_OF(version));
}

driver_registry &driver_registry::instance()
{
    static driver_registry registry;
    return registry;
}

driver_registry::driver_registry() : dirs_(default_dirs())
{
    std::set<fs::path> seen;
    for (const auto &dir : dirs_) {
        std::error_code ec;
        auto canon = fs::weakly_canonical(dir.dir, ec);
        if (ec || !seen.insert(canon).second)
            continue;
        scan(dir);
    }
}

void driver_registry::scan(const driver_search_dir &dir)
{
    std::error_code ec;
    if (!fs::is_directory(dir.dir, ec)) {
        refusals_.push_back({dir.dir, dir.dir.string() + " [" + dir.origin + "]: " +
                                          (fs::exists(dir.dir, ec) ? "not a directory"
                                                                   : "no such directory")});
        return;
    }
    std::vector<fs::path> files;
    for (const auto &e : fs::directory_iterator(dir.dir, ec)) {
        if (auto why = not_a_candidate(e.path()); why.empty())
            files.push_back(e.path());
        else if (e.is_regular_file(ec) || e.is_symlink(ec))
            refusals_.push_back({e.path(), e.path().string() + ": " + why});
    }
    // Directory order is arbitrary; sorted order makes refusals reproducible.
    std::sort(files.begin(), files.end());
    std::vector<driver_entry> here;
    for (const auto &f : files)
        if (auto d = load(f, refusals_))
            here.push_back(std::move(*d));
    // Two files of one directory claiming one name: refuse both, since which
    // one the user meant is unknowable.
    std::set<std::string> refused;
    for (std::size_t i = 0; i < here.size(); ++i)
        for (std::size_t j = i + 1; j < here.size(); ++j)
            if (std::strcmp(here[i].table.name, here[j].table.name) == 0) {
                std::string name = here[i].table.name;
                auto why = "duplicate driver name '" + name + "' in " + here[i].file.string() +
                           " and " + here[j].file.string();
                refusals_.push_back({here[i].file, why});
                refusals_.push_back({here[j].file, why});
                refused.insert(name);
            }
    // An earlier directory shadows a later one (the library's own first).
    for (auto &d : here) {
        if (refused.count(d.table.name))
            continue;
        auto other = std::find_if(drivers_.begin(), drivers_.end(), [&](const auto &o) {
            return std::strcmp(o.table.name, d.table.name) == 0;
        });
        if (other == drivers_.end())
            drivers_.push_back(std::move(d));
        else
            refusals_.push_back({d.file,
                                 d.file.string() + ": driver '" + d.table.name +
                                     "' is already provided by " + other->file.string(),
                                 true});
    }
}

std::optional<driver_entry> driver_registry::load(const fs::path &file,
                                                  std::vector<driver_refusal> &refusals) const
{
    auto sym = platform::load_symbol(file, GRANULE_DRIVER_ENTRY_SYMBOL);
    if (!sym.address) {
        refusals.push_back({file, sym.error});
        return std::nullopt;
    }
    auto entry = reinterpret_cast<granule_driver_entry_fn>(sym.address);
    const granule_driver *table = entry();
    auto refuse = [&](std::string why) {
        refusals.push_back({file, file.string() + ": " + why});
        return std::nullopt;
    };
    if (!table)
        return refuse("granule_driver_entry returned no driver table");
    if (GRANULE_ABI_MAJOR_OF(table->abi_version) != GRANULE_DRIVER_ABI_MAJOR)
        return refuse(abi_mismatch(table->abi_version));
    // The mandatory members end where refresh_limits starts.
    if (table->struct_size < offsetof(granule_driver, refresh_limits))
        return refuse("driver table too small (" + std::to_string(table->struct_size) +
                      " bytes; the mandatory members of ABI 1.0 take " +
                      std::to_string(offsetof(granule_driver, refresh_limits)) + ")");
    driver_entry d;
    std::memcpy(&d.table, table, std::min<std::size_t>(table->struct_size, sizeof d.table));
    if (!d.table.name || !*d.table.name)
        return refuse("driver has no name");
    if (!d.table.open || !d.table.close || !d.table.length || !d.table.submit)
        return refuse("driver lacks one of open, close, length, submit");
    d.file = file;
    return d;
}

// driver=<path>: that file, whatever its name, loaded once per process.
result<const driver_entry *> driver_registry::load_path(std::string_view path) const
{
    std::error_code ec;
    fs::path file(std::string{path});
    auto canon = fs::weakly_canonical(file, ec);
    if (ec || !fs::is_regular_file(canon, ec))
        return make_error(ENOENT, "driver file '" + std::string(path) + "': no such file");
    std::lock_guard lock(by_path_mutex_);
    for (const auto &d : by_path_)
        if (d.file == canon)
            return &d;
    std::vector<driver_refusal> why;
    auto d = load(canon, why);
    if (!d)
        return make_error(ENOENT, "driver file refused: " + why.front().reason);
    by_path_.push_back(std::move(*d));
    return &by_path_.back();
}

result<const driver_entry *> driver_registry::find(std::string_view name) const
{
    if (has_dir_separator(name))
        return load_path(name);
    for (const auto &d : drivers_)
        if (name == d.table.name)
            return &d;
    auto expected_file = std::string(file_prefix) + std::string(name);
    for (const auto &r : refusals_)
        if (!r.shadowed && (r.file.stem().string() == expected_file ||
                            r.reason.find("'" + std::string(name) + "'") != std::string::npos))
            return make_error(ENOENT, "driver '" + std::string(name) + "' refused: " + r.reason);
    std::string msg = "unknown driver '" + std::string(name) + "' (available:";
    for (const auto &d : drivers_)
        msg += std::string(" ") + d.table.name;
    if (drivers_.empty())
        msg += " none";
    msg += "); searched";
    for (const auto &dir : dirs_)
        msg += " " + dir.dir.string() + " [" + dir.origin + "]";
    // Every file that was not taken, and why: a misnamed plugin or a typo in
    // GRANULE_DRIVER_PATH is then visible right here.
    constexpr std::size_t shown = 8;
    for (std::size_t i = 0; i < refusals_.size() && i < shown; ++i)
        msg += "; skipped " + refusals_[i].reason;
    if (refusals_.size() > shown)
        msg += "; and " + std::to_string(refusals_.size() - shown) +
               " more (granule-img drivers lists them)";
    return make_error(ENOENT, msg);
}

result<const driver_entry *> driver_registry::for_filename(std::string_view filename) const
{
    const driver_entry *plain = nullptr;
    for (const auto &d : drivers_) {
        for (auto p = d.table.prefixes; p && *p; ++p)
            if (filename.substr(0, std::strlen(*p)) == *p)
                return &d;
        if (d.table.claims_plain_filenames && !plain)
            plain = &d;
    }
    if (auto colon = filename.find("://"); colon != std::string_view::npos)
        return make_error(ENOENT, "no driver claims the URL scheme of '" +
                                      redact_secrets(filename) + "'");
    if (!plain)
        return make_error(ENOENT, "no driver for plain filenames is available (for '" +
                                      redact_secrets(filename) + "')");
    return plain;
}

}  // namespace granule
