// Scatter/gather helpers for the pipeline.
#pragma once

#include <granule/device.hpp>
#include <granule/driver_abi.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

namespace granule {

using driver_iov = std::vector<granule_iovec>;

// Saturates at UINT64_MAX, which validation then refuses: lengths that
// wrap around must never look like a small request.
inline std::uint64_t iov_total(std::span<const io_buffer> iov)
{
    std::uint64_t n = 0;
    for (const auto &b : iov) {
        if (b.len > UINT64_MAX - n)
            return UINT64_MAX;
        n += b.len;
    }
    return n;
}

// The bytes of a driver iovec list (built by the core from validated
// requests: no overflow to guard against).
inline std::uint64_t iov_total(std::span<const granule_iovec> iov)
{
    std::uint64_t n = 0;
    for (const auto &e : iov)
        n += e.len;
    return n;
}

// Zero-copy is possible when every element's address and length, and the
// head and tail padding, are multiples of the backend's memory alignment.
inline bool memory_aligned(std::span<const io_buffer> iov, std::uint64_t head, std::uint64_t tail,
                           std::uint64_t mem_align)
{
    if (head % mem_align || tail % mem_align)
        return false;
    for (const auto &b : iov)
        if (reinterpret_cast<std::uintptr_t>(b.base) % mem_align || b.len % mem_align)
            return false;
    return true;
}

inline void append(driver_iov &out, void *base, std::uint64_t len)
{
    if (len)
        out.push_back({base, len});
}

inline void append(driver_iov &out, std::span<const io_buffer> iov)
{
    for (const auto &b : iov)
        append(out, b.base, b.len);
}

// The elements of iov covering [from, from + len).
inline driver_iov iov_slice(std::span<const granule_iovec> iov, std::uint64_t from,
                            std::uint64_t len)
{
    driver_iov out;
    for (const auto &e : iov) {
        if (!len)
            break;
        if (from >= e.len) {
            from -= e.len;
            continue;
        }
        std::uint64_t take = std::min(e.len - from, len);
        out.push_back({static_cast<std::byte *>(e.base) + from, take});
        len -= take;
        from = 0;
    }
    return out;
}

// Sets bytes [from, end) of iov to zero.
inline void iov_zero_from(std::span<const granule_iovec> iov, std::uint64_t from)
{
    for (const auto &e : iov) {
        if (from >= e.len) {
            from -= e.len;
            continue;
        }
        std::memset(static_cast<std::byte *>(e.base) + from, 0, e.len - from);
        from = 0;
    }
}

inline void copy_from_iov(std::byte *dst, std::span<const io_buffer> iov)
{
    for (const auto &b : iov) {
        std::memcpy(dst, b.base, b.len);
        dst += b.len;
    }
}

inline void copy_to_iov(std::span<const io_buffer> iov, const std::byte *src)
{
    for (const auto &b : iov) {
        std::memcpy(b.base, src, b.len);
        src += b.len;
    }
}

}  // namespace granule
