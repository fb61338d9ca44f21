// The text qemu-io prints, reproduced so qemu-iotests-style golden outputs
// and their filters carry over.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace granule_io {

// qemu-io's cvtstr: "512 bytes", "4 KiB", "1.500 MiB" (three decimals
// unless they are all zero). Used in the timing line.
std::string cvtstr(double value);

// qemu's size_to_str: three significant digits, "512 B", "1 MiB",
// "1.5 MiB", "0.977 KiB". Used by `length`.
std::string size_to_str(std::uint64_t value);

// "00.00 sec" below an hour, "H:MM:SS.ss" from an hour on.
std::string timestr(std::chrono::nanoseconds elapsed);

// "<op> <total>/<count> bytes at offset <offset>\n" and, when timing is on,
// "<size>, <ops> ops; <time> (<rate>/sec and <x> ops/sec)\n".
std::string report(std::string_view op, std::uint64_t offset, std::uint64_t count,
                   std::uint64_t total, std::chrono::nanoseconds elapsed, bool timing);

// qemu-io's dump_buffer: "%08llx:  " then up to 16 "%02x " then " " and the
// bytes as characters, '.' for anything not alphanumeric.
std::string hexdump(std::span<const std::uint8_t> bytes, std::uint64_t offset);

}  // namespace granule_io
