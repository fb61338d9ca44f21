// qemu-io's way of naming an image, rewritten into Granule's options, so a
// qemu-iotests script's $QEMU_IO line and `open` commands run unchanged:
// - a format layer: `-f raw` or `driver=raw` is no layer at all (raw is
//   Granule's only format); its `file.*` keys are the protocol node's keys,
//   `file=NAME` its filename. `driver=file` is the plain-file protocol.
//   Both say the image is raw, so they become Granule's format=raw: no
//   probe of the first bytes (qemu-io does not probe with them either);
//   without them the device probes (docs/architecture.md, "Format safety").
//   `-f` holds for the command line's image only: qemu-io's `open` command
//   probes. Any other format is refused, naming it.
// - filename prefixes: `blkdebug::FILE` is driver=blkdebug over FILE,
//   `blkdebug:CONF:FILE` the same with blkdebug's config=CONF.
// - the cache and aio modes (-t/--cache, -n, -i/--aio, -k) set the
//   plain-file node's cache.direct and aio: none/directsync = O_DIRECT,
//   writeback/writethrough/unsafe = the page cache; threads, native and
//   io_uring are raw-posix's threads and io_uring engines.
// Options that are Granule's own (driver=blkdebug,image.driver=raw-posix...)
// pass unchanged; the modes still apply to a plain file at the leaf.
#pragma once

#include <granule/error.hpp>
#include <granule/options.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace granule_io {

struct qemu_settings {
    std::optional<std::string> format;        // -f: only "raw"; reset after the first open
    std::optional<bool> cache_direct;         // from -t / -n
    std::optional<std::string> aio;           // raw-posix's aio= value, from -i / -k
};

// Checks and records a -t/--cache mode; the error names the mode.
granule::result<void> set_cache_mode(qemu_settings &s, std::string_view mode);
// Checks and records a -i/--aio mode.
granule::result<void> set_aio_mode(qemu_settings &s, std::string_view mode);
granule::result<void> set_format(qemu_settings &s, std::string_view format);
// -d/--discard: checked (ignore, off, unmap, on), without effect: discards
// always reach the driver.
granule::result<void> check_discard_mode(std::string_view mode);
// -s/--snapshot: refused, there is no snapshot layer to keep writes off the image.
granule::result<void> refuse_snapshot();

// opts as Granule opens them (see above).
granule::result<granule::options> from_qemu(granule::options opts, const qemu_settings &s);

}  // namespace granule_io
