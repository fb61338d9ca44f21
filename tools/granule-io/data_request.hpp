// What read/readv/write/writev and their aio_ forms share: option parsing,
// buffer allocation and the lines printed when a transfer completed.
#pragma once

#include "buffers.hpp"
#include "commands.hpp"

#include <granule/device.hpp>
#include <granule/error.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace granule_io {

struct data_request {
    bool is_write = false;
    std::optional<std::uint8_t> pattern;  // -P
    bool verbose = false;                 // -v (reads)
    bool quiet = false;                   // -q
    bool zero = false;                    // -z (writes)
    // Writes: -f fua; with -z, -u may_unmap and -n no_fallback.
    granule::request_flags flags = granule::request_flags::none;
    std::size_t misalign = 0;             // -m
    std::uint64_t offset = 0;
    std::vector<std::uint64_t> lengths;  // one per iovec element
    std::uint64_t total = 0;
};

// One buffer per command is capped at qemu-io's BDRV_REQUEST_MAX_BYTES
// (2 GiB - 512), so a typo such as "read 0 1T" fails cleanly, as there,
// instead of exhausting memory.
inline constexpr std::uint64_t max_buffer_bytes = (std::uint64_t{1} << 31) - 512;
inline constexpr std::size_t buffer_base_alignment = 4096;
// qemu-io -m: every buffer this far past an aligned address (its MISALIGN_OFFSET).
inline constexpr std::size_t qemu_misalign = 16;

// Parses "[options] off len [len...]" (a single len unless vectored),
// printing the reason on failure. Length 0 is accepted, as by qemu-io: such
// a request moves nothing and reaches no device (report_empty).
std::optional<data_request> parse_data_request(const invocation &inv, bool is_write,
                                               bool vectored);

// Buffers at max(4096, opt_mem_alignment) + misalign, filled with the write
// pattern (default 0xcd) or, for reads, 0xab so data the device never wrote
// can't pass a -P check by accident (qemu-io does the same).
std::optional<buffer_list> allocate_buffers(const invocation &inv, const data_request &req);

// After a successful transfer of `transferred` bytes: the pattern check
// (reads with -P), the hexdump (-v) and the report, as one block of text.
// ok is set to false when verification fails.
std::string completion_text(const data_request &req, const buffer_list *buffers,
                            std::uint64_t transferred, std::chrono::nanoseconds elapsed,
                            bool timing, bool &ok);

// A request of length 0: its report at once, without the device (the API
// refuses length 0; qemu-io reports "read 0/0 bytes at offset N").
bool report_empty(const invocation &inv, const data_request &req);

// The error's message, or strerror of its code when the message is empty.
std::string error_text(const granule::error &e);

}  // namespace granule_io
