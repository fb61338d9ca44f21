// The copy loop of `granule-img convert`, apart from argument handling and
// target creation: reads SRC in chunks and writes each run of data, or
// handles each run of zeroes, on DST.
#pragma once

#include <granule/device.hpp>

#include <cstdint>
#include <functional>
#include <string>

struct copy_options {
    std::uint64_t chunk = 1 << 20;
    // Zero runs of whole SPARSE-aligned units are not written as data; 0:
    // every byte is data.
    std::uint64_t sparse_size = 4096;
    // DST reads as zeroes already (created here): zero runs are skipped,
    // otherwise they are written with pwrite_zeroes.
    bool target_is_zero = false;
    // Called on the copying thread as chunks are done, with the bytes of SRC
    // dealt with so far (convert -p); may be empty.
    std::function<void(std::uint64_t done)> on_progress;
    // Chunks whose writes may be in flight while the next ones are read.
    unsigned depth = 8;
};

struct copy_result {
    std::uint64_t bytes = 0;       // SRC's length, all of it accounted for
    std::uint64_t data_bytes = 0;  // written as data
    std::uint64_t zero_bytes = 0;  // skipped or written as zeroes
    bool zeroes_skipped = false;
    double seconds = 0;
};

// Errors name the side (SRC/DST), the offset and length.
granule::result<copy_result> copy_device(granule::device &src, granule::device &dst,
                                         const copy_options &opts);

// "converted 10485760 bytes: 3145728 data, 7340032 zero (holes) in 0.12 s (87.4 MB/s)"
std::string copy_summary(const copy_result &r);
