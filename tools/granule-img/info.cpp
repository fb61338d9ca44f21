// granule-img info: the driver tree (device::describe(), with each driver's
// info lines), the length and flags, then every limit of the device with
// where it came from. Sources are the "limit: value (source)" info lines of
// the drivers whose value is the device's; what no driver claims is the
// core's (a default, or raised to another limit).
#include "open_device.hpp"
#include "subcommands.hpp"

#include <granule/device.hpp>
#include <granule/options.hpp>

#include <algorithm>
#include <cstdlib>
#include <cstdio>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr const char *usage_text =
    "usage: granule-img info [--image-opts] [-r|--read-only] SPEC\n"
    "\n"
    "  SPEC            a filename (d.img, /dev/sdb), or dotted options\n"
    "                  (driver=raw-posix,filename=d.img,cache.direct=on); dotted\n"
    "                  options are recognised by 'driver=' or forced by --image-opts\n"
    "  -r, --read-only open read-only\n";

// One "key: value (source)" line a driver reported, and whose it is.
struct reported {
    std::string driver;
    std::string key;
    std::uint64_t value;
    std::string source;
};

std::size_t indent_of(std::string_view line)
{
    std::size_t n = 0;
    while (n < line.size() && line[n] == ' ')
        ++n;
    return n;
}

// "image: raw-posix (filename=d.img)" -> "raw-posix".
std::string driver_of(std::string_view node_line)
{
    node_line.remove_prefix(indent_of(node_line));
    if (auto p = node_line.find(" ("); p != std::string_view::npos)
        node_line = node_line.substr(0, p);
    if (auto p = node_line.rfind(": "); p != std::string_view::npos)
        node_line.remove_prefix(p + 2);
    return std::string(node_line);
}

// describe() prints a node at indent 2*depth, its info lines at 2*depth + 2,
// before its children: the node owning an info line is the nearest earlier
// line indented two spaces less.
std::vector<reported> parse_reported(const std::string &tree, std::vector<std::string> &owners)
{
    std::vector<std::string> lines;
    std::istringstream in(tree);
    for (std::string l; std::getline(in, l);)
        lines.push_back(l);
    std::vector<reported> out;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        std::string_view l = lines[i];
        std::size_t ind = indent_of(l);
        if (ind < 2)
            continue;
        // "key: 4096 (source)"; the source may hold parentheses itself.
        std::string owner;
        for (std::size_t j = i; j-- > 0;)
            if (indent_of(lines[j]) == ind - 2) {
                owner = driver_of(lines[j]);
                break;
            }
        if (!owner.empty() && std::find(owners.begin(), owners.end(), owner) == owners.end())
            owners.push_back(owner);
        std::string_view body = l.substr(ind);
        auto colon = body.find(": ");
        if (colon == std::string_view::npos)
            continue;
        auto open = body.find(" (", colon);
        if (open == std::string_view::npos || body.back() != ')')
            continue;
        std::string value(body.substr(colon + 2, open - colon - 2));
        if (value.empty() || value.find_first_not_of("0123456789") != std::string::npos)
            continue;
        out.push_back({owner, std::string(body.substr(0, colon)), std::stoull(value),
                       std::string(body.substr(open + 2, body.size() - open - 3))});
    }
    return out;
}

// The device's "copy-on-read: on (overlay-granularity N)" line: N, or 0.
std::uint64_t overlay_granularity(const std::string &tree)
{
    constexpr std::string_view marker = "(overlay-granularity ";
    auto p = tree.find(marker);
    return p == std::string::npos ? 0 : std::strtoull(tree.c_str() + p + marker.size(), nullptr, 10);
}

std::string source_of(const std::vector<reported> &rep, const std::vector<std::string> &owners,
                      std::string_view key, std::uint64_t value, const granule::limits &l,
                      std::uint64_t granularity)
{
    std::string s;
    for (const auto &r : rep)
        if (r.key == key && r.value == value)
            s += (s.empty() ? "" : "; ") + r.driver + ": " + r.source;
    if (!s.empty())
        return s;
    if (key == "request_alignment" && granularity && value == granularity)
        return "core: overlay-granularity";
    bool is_max = key == "max_transfer" || key == "max_pdiscard";
    if (is_max && value == 0)
        return "unlimited";
    if (key == "opt_transfer" && value == 0)
        return "no preference";
    if (!is_max && value == 1)
        return "default";
    // The core raises these so that its own buffers and splits stay valid.
    if (key == "opt_mem_alignment" && value == l.min_mem_alignment)
        return "core: min_mem_alignment";
    if ((key == "pwrite_zeroes_alignment" || key == "pdiscard_alignment") &&
        value == l.request_alignment)
        return "core: request_alignment";
    // Some node raised it without saying so: one that reported no line for it.
    std::string who;
    for (const auto &o : owners) {
        bool said = false;
        for (const auto &r : rep)
            said = said || (r.driver == o && r.key == key);
        if (!said)
            who += (who.empty() ? "" : " or ") + o;
    }
    return (who.empty() ? std::string("a driver") : who) + ": set by the driver's options";
}

}  // namespace

int info_command(int argc, char **argv)
{
    bool image_opts = false;
    granule::open_flags flags;
    std::string spec;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "--image-opts") {
            image_opts = true;
        } else if (a == "-r" || a == "--read-only") {
            flags.read_only = true;
        } else if (a == "-h" || a == "--help") {
            std::fputs(usage_text, stdout);
            return 0;
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
    std::string tree = d.describe();
    if (!tree.empty() && tree.back() != '\n')
        tree += '\n';
    std::fputs(tree.c_str(), stdout);
    std::printf("length: %llu\nread_only: %s\ngrowable: %s\nlimits:\n",
                static_cast<unsigned long long>(d.length()), d.read_only() ? "yes" : "no",
                d.growable() ? "yes" : "no");
    std::vector<std::string> owners;
    auto rep = parse_reported(tree, owners);
    granule::limits l = d.get_limits();
    for (const auto &f : granule::limit_fields) {
        const auto value = l.*f.member;
        std::printf("  %s: %llu (%s)\n", f.name, static_cast<unsigned long long>(value),
                    source_of(rep, owners, f.name, value, l, overlay_granularity(tree)).c_str());
    }
    return 0;
}
