// Opening, closing and the queries of a device.
#include "c_device.hpp"
#include "c_errors.hpp"
#include "c_request.hpp"

#include <granule.h>
#include <granule/version.hpp>


using namespace granule;
using namespace granule::c_api;

namespace granule::c_api {

granule_device *&callback_device()
{
    thread_local granule_device *d = nullptr;
    return d;
}

}  // namespace granule::c_api

// The enums of granule.h follow the C++ lists' order: a field added there
// must be added here.
static_assert(GRANULE_LIMIT_COUNT == limit_count);
static_assert(GRANULE_STAT_COUNT == std::size(stat_fields));
static_assert(GRANULE_LIMIT_MAX_IOV == static_cast<int>(limit_id::max_iov));
static_assert(GRANULE_LIMIT_REQUEST_ALIGNMENT == static_cast<int>(limit_id::request_alignment));

namespace {

int open_device(std::string_view function, result<std::unique_ptr<device>> opened,
                granule_device **devp)
{
    if (!opened)
        return fail(function, opened.error());
    auto *d = new granule_device;
    d->dev = std::move(*opened);
    *devp = d;
    return 0;
}

int check_open_flags(std::string_view function, uint32_t flags, granule_device **devp)
{
    if (!devp)
        return fail(function, EINVAL, "devp is NULL");
    *devp = nullptr;
    if (flags & ~GRANULE_DEVICE_READ_ONLY)
        return fail(function, EINVAL, "unknown flags " + hex(flags & ~GRANULE_DEVICE_READ_ONLY));
    return 0;
}

open_flags to_open_flags(uint32_t flags) { return {(flags & GRANULE_DEVICE_READ_ONLY) != 0}; }

}  // namespace

extern "C" {

uint32_t granule_c_api_version(void) { return GRANULE_C_API_VERSION; }

const char *granule_version(void) { return library_version(); }

int granule_open(const char *spec, uint32_t flags, granule_device **devp)
{
    return guarded("granule_open", [&] {
        if (int r = check_open_flags("granule_open", flags, devp))
            return r;
        if (!spec)
            return fail("granule_open", EINVAL, "spec is NULL");
        return open_device("granule_open", device::open(spec, to_open_flags(flags)), devp);
    });
}

int granule_open_kv(const struct granule_kv *kv, size_t count, uint32_t flags, granule_device **devp)
{
    return guarded("granule_open_kv", [&] {
        if (int r = check_open_flags("granule_open_kv", flags, devp))
            return r;
        options opts;
        if (int r = to_options("granule_open_kv", kv, count, opts))
            return r;
        return open_device("granule_open_kv", device::open(opts, to_open_flags(flags)), devp);
    });
}

int granule_close(granule_device *dev)
{
    if (!dev)
        return 0;
    if (callback_device() == dev)
        return fail("granule_close", EDEADLK, "called from a completion callback of the same device");
    delete dev;  // the device's destructor waits for requests in flight
    return 0;
}

uint64_t granule_get_length(granule_device *dev) { return dev ? dev->dev->length() : 0; }

int granule_is_read_only(granule_device *dev)
{
    return guarded("granule_is_read_only", [&] { return dev && dev->dev->read_only() ? 1 : 0; });
}

int granule_is_growable(granule_device *dev)
{
    return guarded("granule_is_growable", [&] { return dev && dev->dev->growable() ? 1 : 0; });
}

const char *granule_get_format(granule_device *dev, const char **description)
{
    if (description)
        *description = nullptr;
    if (!dev)
        return nullptr;
    try {
        const auto &probe = dev->dev->format_probe();
        if (description)
            *description = dev->intern(probe.describe());
        return dev->intern(probe.format);
    } catch (...) {
        return nullptr;  // no memory for the strings
    }
}

int granule_get_limits(granule_device *dev, struct granule_limit_info *out, size_t count)
{
    return guarded("granule_get_limits", [&] {
        if (!dev || (count && !out))
            return fail("granule_get_limits", EINVAL, "dev or out is NULL");
        auto l = dev->dev->get_limits();
        for (size_t i = 0; i < count && i < limit_count; ++i) {
            const auto &f = limit_fields[i];
            out[i] = {f.name, l.*f.member, dev->intern(l.source(f.id))};
        }
        return static_cast<int>(limit_count);
    });
}

int granule_get_stats(granule_device *dev, struct granule_stat *out, size_t count)
{
    if (!dev || (count && !out))
        return fail("granule_get_stats", EINVAL, "dev or out is NULL");
    auto s = dev->dev->get_stats();
    for (size_t i = 0; i < count && i < std::size(stat_fields); ++i)
        out[i] = {stat_fields[i].name, s.*stat_fields[i].member};
    return static_cast<int>(std::size(stat_fields));
}

void granule_reset_stats(granule_device *dev)
{
    if (dev)
        dev->dev->reset_stats();
}

}  // extern "C"
