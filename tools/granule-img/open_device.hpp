// How every granule-img subcommand opens its SPEC: dotted options when
// forced (--image-opts) or when the text says so (driver=, filename=),
// otherwise a filename shorthand, exactly as granule::device::open(spec).
#pragma once

#include <granule/device.hpp>

#include <memory>
#include <string_view>

granule::result<std::unique_ptr<granule::device>> open_device(std::string_view spec,
                                                              bool image_opts,
                                                              granule::open_flags flags = {});
