// granule-img info: the driver tree (device::describe(), with each driver's
// info lines), the format the bytes were taken for and why
// (device::format_probe()), the length and flags, then every limit of the device with
// where it came from (limits::sources: the driver that set it and how, the
// core's adjustments, or the default).
#include "info_json.hpp"
#include "open_device.hpp"
#include "output_format.hpp"
#include "subcommands.hpp"

#include <granule/device.hpp>
#include <granule/options.hpp>

#include <cstdio>
#include <string>
#include <string_view>

namespace {

constexpr const char *usage_text =
    "usage: granule-img info [--image-opts] [-r|--read-only] [--output=FMT] SPEC\n"
    "\n"
    "  SPEC            a filename (d.img, /dev/sdb), or dotted options\n"
    "                  (driver=raw-posix,filename=d.img,cache.direct=on); dotted\n"
    "                  options are recognised by 'driver=' or forced by --image-opts\n"
    "  -r, --read-only open read-only\n"
    "  --output=FMT    human (the default) or json (docs/granule-img.md: schema)\n";

}  // namespace

int info_command(int argc, char **argv)
{
    bool image_opts = false;
    granule::open_flags flags;
    std::string spec;
    auto format = granule_img::output_format::human;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "--image-opts") {
            image_opts = true;
        } else if (a == "-r" || a == "--read-only") {
            flags.read_only = true;
        } else if (a == "-h" || a == "--help") {
            std::fputs(usage_text, stdout);
            return 0;
        } else if (granule_img::is_output_option(a)) {
            std::string why;
            auto f = granule_img::parse_output_option(argc, argv, i, why);
            if (!f) {
                std::fprintf(stderr, "granule-img info: %s\n%s", why.c_str(), usage_text);
                return 2;
            }
            format = *f;
        } else if (a.size() > 1 && a[0] == '-') {
            std::fprintf(stderr, "granule-img info: unknown option '%s'\n%s", argv[i], usage_text);
            return 2;
        } else if (spec.empty()) {
            spec = a;
        } else {
            std::fprintf(stderr, "granule-img info: only one SPEC may be given\n%s", usage_text);
            return 2;
        }
    }
    if (spec.empty()) {
        std::fprintf(stderr, "granule-img info: SPEC missing\n%s", usage_text);
        return 2;
    }
    auto dev = open_device(spec, image_opts, flags);
    if (!dev) {
        std::fprintf(stderr, "granule-img info: can't open %s: %s\n",
                     granule::redact_secrets(spec).c_str(),
                     dev.error().message.c_str());
        return 1;
    }
    const granule::device &d = **dev;
    if (format == granule_img::output_format::json) {
        std::fputs(granule_img::info_json(spec, d).c_str(), stdout);
        return 0;
    }
    std::string tree = d.describe();
    if (!tree.empty() && tree.back() != '\n')
        tree += '\n';
    std::fputs(tree.c_str(), stdout);
    std::printf("format: %s\n", d.format_probe().describe().c_str());
    std::printf("length: %llu\nread_only: %s\ngrowable: %s\nlimits:\n",
                static_cast<unsigned long long>(d.length()), d.read_only() ? "yes" : "no",
                d.growable() ? "yes" : "no");
    const granule::limits l = d.get_limits();
    for (const auto &f : granule::limit_fields)
        std::printf("  %s: %llu (%s)\n", f.name, static_cast<unsigned long long>(l.*f.member),
                    l.source(f.id).c_str());
    return 0;
}
