#include "export_table.hpp"

#include "nbd_protocol.hpp"

#include <algorithm>
#include <bit>

namespace granule_nbd {

block_sizes advertised_block_sizes(const granule::limits &l)
{
    constexpr std::uint64_t floor_max = 1u << 20;
    block_sizes s;
    std::uint64_t preferred = std::max<std::uint64_t>(l.request_alignment, 512);
    if (l.opt_transfer > preferred && std::has_single_bit(l.opt_transfer) &&
        l.opt_transfer <= portable_payload)
        preferred = l.opt_transfer;
    preferred = std::min<std::uint64_t>(preferred, portable_payload);
    std::uint64_t maximum = l.max_transfer ? l.max_transfer : portable_payload;
    maximum = std::clamp<std::uint64_t>(maximum, floor_max, portable_payload);
    s.preferred = static_cast<std::uint32_t>(preferred);
    s.maximum = static_cast<std::uint32_t>(std::max(maximum, preferred));
    return s;
}

std::uint16_t nbd_export::transmission_flags() const
{
    // Every connection to an export shares its one device: a flush on one
    // covers writes completed on all, which is what multi-conn promises.
    std::uint16_t f = tflag_has_flags | tflag_send_flush | tflag_send_fua | tflag_send_df |
                      tflag_can_multi_conn | tflag_send_cache;
    if (read_only)
        f |= tflag_read_only;
    else
        f |= tflag_send_trim | tflag_send_write_zeroes | tflag_send_fast_zero;
    return f;
}

nbd_export *export_table::find(const std::string &name)
{
    auto it = std::find_if(exports_.begin(), exports_.end(),
                           [&](const nbd_export &e) { return e.name == name; });
    return it == exports_.end() ? nullptr : &*it;
}

}  // namespace granule_nbd
