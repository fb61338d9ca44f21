// The command table, plus the commands that manage the shell and the device
// rather than move data.
#include "commands.hpp"

#include "args.hpp"
#include "data_request.hpp"
#include "shell.hpp"

#include <granule/options.hpp>

#include <array>
#include <charconv>
#include <thread>

namespace granule_io {

namespace {

// Sorted by name, like qemu-io's, so `help` reads as an index.
constexpr std::array<command, 24> table{{
    {"aio_flush", "", "", "waits for all aio requests, then flushes the device", true,
     cmd_aio_flush},
    {"aio_read", "", "[-qv] [-P pattern] [-m misalign] off len [len...]",
     "starts a vectored read and returns; the completion prints its result", true, cmd_aio_read},
    {"aio_write", "", "[-fqz] [-un] [-P pattern] [-m misalign] off len [len...]",
     "starts a vectored write and returns; the completion prints its result", true,
     cmd_aio_write},
    {"break", "", "event tag", "suspends requests reaching a blkdebug event under tag", true,
     cmd_break},
    {"close", "c", "", "closes the device, after its aio requests completed", true, cmd_close},
    {"discard", "d", "[-q] off len", "discards a number of bytes at a specified offset", true,
     cmd_discard},
    {"flush", "f", "", "flushes the device to stable storage", true, cmd_flush},
    {"help", "?", "[command]", "help for one or all commands", false, cmd_help},
    {"info", "i", "", "prints the driver tree, length, flags and limits", true, cmd_info},
    {"length", "l", "", "prints the length of the device", true, cmd_length},
    {"map", "", "[off len]",
     "lists the extents that read as data or as zeroes (device::block_status)", true, cmd_map},
    {"open", "o", "[-r] [-o options | --image-opts] [spec]", "opens a device, closing the current one",
     false, cmd_open},
    {"quit", "q exit", "", "waits for aio requests and exits", false, cmd_quit},
    {"read", "r", "[-qv] [-P pattern] [-m misalign] off len",
     "reads a number of bytes at a specified offset", true, cmd_read},
    {"readv", "", "[-qv] [-P pattern] [-m misalign] off len [len...]",
     "reads into one buffer per len (a vectored read)", true, cmd_readv},
    {"reopen", "", "-o options",
     "changes options of the open device (e.g. cache.direct, throttle.*)", true, cmd_reopen},
    {"remove_break", "", "tag", "removes the breakpoint with tag", true, cmd_remove_break},
    {"resume", "", "tag", "resumes the request suspended at tag", true, cmd_resume},
    {"sleep", "", "milliseconds", "waits for a number of milliseconds", false, cmd_sleep},
    {"stats", "", "[-r]", "prints the device's counters (-r: then resets them)", true, cmd_stats},
    {"truncate", "t", "len", "changes the length of the device", true, cmd_truncate},
    {"wait_break", "", "tag", "waits (up to 10 s) until a request is suspended at tag", true,
     cmd_wait_break},
    {"write", "w", "[-fqz] [-un] [-P pattern] [-m misalign] off len",
     "writes a number of bytes at a specified offset", true, cmd_write},
    {"writev", "", "[-fqz] [-un] [-P pattern] [-m misalign] off len [len...]",
     "writes from one buffer per len (a vectored write)", true, cmd_writev},
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

bool invocation::usage() const { return fail("usage: " + usage_text(cmd)); }

bool invocation::fail(std::string_view line) const
{
    std::string text(line);
    text += '\n';
    sh.out().write(text);
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
            return inv.fail("help: unknown command '" + inv.args[0] + "'");
        }
        describe(*c);
        if (!c->aliases.empty()) {
            text += "aliases: " + std::string(c->aliases) + "\n";
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

bool cmd_open(const invocation &inv)
{
    std::string error;
    static constexpr long_flag long_flags[] = {{"image-opts", 'i'}};
    auto args = parse_args(inv.cmd.name, inv.args, "ro:", long_flags, error);
    if (!args) {
        inv.fail(error);
        return inv.usage();
    }
    const auto &pos = args->positional;
    const std::string *dotted = args->value('o');
    bool image_opts = args->has('i');
    if (pos.size() > 1 || (pos.empty() && !dotted) || (dotted && image_opts)) {
        return inv.usage();
    }

    std::string spec = dotted ? *dotted : pos[0];
    granule::options opts;
    if (dotted || image_opts) {
        auto parsed = granule::parse_options(spec);
        if (!parsed) {
            return inv.fail("open: can't open device " + granule::redact_secrets(spec) + ": " + error_text(parsed.error()));
        }
        opts = std::move(*parsed);
    }
    // qemu-io's "open -o options filename": the filename joins the options.
    if (!dotted && !image_opts) {
        opts["filename"] = pos[0];
    } else if (dotted && !pos.empty()) {
        if (!opts.emplace("filename", pos[0]).second) {
            return inv.fail("open: filename given both in -o and as '" + pos[0] + "'");
        }
        spec += " " + pos[0];
    }
    auto r = inv.sh.open(opts, args->has('r'));
    if (!r) {
        return inv.fail("open: can't open device " + granule::redact_secrets(spec) + ": " + error_text(r.error()));
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

bool cmd_info(const invocation &inv)
{
    if (!inv.args.empty()) {
        return inv.usage();
    }
    const granule::device &dev = *inv.sh.dev();
    std::string text = dev.describe();
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

bool cmd_sleep(const invocation &inv)
{
    if (inv.args.size() != 1) {
        return inv.usage();
    }
    const std::string &text = inv.args[0];
    std::uint64_t ms = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
    // A day bounds the duration well inside chrono's range.
    constexpr std::uint64_t max_ms = 24 * 3600 * 1000;
    if (ec != std::errc() || end != text.data() + text.size() || ms > max_ms) {
        return inv.fail("sleep: invalid duration '" + text + "': must be 0.." +
                        std::to_string(max_ms) + " milliseconds");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return true;
}

}  // namespace granule_io
