// The command table, plus the commands that manage the shell and the device
// rather than move data.
#include "commands.hpp"

#include "args.hpp"
#include "data_request.hpp"
#include "shell.hpp"

#include <granule/options.hpp>

#include "format.hpp"

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <thread>

namespace granule_io {

namespace {

// Sorted by name, like qemu-io's, so `help` reads as an index. Names,
// argument texts, one-line descriptions and argument counts are qemu-io
// 7.2's, so usage lines and `help` match its output; `extra` says what
// granule-io adds or does differently (printed by `help NAME`).
constexpr std::array<command, 27> table{{
    {"abort", "", "",
     "simulate a program crash using abort(3)", false, 0, 0, false, cmd_abort,
     ""},
    {"aio_flush", "", "",
     "completes all outstanding aio requests", true, 0, 0, false, cmd_aio_flush,
     "Granule: then flushes the device"},
    {"aio_read", "", "[-Ciqv] [-P pattern] off len [len..]",
     "asynchronously reads a number of bytes", true, 2, -1, false, cmd_aio_read,
     "Granule: -m misalign (buffers that many bytes past an aligned address)"},
    {"aio_write", "", "[-Cfiquz] [-P pattern] off len [len..]",
     "asynchronously writes a number of bytes", true, 2, -1, true, cmd_aio_write,
     "Granule: -n (with -z: no slow fallback), -m misalign"},
    {"alloc", "", "offset [count]",
     "checks if offset is allocated in the file", true, 1, 2, false, cmd_alloc,
     "allocated: held by the device's own node (only an overlay's holes over its backing are not)"},
    {"break", "", "event tag",
     "sets a breakpoint on event and tags the stopped request as tag", true, 2, 2, false, cmd_break,
     ""},
    {"close", "c", "",
     "close the current open file", true, 0, 0, false, cmd_close,
     ""},
    {"discard", "d", "[-Cq] off len",
     "discards a number of bytes at a specified offset", true, 2, -1, true, cmd_discard,
     ""},
    {"flush", "f", "",
     "flush all in-core file state to disk", true, 0, 0, false, cmd_flush,
     ""},
    {"help", "?", "[command]",
     "help for one or all commands", false, 0, 1, false, cmd_help,
     ""},
    {"info", "i", "",
     "prints information about the current file", true, 0, 0, false, cmd_info,
     "Granule: then the driver tree, length, flags and every limit"},
    {"length", "l", "",
     "gets the length of the current file", true, 0, 0, false, cmd_length,
     ""},
    {"map", "", "[off len]",
     "prints the allocated areas of a file", true, 0, 2, false, cmd_map,
     "Granule: off len maps a part only"},
    {"open", "o", "[-rsCnkU] [-t cache] [-d discard] [-o options] [path]",
     "open the file specified by path", false, 1, -1, false, cmd_open,
     "Granule: -i aio, --image-opts SPEC (dotted options); -s is refused (no snapshot layer)"},
    {"quit", "q exit", "",
     "exit the program", false, 0, 0, false, cmd_quit,
     ""},
    {"read", "r", "[-abCqv] [-P pattern [-s off] [-l len]] off len",
     "reads a number of bytes at a specified offset", true, 2, -1, false, cmd_read,
     "Granule: -m misalign; -a is not an option (nor in qemu-io); -b fails: no VM state"},
    {"readv", "", "[-Cqv] [-P pattern] off len [len..]",
     "reads a number of bytes at a specified offset", true, 2, -1, false, cmd_readv,
     "Granule: -m misalign"},
    {"remove_break", "", "tag",
     "remove a breakpoint by tag", true, 1, 1, false, cmd_remove_break,
     ""},
    {"reopen", "", "[(-r|-w)] [-c cache] [-o options]",
     "reopens an image with new options", true, 0, -1, false, cmd_reopen,
     "Granule: -r/-w/-c open the device again (aio requests complete first, breakpoints go)"},
    {"resume", "", "tag",
     "resumes the request tagged as tag", true, 1, 1, false, cmd_resume,
     ""},
    {"sigraise", "", "signal",
     "raises a signal", false, 1, 1, false, cmd_sigraise,
     ""},
    {"sleep", "", "",
     "waits for the given value in milliseconds", false, 1, 1, false, cmd_sleep,
     ""},
    {"stats", "", "[-r]",
     "prints the device's counters (-r: then resets them)", true, 0, 1, false, cmd_stats,
     "Granule's own command"},
    {"truncate", "t", "[-m prealloc_mode] off",
     "truncates the current file at the given offset", true, 1, 3, true, cmd_truncate,
     "Granule: falloc and full write zeroes over the new part; metadata is refused"},
    {"wait_break", "", "tag",
     "waits for the suspension of a request", true, 1, 1, false, cmd_wait_break,
     "Granule: fails after 10 s"},
    {"write", "w", "[-bcCfnquz] [-P pattern | -s source_file] off len",
     "writes a number of bytes at a specified offset", true, 2, -1, true, cmd_write,
     "Granule: -m misalign; -b and -c fail: no VM state, no compression"},
    {"writev", "", "[-Cfq] [-P pattern] off len [len..]",
     "writes a number of bytes at a specified offset", true, 2, -1, true, cmd_writev,
     "Granule: -z [-u] [-n] (zeroes, one len), -m misalign"},
}};

bool has_alias(std::string_view aliases, std::string_view name)
{
    while (!aliases.empty()) {
        auto end = aliases.find(' ');
        if (aliases.substr(0, end) == name) {
            return true;
        }
        if (end == std::string_view::npos) {
            break;
        }
        aliases.remove_prefix(end + 1);
    }
    return false;
}

std::string usage_text(const command &c)
{
    std::string s(c.name);
    if (!c.args.empty()) {
        s += ' ';
        s += c.args;
    }
    return s;
}

}  // namespace

std::span<const command> command_table() { return table; }

const command *find_command(std::string_view name)
{
    for (const auto &c : table) {
        if (c.name == name || has_alias(c.aliases, name)) {
            return &c;
        }
    }
    return nullptr;
}

bool invocation::usage() const
{
    return fail(usage_text(cmd) + " -- " + std::string(cmd.oneline));
}

bool invocation::fail(std::string_view line) const
{
    std::string text(line);
    text += '\n';
    sh.out().write(text);
    return false;
}

bool invocation::fail_stderr(std::string_view line) const
{
    std::string text(line);
    text += '\n';
    sh.out().error(text);
    return false;
}

bool invocation::io_failed(std::string_view what, const granule::error &e) const
{
    sh.report_failure(std::string(what) + " failed: ", e);
    return false;
}

bool cmd_help(const invocation &inv)
{
    if (inv.args.size() > 1) {
        return inv.usage();
    }
    std::string text;
    auto describe = [&text](const command &c) {
        text += usage_text(c) + " -- " + std::string(c.oneline) + "\n";
    };
    if (inv.args.empty()) {
        for (const auto &c : table) {
            describe(c);
        }
    } else {
        const command *c = find_command(inv.args[0]);
        if (!c) {
            return inv.fail("command " + inv.args[0] + " not found");
        }
        describe(*c);
        if (!c->aliases.empty()) {
            text += "aliases: " + std::string(c->aliases) + "\n";
        }
        if (!c->extra.empty()) {
            text += std::string(c->extra) + "\n";
        }
    }
    inv.sh.out().write(text);
    return true;
}

bool cmd_quit(const invocation &inv)
{
    if (!inv.args.empty()) {
        return inv.usage();
    }
    inv.sh.request_quit();
    return true;
}

// qemu-io's open: one device at a time (close the current one first), its
// mode options as the invocation's (qemu_compat.hpp).
bool cmd_open(const invocation &inv)
{
    if (inv.sh.dev())
        return inv.fail_stderr("granule-io: file open already, try 'help close'");
    std::string error;
    static constexpr long_flag long_flags[] = {{"image-opts", 'I'}};
    auto args = parse_args(inv.cmd.name, inv.args, "rsCnkUt:d:i:o:", long_flags, error);
    if (!args) {
        inv.fail_stderr(error);
        return inv.usage();
    }
    const auto &pos = args->positional;
    const std::string *dotted = args->value('o');
    bool image_opts = args->has('I');
    if (pos.size() > 1 || (pos.empty() && !dotted) || (dotted && image_opts)) {
        return inv.usage();
    }
    qemu_settings modes = inv.sh.qemu();
    for (const auto &[letter, value] : args->options) {
        granule::result<void> r;
        switch (letter) {
        case 'n': r = set_cache_mode(modes, "none"); break;
        case 't': r = set_cache_mode(modes, value); break;
        case 'k': r = set_aio_mode(modes, "native"); break;
        case 'i': r = set_aio_mode(modes, value); break;
        case 'd': r = check_discard_mode(value); break;
        case 's': r = refuse_snapshot(); break;
        default: break;  // -r below; -C and -U as the invocation's (accepted)
        }
        if (!r)
            return inv.fail_stderr("granule-io: " + r.error().message);
    }

    std::string spec = dotted ? *dotted : pos[0];
    granule::options opts;
    if (dotted || image_opts) {
        auto parsed = granule::parse_options(spec);
        if (!parsed) {
            return inv.fail_stderr("granule-io: can't open device " + granule::redact_secrets(spec) +
                                   ": " + error_text(parsed.error()));
        }
        opts = std::move(*parsed);
    }
    // qemu-io's "open -o options filename": the filename joins the options.
    if (!dotted && !image_opts) {
        opts["filename"] = pos[0];
    } else if (dotted && !pos.empty()) {
        if (!opts.emplace("filename", pos[0]).second) {
            return inv.fail_stderr("granule-io: filename given both in -o and as '" + pos[0] + "'");
        }
        spec = pos[0];
    }
    auto r = inv.sh.open(opts, args->has('r'), modes);
    if (!r) {
        return inv.fail_stderr("granule-io: can't open device " + granule::redact_secrets(spec) +
                               ": " + error_text(r.error()));
    }
    return true;
}

bool cmd_close(const invocation &inv)
{
    if (!inv.args.empty()) {
        return inv.usage();
    }
    inv.sh.close();
    return true;
}

// qemu-io's three lines for a raw image (Granule has no format layer, so no
// clusters and no VM state), then Granule's own: the node tree, flags and
// every limit.
bool cmd_info(const invocation &inv)
{
    const granule::device &dev = *inv.sh.dev();
    std::string text = "format name: raw\ncluster size: " + cvtstr(0) +
                       "\nvm state offset: " + cvtstr(0) + "\n";
    text += dev.describe();
    if (!text.empty() && text.back() != '\n') {
        text += '\n';
    }
    auto line = [&text](std::string_view name, const std::string &value) {
        text += std::string(name) + ": " + value + "\n";
    };
    auto yes_no = [](bool b) { return std::string(b ? "yes" : "no"); };
    line("length", std::to_string(dev.length()));
    line("read_only", yes_no(dev.read_only()));
    line("growable", yes_no(dev.growable()));
    auto l = dev.get_limits();
    for (const auto &f : granule::limit_fields)
        line(f.name, std::to_string(l.*f.member));
    inv.sh.out().write(text);
    return true;
}

bool cmd_stats(const invocation &inv)
{
    std::string error;
    auto args = parse_args(inv.cmd.name, inv.args, "r", {}, error);
    if (!args) {
        inv.fail(error);
        return inv.usage();
    }
    if (!args->positional.empty()) {
        return inv.usage();
    }
    granule::device &dev = *inv.sh.dev();
    auto s = dev.get_stats();
    std::string text;
    auto line = [&text](std::string_view name, std::uint64_t value) {
        text += std::string(name) + ": " + std::to_string(value) + "\n";
    };
    for (const auto &f : granule::stat_fields)
        line(f.name, s.*f.member);
    inv.sh.out().write(text);
    if (args->has('r')) {
        dev.reset_stats();
    }
    return true;
}

// qemu-io's sleep: strtol base 0, so 0x10 is 16 ms; a day at most here.
bool cmd_sleep(const invocation &inv)
{
    const std::string &text = inv.args[0];
    char *end = nullptr;
    errno = 0;
    long long ms = std::strtoll(text.c_str(), &end, 0);
    constexpr long long max_ms = 24 * 3600 * 1000;
    if (text.empty() || errno != 0 || *end != '\0' || ms < 0 || ms > max_ms) {
        return inv.fail(text + " is not a valid number");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return true;
}

// As qemu-io's: no cleanup, so stdio's unflushed output is lost with the
// process, like a crash's.
bool cmd_abort(const invocation &) { std::abort(); }

bool cmd_sigraise(const invocation &inv)
{
    std::string error;
    auto n = parse_number(inv.cmd.name, "signal", inv.args[0], error);
    if (!n)
        return inv.fail(error);
#ifdef NSIG
    constexpr std::uint64_t max_signal = NSIG;
#else
    constexpr std::uint64_t max_signal = 64;
#endif
    if (*n > max_signal)
        return inv.fail("signal argument '" + inv.args[0] + "' is too large to be a valid signal");
    // What qemu-io does before raise(): the output so far must reach the
    // reader even when the signal ends the process.
    inv.sh.out().flush();
    std::fflush(stderr);
    if (std::raise(static_cast<int>(*n)) != 0)
        return inv.fail("sigraise: " + std::string(std::strerror(errno)));
    return true;
}

}  // namespace granule_io
