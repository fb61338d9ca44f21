#include "open_device.hpp"

#include <granule/options.hpp>

granule::result<std::unique_ptr<granule::device>> open_device(std::string_view spec,
                                                              bool image_opts,
                                                              granule::open_flags flags)
{
    if (!image_opts)
        return granule::device::open(spec, flags);
    auto opts = granule::parse_options(spec);
    if (!opts)
        return opts.error();
    return granule::device::open(*opts, flags);
}
