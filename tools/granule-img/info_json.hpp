// granule-img info --output=json: the same facts as the text (the tree from
// device::description(), length, flags, every limit with its source) as one
// JSON object; the schema is in docs/granule-img.md ("info --output=json").
#pragma once

#include <granule/device.hpp>

#include <string>
#include <string_view>

namespace granule_img {

inline constexpr int info_schema_version = 1;

// spec is shown with its secrets redacted.
std::string info_json(std::string_view spec, const granule::device &d);

}  // namespace granule_img
