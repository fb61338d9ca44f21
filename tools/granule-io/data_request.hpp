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
#include <string_view>
#include <vector>

namespace granule_io {

// Which command parses: each takes qemu-io's options for it (read and
// write the most), plus Granule's -m.
enum class data_command { read, readv, write, writev, aio_read, aio_write };

struct data_request {
    bool is_write = false;
    std::string report_name;              // what a failure line calls it ("readv" for aio_read)
    std::optional<std::uint8_t> pattern;  // -P
    bool verbose = false;                 // -v (reads)
    bool quiet = false;                   // -q
    bool machine = false;                 // -C: one "bytes,ops,time,bytes/sec,ops/sec" line
    bool zero = false;                    // -z (writes)
    bool vmstate = false;                 // -b: fails with ENOTSUP (no VM state here)
    bool compressed = false;              // -c: fails with ENOTSUP (no compression)
    std::string source_file;              // write -s: the data, repeated to fill the buffer
    // read -s / -l: the part of the read checked against -P.
    std::uint64_t pattern_offset = 0;
    std::uint64_t pattern_count = 0;
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
// printing qemu-io's lines on failure. Length 0 is accepted, as by qemu-io:
// such a request moves nothing and reaches no device (report_empty). For
// aio_read/aio_write -i, prints qemu-io's "injecting invalid ... request"
// and returns a request with `invalid` set, which the caller only reports.
struct parsed_data_request {
    std::optional<data_request> req;
    bool invalid = false;  // -i: done, successfully
};
parsed_data_request parse_data_request(const invocation &inv, data_command kind);

// Buffers at max(4096, opt_mem_alignment) + misalign, filled with the write
// pattern (default 0xcd), write -s's file repeated, or, for reads, 0xab so
// data the device never wrote can't pass a -P check by accident (qemu-io
// does the same).
std::optional<buffer_list> allocate_buffers(const invocation &inv, const data_request &req);

// After a successful transfer of `transferred` bytes: the pattern check
// (reads with -P, over -s/-l's part), the hexdump (-v) and the report (-C:
// the machine line), as one block of text. ok is set to false when
// verification fails.
std::string completion_text(const data_request &req, const buffer_list *buffers,
                            std::uint64_t transferred, std::chrono::nanoseconds elapsed,
                            bool timing, bool &ok);

// A request of length 0: its report at once, without the device (the API
// refuses length 0; qemu-io reports "read 0/0 bytes at offset N").
bool report_empty(const invocation &inv, const data_request &req);

// The error's message, or strerror of its code when the message is empty.
std::string error_text(const granule::error &e);

}  // namespace granule_io
