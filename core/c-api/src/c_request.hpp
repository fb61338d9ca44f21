// What the synchronous and asynchronous calls share: checking a request's
// arguments and turning granule.h's flags and buffers into the C++ API's.
#pragma once

#include "c_errors.hpp"

#include <granule.h>
#include <granule/device.hpp>

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace granule::c_api {

// "0x1f", for messages naming flag bits.
inline std::string hex(uint32_t v)
{
    char b[16];
    std::snprintf(b, sizeof b, "0x%x", v);
    return b;
}

// 0, or -EINVAL through fail() for a NULL device: every call's first check.
inline int check_device(const granule_device *dev, std::string_view what)
{
    return dev ? 0 : fail(what, EINVAL, "dev is NULL");
}

// 0, or -EINVAL through fail() for a NULL buffer of a non-zero length.
inline int check_buffer(std::string_view what, const void *buf, size_t len)
{
    return buf || !len ? 0 : fail(what, EINVAL, "buf is NULL");
}

// The request flags the C++ API takes for the given allowed set, or an
// error (-EINVAL naming the bits) through fail().
inline int to_request_flags(std::string_view what, uint32_t flags, uint32_t allowed,
                            request_flags &out)
{
    if (flags & ~allowed)
        return fail(what, EINVAL, "unknown or inapplicable flags " + hex(flags & ~allowed));
    static_assert(GRANULE_IO_FUA == static_cast<uint32_t>(request_flags::fua));
    static_assert(GRANULE_IO_MAY_UNMAP == static_cast<uint32_t>(request_flags::may_unmap));
    static_assert(GRANULE_IO_NO_FALLBACK == static_cast<uint32_t>(request_flags::no_fallback));
    out = static_cast<request_flags>(flags);
    return 0;
}

inline constexpr uint32_t write_flags = GRANULE_IO_FUA;
inline constexpr uint32_t zero_flags = GRANULE_IO_FUA | GRANULE_IO_MAY_UNMAP | GRANULE_IO_NO_FALLBACK;

// iov as the C++ API's list; 0, or -EINVAL through fail() for a NULL list
// or buffer or a negative count. total is the request's length.
inline int to_buffers(std::string_view what, const granule_iov *iov, int iovcnt,
                      std::vector<io_buffer> &out, uint64_t &total)
{
    if (iovcnt < 0 || (iovcnt > 0 && !iov))
        return fail(what, EINVAL, "bad iovec list (iovcnt " + std::to_string(iovcnt) + ")");
    out.resize(static_cast<std::size_t>(iovcnt));
    total = 0;
    for (int i = 0; i < iovcnt; ++i) {
        if (!iov[i].base && iov[i].len)
            return fail(what, EINVAL, "iov[" + std::to_string(i) + "].base is NULL");
        out[i] = {iov[i].base, iov[i].len};
        total += iov[i].len;
    }
    return 0;
}

// What block_status said, as granule.h says it.
inline granule_extent to_extent(const block_extent &e)
{
    return {e.bytes,
            (e.zero ? GRANULE_EXTENT_ZERO : 0u) | (e.data ? GRANULE_EXTENT_DATA : 0u) |
                (e.allocated ? GRANULE_EXTENT_ALLOCATED : 0u),
            0};
}

// count key/value pairs as options; -EINVAL through fail() for a NULL key
// or value or a key given twice.
inline int to_options(std::string_view what, const granule_kv *kv, size_t count, options &out)
{
    if (count && !kv)
        return fail(what, EINVAL, "the option list is NULL");
    for (size_t i = 0; i < count; ++i) {
        if (!kv[i].key || !kv[i].value)
            return fail(what, EINVAL, "option " + std::to_string(i) + " has a NULL key or value");
        if (!out.emplace(kv[i].key, kv[i].value).second)
            return fail(what, EINVAL, std::string("key '") + kv[i].key + "' given twice");
    }
    return 0;
}

}  // namespace granule::c_api
