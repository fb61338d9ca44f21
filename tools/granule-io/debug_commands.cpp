// blkdebug breakpoints: `break` parks requests reaching an event under a tag,
// `wait_break` waits until one is parked, `resume` lets it go on. Together
// with the aio_ commands they pin down an interleaving of requests.
#include "commands.hpp"
#include "data_request.hpp"
#include "shell.hpp"

#include <thread>

namespace granule_io {

namespace {

// qemu-io's failure lines: "Could not <what>: <strerror>".
bool debug_call(const invocation &inv,
                granule::result<void> (granule::device::*fn)(std::string_view),
                std::string_view tag, std::string_view failure_prefix)
{
    auto r = (inv.sh.dev()->*fn)(tag);
    if (!r) {
        inv.sh.report_failure(failure_prefix, r.error());
        return false;
    }
    return true;
}

}  // namespace

bool cmd_break(const invocation &inv)
{
    auto r = inv.sh.dev()->debug_breakpoint(inv.args[0], inv.args[1]);
    if (!r) {
        inv.sh.report_failure("Could not set breakpoint: ", r.error());
        return false;
    }
    inv.sh.remember_breakpoint(inv.args[1]);
    return true;
}

bool cmd_remove_break(const invocation &inv)
{
    return debug_call(inv, &granule::device::debug_remove_breakpoint, inv.args[0],
                      "Could not remove breakpoint " + inv.args[0] + ": ");
}

// qemu's blkdebug prints "Suspended request" when a request parks and
// "Resuming request" when it goes on. Here the request parks on the device's
// thread, so the lines come at the shell's own points, where they land in
// the same place of the output: the first wait_break (or resume) that sees
// it parked, and the resume.
void announce_suspended(const invocation &inv, const std::string &tag)
{
    if (inv.sh.note_suspended(tag)) {
        inv.sh.out().write("blkdebug: Suspended request '" + tag + "'\n");
    }
}

bool cmd_resume(const invocation &inv)
{
    const std::string &tag = inv.args[0];
    // Said before the resume: once resumed, the request's own lines (its
    // completion, on the device's thread) may come at any moment.
    if (inv.sh.dev()->debug_is_suspended(tag)) {
        announce_suspended(inv, tag);
        inv.sh.note_resumed(tag);
        inv.sh.out().write("blkdebug: Resuming request '" + tag + "'\n");
    }
    return debug_call(inv, &granule::device::debug_resume, tag, "Could not resume request: ");
}

bool cmd_wait_break(const invocation &inv)
{
    const std::string &tag = inv.args[0];
    // Polling, like qemu-io's wait_break; the timeout turns a script whose
    // request never reaches the event into a failure instead of a hang.
    constexpr auto timeout = std::chrono::seconds(10);
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!inv.sh.dev()->debug_is_suspended(tag)) {
        if (std::chrono::steady_clock::now() >= deadline) {
            return inv.fail(std::string(inv.cmd.name) + ": no request suspended at '" + tag +
                            "' after " + std::to_string(timeout.count()) + " s");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    announce_suspended(inv, tag);
    return true;
}

}  // namespace granule_io
