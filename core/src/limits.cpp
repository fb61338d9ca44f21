#include <granule/limits.hpp>

#include <iterator>

#include <algorithm>

namespace granule {

// The ABI struct holds exactly the fields of the list: a field missing on
// either side fails to compile (by name below), an extra one fails here.
static_assert(sizeof(granule_limits) == std::size(limit_fields) * sizeof(std::uint64_t),
              "struct granule_limits and GRANULE_LIMITS_FIELDS differ");

limits from_abi(const granule_limits &l)
{
    limits out;
#define GRANULE_FROM_ABI_(name, kind) out.name = l.name;
    GRANULE_LIMITS_FIELDS(GRANULE_FROM_ABI_)
#undef GRANULE_FROM_ABI_
    return out;
}

granule_limits to_abi(const limits &l)
{
    granule_limits out{};
#define GRANULE_TO_ABI_(name, kind) out.name = l.name;
    GRANULE_LIMITS_FIELDS(GRANULE_TO_ABI_)
#undef GRANULE_TO_ABI_
    return out;
}

namespace {

std::uint64_t min_nonzero(std::uint64_t a, std::uint64_t b)
{
    if (a == 0)
        return b;
    if (b == 0)
        return a;
    return std::min(a, b);
}

bool power_of_two(std::uint64_t v) { return v && !(v & (v - 1)); }

}  // namespace

limits inherit(const limits &parent, const limits &child)
{
    limits out = parent;
    out.request_alignment = std::max(parent.request_alignment, child.request_alignment);
    out.min_mem_alignment = std::max(parent.min_mem_alignment, child.min_mem_alignment);
    out.opt_mem_alignment = std::max(parent.opt_mem_alignment, child.opt_mem_alignment);
    out.pwrite_zeroes_alignment =
        std::max(parent.pwrite_zeroes_alignment, child.pwrite_zeroes_alignment);
    out.pdiscard_alignment = std::max(parent.pdiscard_alignment, child.pdiscard_alignment);
    out.max_transfer = min_nonzero(parent.max_transfer, child.max_transfer);
    out.max_pdiscard = min_nonzero(parent.max_pdiscard, child.max_pdiscard);
    if (out.opt_transfer == 0)
        out.opt_transfer = child.opt_transfer;
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
    // Buffers we allocate must satisfy what the backend requires.
    l.opt_mem_alignment = std::max(l.opt_mem_alignment, l.min_mem_alignment);
    l.pwrite_zeroes_alignment = std::max(l.pwrite_zeroes_alignment, l.request_alignment);
    l.pdiscard_alignment = std::max(l.pdiscard_alignment, l.request_alignment);
    if (l.max_transfer && l.max_transfer < l.request_alignment)
        return "max_transfer " + std::to_string(l.max_transfer) +
               " is smaller than request_alignment " + std::to_string(l.request_alignment);
    if (l.max_transfer && l.max_transfer < l.min_mem_alignment)
        return "max_transfer " + std::to_string(l.max_transfer) +
               " is smaller than min_mem_alignment " + std::to_string(l.min_mem_alignment);
    return std::nullopt;
}

}  // namespace granule
