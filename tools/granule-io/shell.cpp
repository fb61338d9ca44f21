#include "shell.hpp"

#include "args.hpp"
#include "commands.hpp"

#include <algorithm>
#include <cstring>
#include <functional>
#include <new>

namespace granule_io {

shell::outcome shell::execute(std::string_view line)
{
    auto first = std::find_if_not(line.begin(), line.end(), is_blank);
    if (first == line.end() || *first == '#') {
        return outcome::ok;
    }
    std::string error;
    auto words = split_words(line, error);
    if (!words) {
        out_.write(error + "\n");
        mark_failed();
        return outcome::failed;
    }
    if (words->empty())  // cannot happen after the check above; never index an empty line
        return outcome::ok;
    const command *cmd = find_command(words->front());
    if (!cmd) {
        out_.error("command \"" + words->front() + "\" not found\n");
        mark_failed();
        return outcome::failed;
    }
    // qemu-io's checks before any command, with its words: the name as typed.
    const std::string &typed = words->front();
    const int count = static_cast<int>(words->size()) - 1;
    bool ok = false;
    if (cmd->needs_device && !device_) {
        out_.error("no file open, try 'help open'\n");
    } else if (count < cmd->argmin || (cmd->argmax != -1 && count > cmd->argmax)) {
        std::string expected =
            cmd->argmax == -1 ? "at least " + std::to_string(cmd->argmin)
            : cmd->argmin == cmd->argmax
                ? std::to_string(cmd->argmin)
                : "between " + std::to_string(cmd->argmin) + " and " + std::to_string(cmd->argmax);
        out_.error("bad argument count " + std::to_string(count) + " to " + typed + ", expected " +
                   expected + " arguments\n");
    } else if (cmd->writes && device_->read_only()) {
        out_.error("granule-io: Block node is read-only\n");
    } else {
        std::string name(cmd->name);
        try {
            ok = cmd->run(invocation{*this, *cmd, std::span(*words).subspan(1)});
        } catch (const std::bad_alloc &) {
            out_.write(name + ": out of memory\n");
        } catch (const std::exception &e) {
            out_.write(name + ": " + e.what() + "\n");
        }
    }
    if (!ok) {
        mark_failed();
    }
    if (quit_) {
        return outcome::quit;
    }
    return ok ? outcome::ok : outcome::failed;
}

void shell::report_failure(std::string_view prefix, const granule::error &e)
{
    const std::string errno_text = granule::errno_text(e.code);
    out_.write(std::string(prefix) + errno_text + "\n");
    if (error_detail_ && !e.message.empty() && e.message != errno_text)
        out_.error("granule-io: " + e.message + "\n");
}

granule::result<void> shell::open(const granule::options &opts, bool read_only,
                                   const qemu_settings &modes)
{
    auto translated = from_qemu(opts, modes);
    if (!translated) {
        return translated.error();
    }
    auto r = granule::device::open(*translated, granule::open_flags{.read_only = read_only});
    if (!r) {
        return r.error();
    }
    device_ = std::move(*r);
    opened_opts_ = opts;
    opened_read_only_ = read_only;
    opened_modes_ = modes;
    return {};
}

granule::result<void> shell::reopen_with(std::optional<bool> read_only,
                                         std::optional<std::string_view> cache_mode)
{
    qemu_settings modes = opened_modes_;
    if (cache_mode) {
        if (auto r = set_cache_mode(modes, *cache_mode); !r)
            return r;
    }
    auto opts = opened_opts_;
    const bool ro = read_only.value_or(opened_read_only_);
    close();
    if (auto r = open(opts, ro, modes); !r) {
        // Back as it was, so the script's later commands still have a device.
        (void)open(opts, opened_read_only_, opened_modes_);
        return r;
    }
    return {};
}

// Waits until no aio request is outstanding. When the count stops moving
// for aio_stall_limit while a request is parked at a breakpoint, on_stall
// decides: true to go on waiting (it resumed the request), false to give up.
bool shell::drain_aio(const std::function<bool(const std::string &tag)> &on_stall)
{
    auto last = aio_.outstanding();
    auto since = std::chrono::steady_clock::now();
    while (!aio_.wait_idle_for(std::chrono::milliseconds(10))) {
        auto now = std::chrono::steady_clock::now();
        if (auto n = aio_.outstanding(); n != last) {
            last = n;
            since = now;
        } else if (now - since >= aio_stall_limit) {
            if (auto tag = suspended_tag(); tag && !on_stall(*tag)) {
                return false;
            }
            since = now;
        }
    }
    return true;
}

void shell::close()
{
    if (!device_) {
        return;
    }
    // Requests the throttle holds go now: waiting for them would sit out the
    // throttle's whole schedule (issue 9: a quit that never ended).
    device_->lift_throttle();
    drain_aio([this](const std::string &tag) {
        out_.write("granule-io: resuming the request suspended at '" + tag +
                   "' so the device can close\n");
        mark_failed();
        (void)device_->debug_resume(tag);
        return true;
    });
    device_.reset();
    breakpoint_tags_.clear();
}

void shell::remember_breakpoint(std::string_view tag)
{
    if (std::find(breakpoint_tags_.begin(), breakpoint_tags_.end(), tag) == breakpoint_tags_.end()) {
        breakpoint_tags_.emplace_back(tag);
    }
}

std::optional<std::string> shell::suspended_tag() const
{
    if (!device_) {
        return std::nullopt;
    }
    for (const auto &tag : breakpoint_tags_) {
        if (device_->debug_is_suspended(tag)) {
            return tag;
        }
    }
    return std::nullopt;
}

bool shell::wait_aio(std::string_view cmd)
{
    // A parked request only moves on `resume`, which this thread would have
    // to run: waiting longer can't help.
    return drain_aio([&](const std::string &tag) {
        out_.write(std::string(cmd) + ": a request is suspended at breakpoint '" + tag +
                   "' and can't complete; resume it first\n");
        return false;
    });
}

void shell::rescue_stalled(std::string_view cmd)
{
    if (auto tag = suspended_tag()) {
        out_.write(std::string(cmd) + ": a request is suspended at breakpoint '" + *tag +
                   "' while a synchronous command waits; resuming it (use aio_ commands to "
                   "interleave)\n");
        mark_failed();
        (void)device_->debug_resume(*tag);
    }
}

}  // namespace granule_io
