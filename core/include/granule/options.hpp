// Node options: QEMU-style dotted keys ("driver=blkdebug,align=4096,
// image.driver=raw-posix,image.filename=d.img") or a filename shorthand.
// A comma inside a value is written twice (",,").
#pragma once

#include <granule/error.hpp>

#include <map>
#include <string>
#include <string_view>

namespace granule {

using options = std::map<std::string, std::string>;

// Parses "k=v,k2=v2". Errors name the malformed item (missing '=', empty key,
// duplicate key).
result<options> parse_options(std::string_view text);

// Whether device::open(spec) reads spec as dotted options: it holds
// "driver=" or "filename=" at top level (even when it then fails to parse);
// otherwise spec is a filename shorthand ("d.img", "iscsi://...").
bool looks_like_options(std::string_view spec);

// "a=1,b.c=2" from options, with ',' doubled in values.
std::string format_options(const options &opts);

// The keys below "prefix." with the prefix removed.
options sub_options(const options &opts, std::string_view child);
// As sub_options, and removes those keys from opts.
options take_sub_options(options &opts, std::string_view child);

// Parses a size with optional k/K, M, G, T, P, E suffix (powers of 1024) or a
// "0x" hex number; the error names what (e.g. "option 'align'") and the value.
result<std::uint64_t> parse_size(std::string_view text, std::string_view what);
result<bool> parse_bool(std::string_view text, std::string_view what);

// text with the password of any "scheme://user%password@host" URL replaced by
// "***", for messages and listings (iscsi:// URLs may carry one).
std::string redact_secrets(std::string_view text);

}  // namespace granule
