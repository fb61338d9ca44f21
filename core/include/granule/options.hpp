// Node options: QEMU-style dotted keys ("driver=blkdebug,align=4096,
// image.driver=raw-posix,image.filename=d.img") or a filename shorthand.
// A comma inside a value is written twice (",,").
#pragma once

#include <granule/export.hpp>

#include <granule/error.hpp>

#include <map>
#include <string>
#include <string_view>

namespace granule {

using options = std::map<std::string, std::string>;

// Parses "k=v,k2=v2". Errors name the malformed item (missing '=', empty key,
// duplicate key).
GRANULE_API result<options> parse_options(std::string_view text);

// Whether device::open(spec) reads spec as dotted options: it holds
// "driver=" or "filename=" at top level (even when it then fails to parse);
// otherwise spec is a filename shorthand ("d.img", "iscsi://...").
GRANULE_API bool looks_like_options(std::string_view spec);

// "a=1,b.c=2" from options, with ',' doubled in values.
GRANULE_API std::string format_options(const options &opts);

// The keys below "prefix." with the prefix removed.
GRANULE_API options sub_options(const options &opts, std::string_view child);
// As sub_options, and removes those keys from opts.
GRANULE_API options take_sub_options(options &opts, std::string_view child);

// Parses a size with optional k/K, M, G, T, P, E suffix (powers of 1024) or a
// "0x" hex number; the error names what (e.g. "option 'align'") and the value.
GRANULE_API result<std::uint64_t> parse_size(std::string_view text, std::string_view what);
GRANULE_API result<bool> parse_bool(std::string_view text, std::string_view what);

// text with its secrets replaced by "***", for messages and listings. text is
// dotted options, one option value, or a filename shorthand. In options that
// parse, every value loses its URL password (granule/url.hpp: from the first
// '%' after "://" to the last '@', taken literally) and every key whose last
// dotted component is "password" its value; the result is format_options() of
// that (keys sorted), or text itself when nothing was hidden. Other text, and
// options with an '@' outside a URL (the tail of a password whose ',' was not
// doubled), is redacted as one string: from the first '%' after the first
// "://" to the last '@', and every "password=" item. That may hide too much,
// never too little.
GRANULE_API std::string redact_secrets(std::string_view text);

}  // namespace granule
