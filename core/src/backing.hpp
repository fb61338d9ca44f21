// A backing node under a sparse overlay: the device's own "backing.*"
// options open a read-only node tree whose data shows through the holes of
// the root (the overlay); "copy-on-read=on" writes what was read from it into
// the overlay; "overlay-granularity" (default 64k) is the unit of both.
#pragma once

#include "device_impl.hpp"

#include <granule/options.hpp>

namespace granule {

struct backing_options {
    options node;  // the keys below "backing."
    std::uint64_t granularity = 65536;
    bool copy_on_read = false;
};

// Takes backing.*, copy-on-read and overlay-granularity off a device's
// options; errors name the key and value.
result<backing_options> take_backing_options(options &opts);

// Opens the backing tree (read-only) and checks the overlay can serve as
// one: it reports holes, and it is at least as long as the backing (a
// growable overlay is extended, as a hole). An empty result without
// backing.* keys.
result<backing_node> open_backing(const backing_options &b, node &overlay, bool read_only);

}  // namespace granule
