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

// Every field of limits, once, in the order of struct granule_limits:
// X(name, kind), kind being alignment (a power of two; 0 is taken as 1),
// maximum (0: unlimited) or preference (0: none). The struct, the conversions
// to and from the ABI, the checks and the tools' listings all expand this, so
// no list can miss a field or swap two.
#define GRANULE_LIMITS_FIELDS(X)      \
    X(request_alignment, alignment)   \
    X(min_mem_alignment, alignment)   \
    X(opt_mem_alignment, alignment)   \
    X(max_transfer, maximum)          \
    X(opt_transfer, preference)       \
    X(pwrite_zeroes_alignment, alignment) \
    X(pdiscard_alignment, alignment)  \
    X(max_pdiscard, maximum)

enum class limit_kind { alignment, maximum, preference };

struct limits {
#define GRANULE_LIMITS_MEMBER_(name, kind) \
    std::uint64_t name = limit_kind::kind == limit_kind::alignment ? 1 : 0;
    GRANULE_LIMITS_FIELDS(GRANULE_LIMITS_MEMBER_)
#undef GRANULE_LIMITS_MEMBER_

    bool operator==(const limits &) const = default;
};

// The fields by name, for code that walks them (granule-io, granule-img info).
struct limit_field {
    const char *name;
    limit_kind kind;
    std::uint64_t limits::*member;
};
inline constexpr limit_field limit_fields[] = {
#define GRANULE_LIMITS_ENTRY_(name, kind) {#name, limit_kind::kind, &limits::name},
    GRANULE_LIMITS_FIELDS(GRANULE_LIMITS_ENTRY_)
#undef GRANULE_LIMITS_ENTRY_
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
