#include "qemu_compat.hpp"

#include <cerrno>

namespace granule_io {

namespace {

constexpr std::string_view blkdebug_prefix = "blkdebug:";

granule::error refuse(const std::string &why) { return granule::error{EINVAL, why}; }

// A file name the plain-file driver takes (not a URL).
bool is_plain_file(const granule::options &opts, const std::string &leaf)
{
    auto f = opts.find(leaf + "filename");
    if (f == opts.end() || f->second.find("://") != std::string::npos)
        return false;
    auto d = opts.find(leaf + "driver");
    return d == opts.end() || d->second == "raw-posix" || d->second == "raw-win32";
}

// driver=raw: no layer of its own; its file.* keys are the node's. What it
// does keep is qemu's meaning: the image is raw, not probed (format=raw).
granule::result<void> drop_raw_layer(granule::options &opts)
{
    opts.erase("driver");
    auto file = granule::take_sub_options(opts, "file");
    if (auto f = opts.find("file"); f != opts.end()) {
        file.emplace("filename", f->second);
        opts.erase(f);
    }
    for (const auto &[key, value] : opts)
        if (key != "filename" && key != "read-only" && key != "format")
            return refuse("format raw: option '" + key +
                          "' is not supported (raw is no layer in Granule: give the "
                          "protocol's options as file.*)");
    for (const auto &[key, value] : file) {
        auto [it, added] = opts.emplace(key, value);
        if (!added && it->second != value)
            return refuse("format raw: '" + key + "' given twice ('" + it->second + "' and '" +
                          value + "')");
    }
    opts.emplace("format", "raw");  // another value is refused by the device, naming it
    return {};
}

}  // namespace

granule::result<void> set_cache_mode(qemu_settings &s, std::string_view mode)
{
    if (mode == "none" || mode == "directsync")
        s.cache_direct = true;
    else if (mode == "writeback" || mode == "writethrough" || mode == "unsafe")
        s.cache_direct = false;
    else
        return refuse("Invalid cache option: " + std::string(mode));
    return {};
}

granule::result<void> set_aio_mode(qemu_settings &s, std::string_view mode)
{
    if (mode == "threads")
        s.aio = "threads";
    else if (mode == "native" || mode == "io_uring")  // Linux AIO's place is io_uring's here
        s.aio = "io_uring";
    else
        return refuse("Invalid aio option: " + std::string(mode));
    return {};
}

granule::result<void> set_format(qemu_settings &s, std::string_view format)
{
    if (format != "raw")
        return refuse("format '" + std::string(format) +
                      "' is not supported: Granule opens raw images only");
    s.format = std::string(format);
    return {};
}

granule::result<void> check_discard_mode(std::string_view mode)
{
    if (mode != "ignore" && mode != "off" && mode != "unmap" && mode != "on")
        return refuse("Invalid discard option: " + std::string(mode));
    return {};
}

granule::result<void> refuse_snapshot()
{
    return refuse("-s/--snapshot is not supported: there is no snapshot layer, so writes "
                  "would reach the image");
}

granule::result<granule::options> from_qemu(granule::options opts, const qemu_settings &s)
{
    if (auto d = opts.find("driver"); d != opts.end()) {
        if (d->second == "raw") {
            if (auto r = drop_raw_layer(opts); !r)
                return r.error();
        }
    }
    if (auto d = opts.find("driver"); d != opts.end() && d->second == "file")
        opts.erase(d);  // the plain-file protocol: what a plain filename opens
    // -f raw: qemu-io does not probe the image (an `open` after it does).
    if (s.format)
        opts.emplace("format", *s.format);

    std::string leaf;
    if (auto f = opts.find("filename");
        f != opts.end() && std::string_view(f->second).starts_with(blkdebug_prefix)) {
        const std::string name = f->second;
        const auto rest = name.substr(blkdebug_prefix.size());
        const auto colon = rest.find(':');
        if (colon == std::string::npos)
            return refuse("filename '" + name + "': expected blkdebug:CONFIG:FILE or blkdebug::FILE");
        if (auto d = opts.find("driver"); d != opts.end() && d->second != "blkdebug")
            return refuse("filename '" + name + "' is a blkdebug one, but driver=" + d->second);
        opts.erase("filename");
        opts["driver"] = "blkdebug";
        opts["image.filename"] = rest.substr(colon + 1);
        if (colon > 0)
            opts["config"] = rest.substr(0, colon);
        leaf = "image.";
    } else if (auto d = opts.find("driver"); d != opts.end() && d->second == "blkdebug") {
        leaf = "image.";
    }

    if (auto a = opts.find(leaf + "aio"); a != opts.end() && a->second == "native")
        a->second = "io_uring";
    if (is_plain_file(opts, leaf)) {
        if (s.cache_direct)
            opts.emplace(leaf + "cache.direct", *s.cache_direct ? "on" : "off");
#ifndef _WIN32  // raw-win32 has one engine (IOCP)
        if (s.aio)
            opts.emplace(leaf + "aio", *s.aio);
#endif
    }
    return opts;
}

}  // namespace granule_io
