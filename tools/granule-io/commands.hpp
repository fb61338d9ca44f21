// The command table and the handlers behind it. A handler prints its own
// output and error lines and returns false on failure; the shell turns that
// into the exit status. Before a handler runs, the shell checks what
// qemu-io's command() checks, with its messages: a device is open, the
// number of words after the name is within [argmin, argmax] (-1: no
// maximum; options count as words), and a writing command has a writable
// device.
#pragma once

#include <granule/error.hpp>

#include <span>
#include <string>
#include <string_view>

namespace granule_io {

class shell;
struct command;

struct invocation {
    shell &sh;
    const command &cmd;
    std::span<const std::string> args;  // the words after the command name

    // Prints qemu-io's usage line "<name> <args> -- <oneline>" and returns false.
    bool usage() const;
    // Prints line (a newline is added) on stdout and returns false.
    bool fail(std::string_view line) const;
    // The same on stderr, where qemu-io puts getopt's and error_report's lines.
    bool fail_stderr(std::string_view line) const;
    // A device call failed: qemu-io's "<what> failed: <strerror>" line, then
    // (shell::error_detail) Granule's explanation on stderr, when it says
    // more than the errno text. Returns false.
    bool io_failed(std::string_view what, const granule::error &e) const;
};

struct command {
    std::string_view name;
    std::string_view aliases;  // space-separated alternative names
    std::string_view args;
    std::string_view oneline;
    bool needs_device;
    int argmin;
    int argmax;   // -1: any number
    bool writes;  // refused on a read-only device, before parsing (qemu's ct->perm)
    bool (*run)(const invocation &);
    std::string_view extra;  // what granule-io adds or does differently
};

std::span<const command> command_table();
// By name or alias; nullptr if unknown.
const command *find_command(std::string_view name);

// commands.cpp
bool cmd_help(const invocation &);
bool cmd_quit(const invocation &);
bool cmd_open(const invocation &);
bool cmd_reopen(const invocation &);
bool cmd_map(const invocation &);
bool cmd_close(const invocation &);
bool cmd_info(const invocation &);
bool cmd_stats(const invocation &);
bool cmd_sleep(const invocation &);
bool cmd_abort(const invocation &);
bool cmd_sigraise(const invocation &);
// io_commands.cpp
bool cmd_read(const invocation &);
bool cmd_readv(const invocation &);
bool cmd_write(const invocation &);
bool cmd_writev(const invocation &);
bool cmd_discard(const invocation &);
bool cmd_flush(const invocation &);
bool cmd_length(const invocation &);
bool cmd_truncate(const invocation &);
bool cmd_alloc(const invocation &);
// aio_commands.cpp
bool cmd_aio_read(const invocation &);
bool cmd_aio_write(const invocation &);
bool cmd_aio_flush(const invocation &);
// debug_commands.cpp
bool cmd_break(const invocation &);
bool cmd_remove_break(const invocation &);
bool cmd_resume(const invocation &);
bool cmd_wait_break(const invocation &);

}  // namespace granule_io
