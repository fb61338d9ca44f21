// granule-img drivers: every driver plugin this installation can load, with
// its file, ABI version, the filenames it claims and its options with their
// help (what the driver declares), the search path, and each file the loader
// skipped with the reason. Like nbdkit --dump-plugin, for all of them.
#include "subcommands.hpp"

#include <granule/drivers.hpp>

#include <cstdio>
#include <cstring>
#include <string>

namespace {

constexpr const char *usage_text =
    "usage: granule-img drivers [NAME]\n"
    "\n"
    "  Lists every driver found (GRANULE_DRIVER_PATH adds directories), its\n"
    "  file, ABI version, the filenames it claims and its options; with NAME,\n"
    "  only that driver. Then the directories searched and every file skipped,\n"
    "  with the reason.\n";

std::string join(const std::vector<std::string> &v)
{
    std::string out;
    for (const auto &s : v)
        out += (out.empty() ? "" : " ") + s;
    return out;
}

void print_driver(const granule::driver_info &d)
{
    std::printf("%s: %s\n", d.name.c_str(), d.description.c_str());
    std::printf("  file: %s\n", d.file.c_str());
    std::printf("  abi: %s\n", d.abi.c_str());
    if (!d.prefixes.empty() || d.plain_filenames)
        std::printf("  claims: %s%s%s\n", join(d.prefixes).c_str(),
                    d.prefixes.empty() || !d.plain_filenames ? "" : " ",
                    d.plain_filenames ? "plain filenames" : "");
    if (!d.children.empty())
        std::printf("  children: %s\n", join(d.children).c_str());
    std::printf("  options:\n");
    for (const auto &o : d.options) {
        std::string flags = o.type;
        if (o.required)
            flags += ", required";
        if (o.secret)
            flags += ", secret";
        std::printf("    %s%s (%s): %s\n", o.name.c_str(), o.prefix ? "*" : "", flags.c_str(),
                    o.help.c_str());
    }
    if (d.options.empty())
        std::printf("    (none)\n");
}

}  // namespace

int drivers_command(int argc, char **argv)
{
    const char *only = nullptr;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "-h") || !std::strcmp(argv[i], "--help")) {
            std::fputs(usage_text, stdout);
            return 0;
        }
        if (argv[i][0] == '-' || only) {
            std::fprintf(stderr, "granule-img drivers: unexpected argument '%s'\n%s", argv[i],
                         usage_text);
            return 2;
        }
        only = argv[i];
    }
    auto c = granule::list_drivers();
    bool found = false;
    for (const auto &d : c.drivers) {
        if (only && d.name != only)
            continue;
        if (found)
            std::printf("\n");
        print_driver(d);
        found = true;
    }
    if (only && !found) {
        std::fprintf(stderr, "granule-img drivers: no driver '%s' (see granule-img drivers)\n",
                     only);
        return 1;
    }
    if (only)
        return 0;
    std::printf("\nsearched:\n");
    for (const auto &s : c.search_path)
        std::printf("  %s (%s)\n", s.dir.c_str(), s.origin.c_str());
    if (!c.skipped.empty()) {
        std::printf("skipped:\n");
        for (const auto &s : c.skipped)
            std::printf("  %s\n", s.c_str());
    }
    return 0;
}
