#include "config_file.hpp"

#include <granule/driver.hpp>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string_view>

namespace blkdebug_config {

namespace {

using granule::sdk::fail;

std::string_view trim(std::string_view s)
{
    const auto first = s.find_first_not_of(" \t\r");
    if (first == std::string_view::npos)
        return {};
    const auto last = s.find_last_not_of(" \t\r");
    return s.substr(first, last - first + 1);
}

}  // namespace

std::vector<std::pair<std::string, std::string>> read_rules(const std::string &path,
                                                            unsigned long first_rule)
{
    std::ifstream in(path);
    if (!in)
        fail(errno ? errno : ENOENT,
             "cannot read config file '" + path + "': " + std::strerror(errno ? errno : ENOENT));
    std::vector<std::pair<std::string, std::string>> out;
    std::string line;
    unsigned long rule = first_rule;
    bool in_rule = false;
    for (unsigned n = 1; std::getline(in, line); ++n) {
        auto where = [&] { return "config file '" + path + "' line " + std::to_string(n) + ": "; };
        std::string_view l = trim(line);
        if (l.empty() || l.front() == '#')
            continue;
        if (l.front() == '[') {
            if (l.back() != ']')
                fail(EINVAL, where() + "'" + std::string(l) + "' is not a [section]");
            const auto section = trim(l.substr(1, l.size() - 2));
            if (section != "inject-error")
                fail(EINVAL, where() + "section [" + std::string(section) +
                                 "] is not supported (only [inject-error]: Granule's blkdebug "
                                 "has no states)");
            in_rule = true;
            ++rule;
            continue;
        }
        const auto eq = l.find('=');
        if (eq == std::string_view::npos)
            fail(EINVAL, where() + "expected 'key = \"value\"', got '" + std::string(l) + "'");
        if (!in_rule)
            fail(EINVAL, where() + "'" + std::string(l) + "' comes before any [inject-error]");
        std::string key(trim(l.substr(0, eq)));
        std::string_view value = trim(l.substr(eq + 1));
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
            value = value.substr(1, value.size() - 2);
        std::string v(value);
        if (key == "sector") {
            // qemu's sectors are 512 bytes; Granule's rules take bytes.
            char *end = nullptr;
            errno = 0;
            unsigned long long s = std::strtoull(v.c_str(), &end, 0);
            if (v.empty() || *end || errno || s > (~0ULL >> 9))
                fail(EINVAL, where() + "sector '" + v + "' is not a sector number");
            key = "offset";
            v = std::to_string(s * 512);
        } else if (key == "immediately") {
            continue;  // Granule fails the request at the event either way
        } else if (key == "state" || key == "iotype") {
            fail(EINVAL, where() + "'" + key + "' is not supported (Granule's blkdebug has no "
                                               "states and matches every request type)");
        }
        out.emplace_back("inject-error." + std::to_string(rule - 1) + "." + key, v);
    }
    return out;
}

}  // namespace blkdebug_config
