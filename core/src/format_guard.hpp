// Format safety of a device that reads every image as raw bytes: the core
// option `format`, and how messages name the device. The device's own part
// (the probe at open, the refusals) is device_impl's, in format_guard.cpp.
#pragma once

#include "node.hpp"

#include <granule/error.hpp>
#include <granule/options.hpp>

#include <string>

namespace granule {

// Takes the root's `format` key off opts: true for format=raw (the bytes are
// meant as raw: nothing is checked), false when absent (the device probes).
// Any other value is an error naming it: Granule has no format drivers.
result<bool> take_format_option(options &opts);

// How messages name what a device holds: its filename, quoted and without
// secrets ("'t.qcow2'"), else the nearest child's (blkdebug's image), else
// "the memory device".
std::string image_subject(const node &root);

}  // namespace granule
