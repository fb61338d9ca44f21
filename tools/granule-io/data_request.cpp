#include "data_request.hpp"

#include "args.hpp"
#include "format.hpp"
#include "shell.hpp"

#include <algorithm>
#include <cstring>

namespace granule_io {

std::optional<data_request> parse_data_request(const invocation &inv, bool is_write,
                                               bool vectored)
{
    std::string_view name = inv.cmd.name;
    std::string error;
    // -p: qemu-io's old "use pread/pwrite" switch, accepted and ignored there too.
    auto args = parse_args(name, inv.args, is_write ? "P:qzm:funp" : "P:qvm:p", {}, error);
    if (!args) {
        inv.fail(error);
        inv.usage();
        return std::nullopt;
    }
    const auto &pos = args->positional;
    if (pos.size() < 2 || (!vectored && pos.size() != 2)) {
        inv.usage();
        return std::nullopt;
    }

    data_request req;
    req.is_write = is_write;
    req.verbose = args->has('v');
    req.quiet = args->has('q');
    req.zero = args->has('z');
    req.misalign = inv.sh.default_misalign();
    if (args->has('f'))
        req.flags = req.flags | granule::request_flags::fua;
    // As qemu-io: -u and -n only mean something for zeroing.
    for (auto [opt, flag] : {std::pair{'u', granule::request_flags::may_unmap},
                             std::pair{'n', granule::request_flags::no_fallback}}) {
        if (!args->has(opt))
            continue;
        if (!req.zero) {
            inv.fail(std::string(name) + ": -" + opt + " requires -z to be specified");
            return std::nullopt;
        }
        req.flags = req.flags | flag;
    }
    if (const auto *p = args->value('P')) {
        req.pattern = parse_pattern(name, *p, error);
        if (!req.pattern) {
            inv.fail(error);
            return std::nullopt;
        }
    }
    if (const auto *m = args->value('m')) {
        auto v = parse_number(name, "misalignment", *m, error);
        if (!v) {
            inv.fail(error);
            return std::nullopt;
        }
        if (*v >= buffer_base_alignment) {
            inv.fail(std::string(name) + ": invalid misalignment '" + *m + "': must be < " +
                     std::to_string(buffer_base_alignment));
            return std::nullopt;
        }
        req.misalign = static_cast<std::size_t>(*v);
    }
    if (req.zero && req.pattern) {
        inv.fail(std::string(name) + ": -z and -P cannot be specified at the same time");
        return std::nullopt;
    }
    if (req.zero && args->has('m')) {
        inv.fail(std::string(name) + ": -z and -m cannot be specified at the same time");
        return std::nullopt;
    }
    if (req.zero && pos.size() != 2) {
        inv.fail(std::string(name) + ": -z takes exactly one length");
        return std::nullopt;
    }

    auto offset = parse_number(name, "offset", pos[0], error);
    if (!offset) {
        inv.fail(error);
        return std::nullopt;
    }
    req.offset = *offset;
    for (std::size_t i = 1; i < pos.size(); ++i) {
        auto len = parse_number(name, "length", pos[i], error);
        // Both checks bound len and total by 2^63 - 1, so the sum can't wrap.
        if (!len || !check_range(name, req.offset, *len, error) ||
            !check_range(name, req.offset, req.total + *len, error)) {
            inv.fail(error);
            return std::nullopt;
        }
        req.lengths.push_back(*len);
        req.total += *len;
    }
    if (!req.zero && req.total > max_buffer_bytes) {
        inv.fail("length cannot exceed " + std::to_string(max_buffer_bytes) + ", given " +
                 std::to_string(req.total));
        return std::nullopt;
    }
    return req;
}

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
    if (!req.is_write && req.pattern && buffers && !buffers->all_equal(*req.pattern)) {
        // Like qemu-io: the request's range, not the first bad byte.
        text += "Pattern verification failed at offset " + std::to_string(req.offset) + ", " +
                std::to_string(req.total) + " bytes\n";
        ok = false;
    }
    if (req.quiet) {
        return text;
    }
    if (req.verbose && buffers) {
        text += hexdump(buffers->gather(), req.offset);
    }
    text += report(req.is_write ? "wrote" : "read", req.offset, req.total, transferred, elapsed,
                   timing);
    return text;
}

std::string error_text(const granule::error &e)
{
    return e.message.empty() ? std::strerror(e.code) : e.message;
}

}  // namespace granule_io
