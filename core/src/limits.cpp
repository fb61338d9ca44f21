#include <granule/limits.hpp>

#include <algorithm>
#include <iterator>

namespace granule {

// The ABI struct holds exactly the fields of the list, then its reserve: a
// field missing on either side fails to compile (by name below), an extra or
// a moved one fails here.
static_assert(offsetof(granule_limits, request_alignment) == 8);
static_assert(offsetof(granule_limits, reserved) ==
                  8 + std::size(limit_fields) * sizeof(granule_limit),
              "struct granule_limits and GRANULE_LIMITS_FIELDS differ");
#define GRANULE_LIMITS_ORDER_(name, kind)                                                  \
    static_assert(offsetof(granule_limits, name) ==                                        \
                      8 + static_cast<std::size_t>(limit_id::name) * sizeof(granule_limit), \
                  "struct granule_limits: " #name " is not where GRANULE_LIMITS_FIELDS puts it");
GRANULE_LIMITS_FIELDS(GRANULE_LIMITS_ORDER_)
#undef GRANULE_LIMITS_ORDER_

namespace {

std::size_t index(limit_id id) { return static_cast<std::size_t>(id); }

}  // namespace

granule_limits to_abi(const limits &l)
{
    granule_limits out{};
    out.struct_size = sizeof out;
    // A source that is still the default goes out as NULL: "nobody said".
#define GRANULE_TO_ABI_(name, kind)                                        \
    out.name.value = l.name;                                               \
    out.name.source = l.source_is_default(limit_id::name)                  \
                          ? nullptr                                        \
                          : l.source(limit_id::name).c_str();
    GRANULE_LIMITS_FIELDS(GRANULE_TO_ABI_)
#undef GRANULE_TO_ABI_
    return out;
}

limits from_abi(const granule_limits &l)
{
    limits out;
#define GRANULE_FROM_ABI_(name, kind)      \
    out.name = l.name.value;               \
    if (l.name.source)                     \
        out.sources[index(limit_id::name)] = l.name.source;
    GRANULE_LIMITS_FIELDS(GRANULE_FROM_ABI_)
#undef GRANULE_FROM_ABI_
    return out;
}

limits from_driver(const granule_limits &after, const granule_limits &sent, const limits &before,
                   std::string_view driver)
{
    limits out = before;
    const std::string who(driver);
#define GRANULE_FROM_DRIVER_(name, kind)                                                   \
    out.name = after.name.value;                                                           \
    if (after.name.source != sent.name.source)                                             \
        out.sources[index(limit_id::name)] =                                               \
            who + ": " + (after.name.source ? after.name.source : "set by the driver");    \
    else if (after.name.value != sent.name.value)                                          \
        out.sources[index(limit_id::name)] = who + ": set by the driver";
    GRANULE_LIMITS_FIELDS(GRANULE_FROM_DRIVER_)
#undef GRANULE_FROM_DRIVER_
    return out;
}

namespace {

bool power_of_two(std::uint64_t v) { return v && !(v & (v - 1)); }

// Sets out's field to the winner's value and source.
void take(limits &out, const limits &from, limit_id id, std::uint64_t limits::*member)
{
    out.*member = from.*member;
    out.sources[index(id)] = from.source(id);
}

}  // namespace

limits inherit(const limits &parent, const limits &child)
{
    limits out = parent;
    for (const auto &f : limit_fields) {
        const auto p = parent.*f.member, c = child.*f.member;
        // On a tie, a source someone gave beats the parent's default.
        const bool tie_to_child = c == p && parent.source_is_default(f.id);
        bool child_wins = false;
        switch (f.kind) {
        case limit_kind::alignment:
            child_wins = c > p || tie_to_child;
            break;
        case limit_kind::maximum:  // the smaller non-zero one; 0 is unlimited
            child_wins = c != 0 && (p == 0 || c < p || tie_to_child);
            break;
        case limit_kind::preference:  // the child's where the parent has none
            child_wins = p == 0 && c != 0;
            break;
        }
        if (child_wins)
            take(out, child, f.id, f.member);
    }
    return out;
}

std::optional<std::string> normalise_and_check(limits &l)
{
    for (const auto &f : limit_fields) {
        if (f.kind != limit_kind::alignment)
            continue;
        auto &value = l.*f.member;
        if (value == 0)
            value = 1;
        if (!power_of_two(value))
            return std::string(f.name) + " " + std::to_string(value) + " is not a power of two";
    }
    // Buffers we allocate must satisfy what the backend requires; zeroing and
    // discard cannot be finer than a request.
    auto raise_to = [&l](limit_id id, std::uint64_t limits::*member, limit_id to,
                         std::uint64_t limits::*floor) {
        if (l.*member < l.*floor) {
            l.*member = l.*floor;
            l.sources[index(id)] = "core: " + std::string(limit_fields[index(to)].name);
        }
    };
    raise_to(limit_id::opt_mem_alignment, &limits::opt_mem_alignment, limit_id::min_mem_alignment,
             &limits::min_mem_alignment);
    raise_to(limit_id::pwrite_zeroes_alignment, &limits::pwrite_zeroes_alignment,
             limit_id::request_alignment, &limits::request_alignment);
    raise_to(limit_id::pdiscard_alignment, &limits::pdiscard_alignment,
             limit_id::request_alignment, &limits::request_alignment);
    if (l.max_transfer && l.max_transfer < l.request_alignment)
        return "max_transfer " + std::to_string(l.max_transfer) +
               " is smaller than request_alignment " + std::to_string(l.request_alignment);
    if (l.max_transfer && l.max_transfer < l.min_mem_alignment)
        return "max_transfer " + std::to_string(l.max_transfer) +
               " is smaller than min_mem_alignment " + std::to_string(l.min_mem_alignment);
    return std::nullopt;
}

}  // namespace granule
