#include "data_request.hpp"

#include "args.hpp"
#include "format.hpp"
#include "shell.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace granule_io {

namespace {

struct command_shape {
    std::string_view options;  // getopt spec: qemu-io's for the command, plus m:
    bool is_write;
    bool vectored;
    std::string_view report_name;  // in "<name> failed: ..."
};

command_shape shape_of(data_command kind)
{
    switch (kind) {
    // -p: qemu-io's old "use pread/pwrite" switch, ignored there too.
    case data_command::read: return {"bCl:pP:qs:vm:", false, false, "read"};
    case data_command::readv: return {"CP:qvm:", false, true, "readv"};
    case data_command::write: return {"bcCfnpP:qs:uzm:", true, false, "write"};
    case data_command::writev: return {"CfqzunP:m:", true, true, "writev"};
    // qemu-io reports a failed aio_read as "readv failed".
    case data_command::aio_read: return {"CP:qvim:", false, true, "readv"};
    case data_command::aio_write: return {"CfiqzunP:m:", true, true, "aio_write"};
    }
    return {};
}

// The checks qemu-io makes before it parses numbers, in its order; the
// first failing one's line.
std::optional<std::string> conflicting_options(const parsed_args &a, const data_request &req,
                                               bool write_command)
{
    if (req.vmstate && req.zero)
        return "-b and -z cannot be specified at the same time";
    if (a.has('f') && (req.vmstate || req.compressed))
        return "-f and -b or -c cannot be specified at the same time";
    if (a.has('n') && !req.zero)
        return "-n requires -z to be specified";
    if (a.has('u') && !req.zero)
        return "-u requires -z to be specified";
    if (int(req.zero) + int(a.has('P')) + int(a.has('s') && req.is_write) > 1)
        return write_command ? "Only one of -z, -P, and -s can be specified at the same time"
                             : "-z and -P cannot be specified at the same time";
    if (req.zero && a.has('m'))
        return "-z and -m cannot be specified at the same time";
    return std::nullopt;
}

}  // namespace

parsed_data_request parse_data_request(const invocation &inv, data_command kind)
{
    const command_shape shape = shape_of(kind);
    std::string_view name = inv.cmd.name;
    std::string error;
    // As qemu-io's aio commands: -i is acted on as soon as getopt meets it.
    if (shape.options.find('i') != std::string_view::npos) {
        auto args = parse_args(name, inv.args, shape.options, {}, error);
        if (args && args->has('i')) {
            inv.sh.out().write(std::string("injecting invalid ") +
                               (shape.is_write ? "write" : "read") + " request\n");
            return {std::nullopt, true};
        }
    }
    auto args = parse_args(name, inv.args, shape.options, {}, error);
    if (!args) {
        inv.fail_stderr(error);
        inv.usage();
        return {};
    }
    const auto &pos = args->positional;
    if (pos.size() < 2 || (!shape.vectored && pos.size() != 2)) {
        inv.usage();
        return {};
    }

    data_request req;
    req.is_write = shape.is_write;
    req.report_name = shape.report_name;
    req.verbose = args->has('v');
    req.quiet = args->has('q');
    req.machine = args->has('C');
    req.zero = args->has('z');
    req.vmstate = args->has('b');
    req.compressed = args->has('c');
    if (shape.is_write && args->has('s'))
        req.source_file = *args->value('s');
    req.misalign = inv.sh.default_misalign();
    if (args->has('f'))
        req.flags = req.flags | granule::request_flags::fua;
    if (req.zero && args->has('u'))
        req.flags = req.flags | granule::request_flags::may_unmap;
    if (req.zero && args->has('n'))
        req.flags = req.flags | granule::request_flags::no_fallback;
    if (const auto *p = args->value('P')) {
        req.pattern = parse_pattern(name, *p, error);
        if (!req.pattern) {
            inv.fail(error);
            return {};
        }
    }
    if (auto conflict = conflicting_options(*args, req, kind == data_command::write)) {
        inv.fail(*conflict);
        return {};
    }
    std::optional<std::uint64_t> pattern_offset, pattern_count;
    if (!shape.is_write) {
        for (auto [letter, out] : {std::pair{'s', &pattern_offset}, std::pair{'l', &pattern_count}}) {
            if (const auto *v = args->value(letter)) {
                *out = parse_number(name, "pattern range", *v, error);
                if (!*out) {
                    inv.fail(error);
                    return {};
                }
            }
        }
    }
    if (const auto *m = args->value('m')) {
        auto v = parse_number(name, "misalignment", *m, error);
        if (!v) {
            inv.fail(error);
            return {};
        }
        if (*v >= buffer_base_alignment) {
            inv.fail(std::string(name) + ": invalid misalignment '" + *m + "': must be < " +
                     std::to_string(buffer_base_alignment));
            return {};
        }
        req.misalign = static_cast<std::size_t>(*v);
    }
    if (req.zero && pos.size() != 2) {
        inv.usage();
        return {};
    }

    auto offset = parse_number(name, "offset", pos[0], error);
    if (!offset) {
        inv.fail(error);
        return {};
    }
    req.offset = *offset;
    // The cap on one request: qemu-io's words for each command.
    const bool uncapped = req.zero && args->has('n');
    for (std::size_t i = 1; i < pos.size(); ++i) {
        auto len = parse_number(name, "length", pos[i], error);
        if (!len) {
            inv.fail(error);
            return {};
        }
        if (shape.vectored && *len > max_buffer_bytes) {
            inv.fail("Argument '" + pos[i] + "' exceeds maximum size " +
                     std::to_string(max_buffer_bytes));
            return {};
        }
        if (shape.vectored && req.total + *len > max_buffer_bytes) {
            inv.fail("The total number of bytes exceed the maximum size " +
                     std::to_string(max_buffer_bytes));
            return {};
        }
        if (!shape.vectored && *len > max_buffer_bytes && !uncapped) {
            inv.fail("length cannot exceed " + std::to_string(max_buffer_bytes) +
                     (shape.is_write ? " without -n" : "") + ", given " + pos[i]);
            return {};
        }
        req.lengths.push_back(*len);
        req.total += *len;
    }
    if (!shape.is_write) {
        if (!req.pattern && (pattern_offset || pattern_count)) {
            inv.usage();
            return {};
        }
        req.pattern_offset = pattern_offset.value_or(0);
        req.pattern_count = pattern_count.value_or(req.total - std::min(req.total, req.pattern_offset));
        if (req.pattern_offset > req.total || req.pattern_count > req.total - req.pattern_offset) {
            inv.fail("pattern verification range exceeds end of read data");
            return {};
        }
    }
    if (req.vmstate || req.compressed) {
        // qemu-io checks these against its 512-byte sectors.
        if (req.offset % 512) {
            inv.fail(std::to_string(req.offset) + " is not a sector-aligned value for 'offset'");
            return {};
        }
        if (req.total % 512) {
            inv.fail(std::to_string(req.total) + " is not a sector-aligned value for 'count'");
            return {};
        }
    }
    return {std::move(req), false};
}

