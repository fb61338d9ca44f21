// fuzz_io_commands: granule-io's command parser and its whole shell.
//
// The input is a granule-io script, one command per line (tests/scenarios/*.io
// are valid inputs; a first line "#! spec: OPTIONS" picks the device, if the
// filter below lets OPTIONS through). Proves, for any script:
// - split_words, parse_args, parse_number/parse_length/parse_pattern and
//   check_range (tools/granule-io/args.cpp) never crash, and their results
//   agree with their contracts (a length is never 0, a pattern is what strtol
//   reads, check_range is exactly "offset + length <= 2^63-1");
// - granule_io::shell::execute runs every line against an in-process device
//   (default: blkdebug align=512 over a 64 KiB memory node) without a crash, a
//   sanitizer report, a tracker invariant abort or a hang, whatever the
//   commands, numbers, options and aio interleavings.
//
// Lines that could only wait are not run (see runnable()): sleep, break and
// wait_break (a request parked at a breakpoint makes every later synchronous
// command wait 10 s before the shell rescues it, and wait_break waits 10 s for
// a request that never comes), and open/reopen except of memory, blkdebug and
// null-c nodes, fixed-size and small (no files, no throttle, no iscsi). Read
// and write lengths are capped at 1 MiB so buffers stay small; offsets are
// free (the devices are fixed-size, so a far offset is an error, not memory).
// The shell's output goes to /dev/null unless GRANULE_FUZZ_VERBOSE is set.
#include "fuzz_common.hpp"

#include "args.hpp"
#include "commands.hpp"
#include "shell.hpp"

#include <granule/options.hpp>

#include <cerrno>
#include <cstdint>
#include <algorithm>
#include <cstdlib>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace {

using granule_fuzz::fail;
using granule_fuzz::printable;

constexpr std::string_view default_spec = "driver=blkdebug,align=512,image.driver=memory,image.size=64k";
constexpr std::uint64_t max_bytes = 1 << 20;  // lengths, sizes and alignments

// Every parser of args.cpp on every word, with their contracts.
void check_parsers(const std::vector<std::string> &words)
{
    static constexpr granule_io::long_flag long_flags[] = {{"image-opts", 'i'}};
    for (std::string_view spec : {"P:qvm:", "P:qzm:", "ro:", "r", ""}) {
        std::string error;
        auto a = granule_io::parse_args("fuzz", words, spec, long_flags, error);
        if (!a) {
            if (error.rfind("fuzz: ", 0) != 0)
                fail("parse_args error does not name the command: " + printable(error));
            continue;
        }
        for (const auto &[letter, value] : a->options)
            if (letter != 'i' && std::string_view(spec).find(letter) == std::string_view::npos)
                fail(std::string("parse_args returned option -") + letter + " not in spec " +
                     std::string(spec));
    }
    constexpr std::uint64_t max = std::numeric_limits<std::int64_t>::max();
    for (const auto &w : words) {
        std::string error;
        auto n = granule_io::parse_number("fuzz", "offset", w, error);
        auto len = granule_io::parse_length("fuzz", w, error);
        if (len && *len == 0)
            fail("parse_length accepted 0 from " + printable(w));
        if (n.has_value() != (len.has_value() || (n && *n == 0)))
            fail("parse_number and parse_length disagree on " + printable(w));
        if (n) {
            for (std::uint64_t l : {std::uint64_t{1}, std::uint64_t{4096}, *n, max}) {
                bool ok = granule_io::check_range("fuzz", *n, l, error);
                if (ok != (*n <= max && l <= max - *n))
                    fail("check_range(" + std::to_string(*n) + ", " + std::to_string(l) +
                         ") is wrong");
            }
        }
        auto p = granule_io::parse_pattern("fuzz", w, error);
        char *end = nullptr;
        errno = 0;
        long v = w.empty() ? -1 : std::strtol(w.c_str(), &end, 0);
        bool want = !w.empty() && errno == 0 && *end == '\0' && v >= 0 && v <= 255;
        if (p.has_value() != want || (p && *p != v))
            fail("parse_pattern(" + printable(w) + ") differs from strtol");
    }
}

// open/reopen options this harness lets through: in-memory nodes, fixed size,
// small numbers.
bool safe_options(std::string_view text)
{
    auto opts = granule::parse_options(text);
    if (!opts)
        return true;  // refused before any device is touched
    for (const auto &[key, value] : *opts) {
        std::string_view last = key;
        if (auto dot = last.rfind('.'); dot != std::string_view::npos)
            last.remove_prefix(dot + 1);
        if (last == "driver") {
            if (value != "memory" && value != "blkdebug" && value != "null-c")
                return false;
        } else if (last == "size" || last == "align" || last == "mem-align" ||
                   last == "max-transfer") {
            if (auto n = granule::parse_size(value, "x"); n && *n > max_bytes)
                return false;
        } else if (!key.starts_with("inject-error.") && !key.starts_with("image.inject-error.")) {
            return false;  // filename, image=FILE, growable, backing, throttle.*, ...
        }
    }
    return true;
}

