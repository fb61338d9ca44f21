// What a node needs and prefers for I/O. All alignments are powers of two
// (>= 1). max_transfer / max_pdiscard of 0 mean unlimited; opt_transfer of 0
// means no preference. Units are bytes.
#pragma once

#include <granule/export.hpp>

#include <granule/driver_abi.h>

#include <cstdint>
#include <optional>
#include <string>

namespace granule {

struct limits {
    std::uint64_t request_alignment = 1;
    std::uint64_t min_mem_alignment = 1;
    std::uint64_t opt_mem_alignment = 1;
    std::uint64_t max_transfer = 0;
    std::uint64_t opt_transfer = 0;
    std::uint64_t pwrite_zeroes_alignment = 1;
    std::uint64_t pdiscard_alignment = 1;
    std::uint64_t max_pdiscard = 0;

    bool operator==(const limits &) const = default;
};

GRANULE_API limits from_abi(const granule_limits &l);
GRANULE_API granule_limits to_abi(const limits &l);

// A parent inherits from a child: the larger alignment, the smaller non-zero
// maximum, the child's opt_transfer where the parent has none.
GRANULE_API limits inherit(const limits &parent, const limits &child);

// Replaces 0 alignments by 1 and returns the name of the first field that is
// not a power of two, if any.
GRANULE_API std::optional<std::string> normalise_and_check(limits &l);

}  // namespace granule
