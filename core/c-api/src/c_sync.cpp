// The synchronous calls: each blocks on the C++ API's synchronous wrapper.
#include "c_device.hpp"
#include "c_request.hpp"

using namespace granule;
using namespace granule::c_api;

namespace {

// The C result of a C++ one: 0, or -errno with the message prefixed by what.
template <class T>
int done(const result<T> &r, const std::string_view function, uint64_t offset, uint64_t len)
{
    if (r)
        return 0;
    return fail(request_what(function, offset, len), r.error());
}

template <class T>
int done(const result<T> &r, const std::string_view function)
{
    return r ? 0 : fail(function, r.error());
}

// preadv and pwritev: the checks, the list as the C++ API's, then call.
template <class Call>
int vectored(const char *function, granule_device *dev, uint64_t offset, const granule_iov *iov,
             int iovcnt, uint32_t flags, uint32_t allowed, Call call)
{
    return guarded(function, [&] {
        request_flags f;
        std::vector<io_buffer> bufs;
        uint64_t len;
        if (int r = check_device(dev, function);
            r || (r = to_request_flags(function, flags, allowed, f)) ||
            (r = to_buffers(function, iov, iovcnt, bufs, len)))
            return r;
        return done(call(bufs, f), function, offset, len);
    });
}

}  // namespace

extern "C" {

int granule_pread(granule_device *dev, uint64_t offset, void *buf, size_t len, uint32_t flags)
{
    return guarded("granule_pread", [&] {
        request_flags f;
        constexpr const char *fn = "granule_pread";
        if (int r = check_device(dev, fn); r || (r = to_request_flags(fn, flags, 0, f)) ||
                                           (r = check_buffer(fn, buf, len)))
            return r;
        return done(dev->dev->pread(offset, buf, len), "granule_pread", offset, len);
    });
}

int granule_pwrite(granule_device *dev, uint64_t offset, const void *buf, size_t len, uint32_t flags)
{
    return guarded("granule_pwrite", [&] {
        request_flags f;
        constexpr const char *fn = "granule_pwrite";
        if (int r = check_device(dev, fn); r || (r = to_request_flags(fn, flags, write_flags, f)) ||
                                           (r = check_buffer(fn, buf, len)))
            return r;
        return done(dev->dev->pwrite(offset, buf, len, f), "granule_pwrite", offset, len);
    });
}

int granule_preadv(granule_device *dev, uint64_t offset, const struct granule_iov *iov, int iovcnt,
                   uint32_t flags)
{
    return vectored("granule_preadv", dev, offset, iov, iovcnt, flags, 0,
                    [&](const std::vector<io_buffer> &bufs, request_flags) {
                        return dev->dev->preadv(offset, bufs);
                    });
}

int granule_pwritev(granule_device *dev, uint64_t offset, const struct granule_iov *iov, int iovcnt,
                    uint32_t flags)
{
    return vectored("granule_pwritev", dev, offset, iov, iovcnt, flags, write_flags,
                    [&](const std::vector<io_buffer> &bufs, request_flags f) {
                        return dev->dev->pwritev(offset, bufs, f);
                    });
}

int granule_flush(granule_device *dev)
{
    return guarded("granule_flush", [&] {
        if (int r = check_device(dev, "granule_flush"))
            return r;
        return done(dev->dev->flush(), "granule_flush");
    });
}

int granule_discard(granule_device *dev, uint64_t offset, uint64_t len)
{
    return guarded("granule_discard", [&] {
        if (int r = check_device(dev, "granule_discard"))
            return r;
        return done(dev->dev->pdiscard(offset, len), "granule_discard", offset, len);
    });
}

int granule_write_zeroes(granule_device *dev, uint64_t offset, uint64_t len, uint32_t flags)
{
    return guarded("granule_write_zeroes", [&] {
        request_flags f;
        if (int r = check_device(dev, "granule_write_zeroes");
            r || (r = to_request_flags("granule_write_zeroes", flags, zero_flags, f)))
            return r;
        return done(dev->dev->pwrite_zeroes(offset, len, f), "granule_write_zeroes", offset, len);
    });
}

int granule_block_status(granule_device *dev, uint64_t offset, uint64_t len,
                         struct granule_extent *extent)
{
    return guarded("granule_block_status", [&] {
        if (int r = check_device(dev, "granule_block_status"))
            return r;
        if (!extent)
            return fail("granule_block_status", EINVAL, "extent is NULL");
        auto e = dev->dev->block_status(offset, len);
        if (!e)
            return done(e, "granule_block_status", offset, len);
        *extent = to_extent(*e);
        return 0;
    });
}

int granule_truncate(granule_device *dev, uint64_t length)
{
    return guarded("granule_truncate", [&] {
        if (int r = check_device(dev, "granule_truncate"))
            return r;
        return done(dev->dev->truncate(length), "granule_truncate");
    });
}

int granule_reopen(granule_device *dev, const struct granule_kv *changes, size_t count)
{
    return guarded("granule_reopen", [&] {
        options opts;
        if (int r = check_device(dev, "granule_reopen");
            r || (r = to_options("granule_reopen", changes, count, opts)))
            return r;
        return done(dev->dev->reopen(opts), "granule_reopen");
    });
}

}  // extern "C"