bool runnable(const std::vector<std::string> &words)
{
    if (words.empty())
        return true;
    const granule_io::command *cmd = granule_io::find_command(words[0]);
    if (!cmd)
        return true;  // "unknown command"
    std::string_view name = cmd->name;
    if (name == "sleep" || name == "break" || name == "wait_break")
        return false;
    // They end the process, as they should.
    if (name == "abort" || name == "sigraise")
        return false;
    std::span<const std::string> args(words.begin() + 1, words.end());
    if (name == "open" || name == "reopen") {
        // Parsed as cmd_open does: every -o value must be safe; a positional
        // is a filename (refused) unless --image-opts makes it options.
        static constexpr granule_io::long_flag long_flags[] = {{"image-opts", 'I'}};
        std::string error;
        auto a = granule_io::parse_args(name, args, name == "open" ? "rsCnkUt:d:i:o:" : "c:o:rw",
                                        long_flags, error);
        if (!a)
            return true;  // a usage error
        for (const auto &[letter, value] : a->options)
            if (letter == 'o' && !safe_options(value))
                return false;
        for (const auto &p : a->positional)
            if (!a->has('I') || !safe_options(p))
                return false;
        return true;
    }
    static constexpr std::string_view data_commands[] = {"read",  "readv",    "write",
                                                         "writev", "aio_read", "aio_write"};
    if (std::find(std::begin(data_commands), std::end(data_commands), name) ==
        std::end(data_commands))
        return true;
    // Every data command's options (a superset: a line this accepts may
    // still be a usage error there, which is harmless).
    std::string error;
    auto a = granule_io::parse_args(name, args, "bcCfinpP:qs:l:uvzm:", {}, error);
    if (!a)
        return true;  // a usage error
    // write -s FILE reads a file (/dev/stdin would wait forever).
    if (a->has('s') && name.find("write") != std::string_view::npos)
        return false;
    std::uint64_t total = 0;
    for (std::size_t i = 1; i < a->positional.size(); ++i) {
        auto n = granule::parse_size(a->positional[i], "length");
        if (n && (*n > max_bytes || (total += *n) > 4 * max_bytes))
            return false;
    }
    return true;
}

// The first line "#! spec: OPTIONS", as in tests/scenarios, when safe.
std::string spec_of(std::string_view script)
{
    constexpr std::string_view tag = "#! spec: ";
    if (script.starts_with(tag)) {
        auto line = script.substr(tag.size(), script.find('\n') - tag.size());
        if (granule::parse_options(line) && safe_options(line) &&
            line.find("driver=") != std::string_view::npos)
            return std::string(line);
    }
    return std::string(default_spec);
}

}  // namespace

namespace {
// The shell's diagnostics (qemu-io sends them to stderr) go here unless
// GRANULE_FUZZ_VERBOSE: libFuzzer's and the sanitizers' reports keep stderr.
std::FILE *shell_errors = stderr;
}  // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    granule_fuzz::use_build_drivers();
    if (!std::getenv("GRANULE_FUZZ_VERBOSE")) {
        if (!std::freopen("/dev/null", "w", stdout))
            fail("cannot send stdout to /dev/null");
        shell_errors = std::fopen("/dev/null", "w");
        if (!shell_errors)
            fail("cannot open /dev/null");
    }
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    std::string_view script(reinterpret_cast<const char *>(data), size);
    granule_io::shell sh(false);
    sh.out().set_error_stream(shell_errors);
    auto opts = granule::parse_options(spec_of(script));
    if (!opts)
        fail("spec does not parse");
    if (auto r = sh.open(*opts, false); !r && spec_of(script) == default_spec)
        fail("cannot open the default device " + std::string(default_spec) + ": " +
             r.error().message);
    while (!script.empty()) {
        auto nl = script.find('\n');
        std::string_view line = script.substr(0, nl);
        script.remove_prefix(nl == std::string_view::npos ? script.size() : nl + 1);
        std::string error;
        auto words = granule_io::split_words(line, error);
        if (!words)
            continue;
        check_parsers(*words);
        if (!runnable(*words))
            continue;
        if (sh.execute(line) == granule_io::shell::outcome::quit)
            break;
    }
    sh.close();
    return 0;
}
