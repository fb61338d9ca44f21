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

bool is_candidate(const fs::path &p)
{
    auto name = p.filename().string();
    return name.compare(0, file_prefix.size(), file_prefix) == 0 &&
           p.extension() == platform::shared_library_suffix();
}

std::vector<fs::path> default_dirs()
{
    std::vector<fs::path> dirs;
    if (const char *env = std::getenv("GRANULE_DRIVER_PATH")) {
        std::string_view list(env);
        while (!list.empty()) {
            auto sep = list.find(platform::path_list_separator());
            auto item = list.substr(0, sep);
            if (!item.empty())
                dirs.emplace_back(std::string(item));
            if (sep == std::string_view::npos)
                break;
            list.remove_prefix(sep + 1);
        }
    }
#ifdef GRANULE_BUILD_DRIVER_DIR
    dirs.emplace_back(GRANULE_BUILD_DRIVER_DIR);
#endif
    auto here = platform::this_module_dir();
    if (!here.empty())
        dirs.push_back(here / "granule" / "drivers");
    return dirs;
}

}  // namespace

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
        auto canon = fs::weakly_canonical(dir, ec);
        if (ec || !seen.insert(canon).second)
            continue;
        scan(dir);
    }
}

void driver_registry::scan(const fs::path &dir)
{
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
        return;
    std::vector<fs::path> files;
    for (const auto &e : fs::directory_iterator(dir, ec))
        if (is_candidate(e.path()))
            files.push_back(e.path());
    // Directory order is arbitrary; sorted order makes refusals reproducible.
    std::sort(files.begin(), files.end());
    std::vector<driver_entry> here;
    for (const auto &f : files)
        if (auto d = load(f))
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
    // An earlier directory shadows a later one (GRANULE_DRIVER_PATH first).
    for (auto &d : here) {
        if (refused.count(d.table.name))
            continue;
        bool shadowed = std::any_of(drivers_.begin(), drivers_.end(), [&](const auto &other) {
            return std::strcmp(other.table.name, d.table.name) == 0;
        });
        if (!shadowed)
            drivers_.push_back(std::move(d));
    }
}

std::optional<driver_entry> driver_registry::load(const fs::path &file)
{
    auto sym = platform::load_symbol(file, GRANULE_DRIVER_ENTRY_SYMBOL);
    if (!sym.address) {
        refusals_.push_back({file, sym.error});
        return std::nullopt;
    }
    auto entry = reinterpret_cast<granule_driver_entry_fn>(sym.address);
    const granule_driver *table = entry();
    auto refuse = [&](std::string why) {
        refusals_.push_back({file, file.string() + ": " + why});
        return std::nullopt;
    };
    if (!table)
        return refuse("granule_driver_entry returned no driver table");
    if (table->abi_version != GRANULE_DRIVER_ABI_VERSION)
        return refuse("wrong ABI version (found " + std::to_string(table->abi_version) +
                      ", expected " + std::to_string(GRANULE_DRIVER_ABI_VERSION) + ")");
    if (table->struct_size < offsetof(granule_driver, flush))
        return refuse("driver table too small (" + std::to_string(table->struct_size) + " bytes)");
    driver_entry d;
    std::memcpy(&d.table, table, std::min<std::size_t>(table->struct_size, sizeof d.table));
    if (!d.table.name || !*d.table.name)
        return refuse("driver has no name");
    if (!d.table.open || !d.table.close || !d.table.length || !d.table.submit)
        return refuse("driver lacks one of open, close, length, submit");
    d.file = file;
    return d;
}

result<const driver_entry *> driver_registry::find(std::string_view name) const
{
    for (const auto &d : drivers_)
        if (name == d.table.name)
            return &d;
    std::string msg = "unknown driver '" + std::string(name) + "'";
    auto expected_file = std::string(file_prefix) + std::string(name);
    for (const auto &r : refusals_)
        if (r.file.stem().string() == expected_file || r.reason.find("'" + std::string(name) + "'") != std::string::npos)
            return make_error(ENOENT, "driver '" + std::string(name) + "' refused: " + r.reason);
    msg += " (available:";
    for (const auto &d : drivers_)
        msg += std::string(" ") + d.table.name;
    if (drivers_.empty())
        msg += " none; searched";
    if (drivers_.empty())
        for (const auto &dir : dirs_)
            msg += " " + dir.string();
    msg += ")";
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
