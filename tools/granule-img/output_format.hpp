// --output=FORMAT of info, probe and bench: "human" (the default) or "json"
// (the schema is in docs/granule-img.md). Taken as --output=FMT or
// --output FMT, like qemu-img's.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace granule_img {

enum class output_format { human, json };

// argv[i] is "--output" or "--output=..."? Then the format (i advanced past
// a separate value), or nullopt with why set: a value missing or not one
// of the formats (named).
inline std::optional<output_format> parse_output_option(int argc, char **argv, int &i,
                                                        std::string &why)
{
    std::string_view a = argv[i];
    std::string_view value;
    if (a == "--output") {
        if (i + 1 >= argc) {
            why = "option '--output' needs a value (human or json)";
            return std::nullopt;
        }
        value = argv[++i];
    } else {
        value = a.substr(sizeof "--output=" - 1);
    }
    if (value == "human")
        return output_format::human;
    if (value == "json")
        return output_format::json;
    why = "--output: unknown format '" + std::string(value) + "' (human or json)";
    return std::nullopt;
}

inline bool is_output_option(std::string_view a)
{
    return a == "--output" || a.starts_with("--output=");
}

}  // namespace granule_img
