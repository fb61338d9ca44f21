// Shared by the harnesses: failing loudly, and finding this build's drivers.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

namespace granule_fuzz {

// A property does not hold: say which, then abort() so libFuzzer saves the input.
[[noreturn]] inline void fail(const std::string &what)
{
    std::fprintf(stderr, "\n==granule-fuzz== PROPERTY VIOLATED: %s\n", what.c_str());
    std::fflush(stderr);
    std::abort();
}

// Printable, for messages about fuzzer-made strings.
inline std::string printable(std::string_view s)
{
    std::string out = "\"";
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c >= 0x20 && c < 0x7f) {
            out += static_cast<char>(c);
        } else {
            char hex[8];
            std::snprintf(hex, sizeof hex, "\\x%02x", c);
            out += hex;
        }
    }
    return out + "\"";
}

// The sanitized plugins of this build come first: GRANULE_DRIVER_PATH is set
// to GRANULE_FUZZ_DRIVER_DIR unless the caller set it. The registry scans
// once, on first use, so this must run before the first device opens.
inline void use_build_drivers()
{
#ifdef GRANULE_FUZZ_DRIVER_DIR
    if (!std::getenv("GRANULE_DRIVER_PATH")) {
        std::error_code ec;
        if (!std::filesystem::is_directory(GRANULE_FUZZ_DRIVER_DIR, ec))
            fail(std::string("driver folder ") + GRANULE_FUZZ_DRIVER_DIR +
                 " is missing: build the driver plugins (cmake --build build-fuzz)");
        setenv("GRANULE_DRIVER_PATH", GRANULE_FUZZ_DRIVER_DIR, 1);
    }
#endif
}

// Known library bugs the generators steer around while fuzzing, so that one
// open bug does not stop the search for others: GRANULE_FUZZ_AVOID is a
// comma-separated list of names from tests/fuzz/known-bugs (run.sh sets it
// when fuzzing, never when replaying tests/fuzz/regressions).
inline bool avoiding(std::string_view bug)
{
    static const std::string list = [] {
        const char *v = std::getenv("GRANULE_FUZZ_AVOID");
        return "," + std::string(v ? v : "") + ",";
    }();
    return list.find("," + std::string(bug) + ",") != std::string::npos;
}

// FNV-1a: markers and seeds derived from the input, so a run is reproducible.
inline std::uint64_t hash(std::string_view s, std::uint64_t h = 1469598103934665603ull)
{
    for (unsigned char c : s) {
        h ^= c;
        h *= 1099511628211ull;
    }
    return h;
}

}  // namespace granule_fuzz
