// What a node needs and prefers for I/O, and where each value came from. All
// alignments are powers of two (>= 1). max_transfer / max_pdiscard / max_iov
// of 0 mean unlimited; opt_transfer of 0 means no preference. Units are bytes,
// max_iov counts iovec elements.
#pragma once

#include <granule/export.hpp>

#include <granule/driver_abi.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

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
    X(max_pdiscard, maximum)          \
    X(max_iov, maximum)

enum class limit_kind { alignment, maximum, preference };

// The fields' positions, for limits::sources.
enum class limit_id : std::size_t {
#define GRANULE_LIMITS_ID_(name, kind) name,
    GRANULE_LIMITS_FIELDS(GRANULE_LIMITS_ID_)
#undef GRANULE_LIMITS_ID_
    count
};
inline constexpr std::size_t limit_count = static_cast<std::size_t>(limit_id::count);

struct limits {
#define GRANULE_LIMITS_MEMBER_(name, kind) \
    std::uint64_t name = limit_kind::kind == limit_kind::alignment ? 1 : 0;
    GRANULE_LIMITS_FIELDS(GRANULE_LIMITS_MEMBER_)
#undef GRANULE_LIMITS_MEMBER_

    // Where each value came from, by limit_id: "raw-posix: statx
    // STATX_DIOALIGN", "blkdebug: option align", "core: request_alignment",
    // or for an untouched value "default" / "unlimited" / "no preference".
    // An explanation, not a value: == compares the values only.
    std::array<std::string, limit_count> sources = default_sources();

    const std::string &source(limit_id id) const { return sources[static_cast<std::size_t>(id)]; }
    // Whether nobody set the value: its source is still the default one.
    bool source_is_default(limit_id id) const
    {
        static const auto defaults = default_sources();
        return source(id) == defaults[static_cast<std::size_t>(id)];
    }
    bool operator==(const limits &o) const
    {
        return true
#define GRANULE_LIMITS_EQ_(name, kind) &&name == o.name
            GRANULE_LIMITS_FIELDS(GRANULE_LIMITS_EQ_)
#undef GRANULE_LIMITS_EQ_
            ;
    }

    // The source of an untouched value of each field.
    static std::array<std::string, limit_count> default_sources()
    {
        return {
#define GRANULE_LIMITS_DEFAULT_SOURCE_(name, kind)                           \
    limit_kind::kind == limit_kind::alignment ? "default"                   \
    : limit_kind::kind == limit_kind::maximum ? "unlimited"                 \
                                              : "no preference",
            GRANULE_LIMITS_FIELDS(GRANULE_LIMITS_DEFAULT_SOURCE_)
#undef GRANULE_LIMITS_DEFAULT_SOURCE_
        };
    }
};

// The fields by name, for code that walks them (granule-io, granule-img info).
struct limit_field {
    const char *name;
    limit_kind kind;
    std::uint64_t limits::*member;
    limit_id id;
};
inline constexpr limit_field limit_fields[] = {
#define GRANULE_LIMITS_ENTRY_(name, kind) {#name, limit_kind::kind, &limits::name, limit_id::name},
    GRANULE_LIMITS_FIELDS(GRANULE_LIMITS_ENTRY_)
#undef GRANULE_LIMITS_ENTRY_
};

// The ABI struct (struct_size set); its sources point into l, valid while l
// lives and is not modified.
GRANULE_API granule_limits to_abi(const limits &l);
// The values and sources of an ABI struct (a NULL source: the default one).
GRANULE_API limits from_abi(const granule_limits &l);
// What a driver's refresh_limits made of `sent` (to_abi(before)): a source the
// driver set is qualified with its name ("iscsi: READ CAPACITY(16)"); a value it
// changed without saying where from is "DRIVER: set by the driver"; the rest
// keeps before's sources.
GRANULE_API limits from_driver(const granule_limits &after, const granule_limits &sent,
                               const limits &before, std::string_view driver);

// A parent inherits from a child: the larger alignment, the smaller non-zero
// maximum, the child's opt_transfer where the parent has none; each value
// with its source.
GRANULE_API limits inherit(const limits &parent, const limits &child);

// Replaces 0 alignments by 1, raises the alignments the core's own buffers
// and splits depend on ("core: min_mem_alignment", "core: request_alignment"),
// and returns what is wrong, naming the field, if anything.
GRANULE_API std::optional<std::string> normalise_and_check(limits &l);

}  // namespace granule
