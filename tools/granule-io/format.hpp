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
// unless they are all zero). The timing line, length, alloc, map, info.
std::string cvtstr(double value);

// qemu-io's timestr: "00.12 sec" under a second, "H:MM:SS.ss" from a second
// on; fixed (the -C line): always "H:MM:SS.ss".
std::string timestr(std::chrono::nanoseconds elapsed, bool fixed = false);

// "<op> <total>/<count> bytes at offset <offset>\n" and, when timing is on,
// "<size>, <ops> ops; <time> (<rate>/sec and <x> ops/sec)\n". machine (-C):
// instead one "<total>,<ops>,<time>,<bytes/sec>,<ops/sec>\n", or without
// timing "<total>,<ops>\n".
std::string report(std::string_view op, std::uint64_t offset, std::uint64_t count,
                   std::uint64_t total, std::chrono::nanoseconds elapsed, bool timing,
                   bool machine = false);

// qemu-io's dump_buffer: "%08llx:  " then up to 16 "%02x " then " " and the
// bytes as characters, '.' for anything not alphanumeric.
std::string hexdump(std::span<const std::uint8_t> bytes, std::uint64_t offset);

}  // namespace granule_io
