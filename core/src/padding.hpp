// How one byte-granularity request maps onto aligned driver requests. Pure
// arithmetic, no I/O, so every edge case is unit-tested in isolation.
#pragma once

#include <cstdint>

namespace granule {

inline std::uint64_t align_down(std::uint64_t v, std::uint64_t a) { return v & ~(a - 1); }
inline std::uint64_t align_up(std::uint64_t v, std::uint64_t a) { return (v + a - 1) & ~(a - 1); }

struct pad_plan {
    std::uint64_t offset = 0;   // aligned start of the padded request
    std::uint64_t bytes = 0;    // aligned length of the padded request
    std::uint64_t head = 0;     // bytes of padding before the caller's data
    std::uint64_t tail = 0;     // bytes of padding after it
    bool same_block = false;    // head and tail padding lie in one aligned block

    bool needed() const { return head || tail; }
    std::uint64_t end() const { return offset + bytes; }
    // Aligned blocks an unaligned write must read back first (0, 1 or 2).
    int rmw_blocks() const { return same_block ? 1 : (head ? 1 : 0) + (tail ? 1 : 0); }
};

// align must be a power of two; offset + bytes must not overflow after
// rounding up (the device validates offsets against 2^63 first).
inline pad_plan make_pad_plan(std::uint64_t offset, std::uint64_t bytes, std::uint64_t align)
{
    pad_plan p;
    p.offset = align_down(offset, align);
    std::uint64_t end = offset + bytes;
    std::uint64_t padded_end = align_up(end, align);
    p.bytes = padded_end - p.offset;
    p.head = offset - p.offset;
    p.tail = padded_end - end;
    p.same_block = p.head && p.tail && p.bytes == align;
    return p;
}

}  // namespace granule
