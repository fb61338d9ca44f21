// list_drivers(): the registry's view, in the public types of drivers.hpp.
#include <granule/drivers.hpp>

#include "registry.hpp"

namespace granule {

namespace {

const char *type_name(std::uint32_t type)
{
    switch (type) {
    case GRANULE_OPT_STRING: return "string";
    case GRANULE_OPT_SIZE: return "size";
    case GRANULE_OPT_BOOL: return "bool";
    case GRANULE_OPT_INT: return "int";
    }
    return "unknown";
}

std::vector<std::string> strings(const char *const *list)
{
    std::vector<std::string> out;
    for (auto p = list; p && *p; ++p)
        out.emplace_back(*p);
    return out;
}

driver_info describe(const driver_entry &d)
{
    const auto &t = d.table;
    driver_info info;
    info.name = t.name;
    info.description = t.description ? t.description : "";
    info.file = d.file.string();
    info.abi = abi_version_text(t.abi_version);
    info.children = strings(t.children);
    info.prefixes = strings(t.prefixes);
    info.plain_filenames = t.claims_plain_filenames != 0;
    for (std::uint32_t i = 0; t.options && i < t.n_options; ++i) {
        const auto &o = t.options[i];
        info.options.push_back({o.name ? o.name : "", type_name(o.type),
                                (o.flags & GRANULE_OPTF_REQUIRED) != 0,
                                (o.flags & GRANULE_OPTF_PREFIX) != 0,
                                (o.flags & GRANULE_OPTF_SECRET) != 0, o.help ? o.help : ""});
    }
    return info;
}

}  // namespace

driver_catalogue list_drivers()
{
    const auto &r = driver_registry::instance();
    driver_catalogue c;
    for (const auto &dir : r.search_path())
        c.search_path.push_back({dir.dir.string(), dir.origin});
    for (const auto &d : r.drivers())
        c.drivers.push_back(describe(d));
    for (const auto &s : r.skipped())
        c.skipped.push_back(s.reason);
    return c;
}

}  // namespace granule