namespace {

// write -s: up to `len` bytes of the file (qemu-io repeats them to fill the
// buffer); its errors are qemu-io's, on stderr.
std::optional<std::vector<std::uint8_t>> read_pattern_file(const invocation &inv,
                                                           const std::string &name,
                                                           std::uint64_t len)
{
    std::FILE *f = std::fopen(name.c_str(), "rb");
    if (!f) {
        inv.fail_stderr(name + ": " + std::strerror(errno));
        return std::nullopt;
    }
    std::vector<std::uint8_t> data(static_cast<std::size_t>(len));
    std::size_t got = std::fread(data.data(), 1, data.size(), f);
    bool failed = std::ferror(f);
    int err = errno;
    std::fclose(f);
    if (failed) {
        inv.fail_stderr(name + ": " + std::strerror(err));
        return std::nullopt;
    }
    if (got == 0) {
        inv.fail_stderr(name + ": file is empty");
        return std::nullopt;
    }
    data.resize(got);
    return data;
}

}  // namespace

std::optional<buffer_list> allocate_buffers(const invocation &inv, const data_request &req)
{
    auto alignment = std::max<std::uint64_t>(buffer_base_alignment,
                                             inv.sh.dev()->get_limits().opt_mem_alignment);
    auto buffers = buffer_list::allocate(req.lengths, static_cast<std::size_t>(alignment),
                                         req.misalign);
    if (!buffers) {
        inv.fail(std::string(inv.cmd.name) + ": cannot allocate " + std::to_string(req.total) +
                 " bytes");
        return std::nullopt;
    }
    if (!req.source_file.empty()) {
        auto content = read_pattern_file(inv, req.source_file, req.total);
        if (!content)
            return std::nullopt;
        buffers->fill_repeating(*content);
        return buffers;
    }
    buffers->fill(req.is_write ? req.pattern.value_or(0xcd) : 0xab);
    return buffers;
}

bool report_empty(const invocation &inv, const data_request &req)
{
    bool ok = true;
    inv.sh.out().write(completion_text(req, nullptr, 0, std::chrono::nanoseconds(0),
                                       inv.sh.timing(), ok));
    return ok;
}

std::string completion_text(const data_request &req, const buffer_list *buffers,
                            std::uint64_t transferred, std::chrono::nanoseconds elapsed,
                            bool timing, bool &ok)
{
    std::string text;
    ok = true;
    if (!req.is_write && req.pattern && buffers &&
        !buffers->range_equal(req.pattern_offset, req.pattern_count, *req.pattern)) {
        // Like qemu-io: the checked range, not the first bad byte.
        text += "Pattern verification failed at offset " +
                std::to_string(req.offset + req.pattern_offset) + ", " +
                std::to_string(req.pattern_count) + " bytes\n";
        ok = false;
    }
    if (req.quiet) {
        return text;
    }
    if (req.verbose && buffers) {
        text += hexdump(buffers->gather(), req.offset);
    }
    text += report(req.is_write ? "wrote" : "read", req.offset, req.total, transferred, elapsed,
                   timing, req.machine);
    return text;
}

std::string error_text(const granule::error &e)
{
    return e.message.empty() ? granule::errno_text(e.code) : e.message;
}

}  // namespace granule_io
