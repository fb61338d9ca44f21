#include "limits.hpp"

#include <granule/platform/aligned_buffer.hpp>

#include <algorithm>

namespace granule_nbd {

using std::uint64_t;

namespace {

// The sources, as `granule-img info` prints them after "nbd: ".
constexpr const char *src_min = "NBD_INFO_BLOCK_SIZE minimum block size";
constexpr const char *src_min_default =
    "NBD protocol default minimum block size 1 (the server advertised none)";
constexpr const char *src_max = "NBD_INFO_BLOCK_SIZE maximum block size";
constexpr const char *src_max_libnbd =
    "libnbd's 64 MiB request limit (NBD_INFO_BLOCK_SIZE maximum block size is larger)";
constexpr const char *src_max_default =
    "NBD protocol: 32 MiB, the largest read or write a client should send when the server "
    "advertises no maximum block size";
constexpr const char *src_pref = "NBD_INFO_BLOCK_SIZE preferred block size";

bool pow2(uint64_t v) { return v && !(v & (v - 1)); }

std::string yes_no(bool b) { return b ? "yes" : "no"; }

}  // namespace

sourced alignment_of(const export_facts &f) noexcept
{
    // The protocol allows 1 to 64 KiB, a power of two; connection.cpp
    // refuses anything else, this keeps a unit test's odd row harmless.
    if (f.min_block && pow2(f.min_block))
        return {f.min_block, src_min};
    return {1, src_min_default};
}

sourced max_transfer_of(const export_facts &f) noexcept
{
    const uint64_t a = alignment_of(f).value;
    sourced m{protocol_default_max, src_max_default};
    if (f.max_block)
        m = f.max_block > libnbd_max_request ? sourced{libnbd_max_request, src_max_libnbd}
                                             : sourced{f.max_block, src_max};
    m.value = std::max(m.value / a * a, a);
    return m;
}

uint64_t usable_length(const export_facts &f) noexcept
{
    const uint64_t a = alignment_of(f).value;
    return f.size / a * a;
}

void apply_limits(const export_facts &f, granule_limits &l)
{
    const sourced a = alignment_of(f);
    granule_limit_raise(&l.request_alignment, a.value, a.source);
    granule_limit_raise(&l.min_mem_alignment, 1, "any address: the data goes through a socket");
    granule_limit_raise(&l.opt_mem_alignment, granule::platform::page_size(), "page size");
    const sourced m = max_transfer_of(f);
    granule_limit_cap(&l.max_transfer, m.value, m.source);
    // A preference above what may be sent at once is no preference.
    if (f.pref_block && pow2(f.pref_block) && f.pref_block <= m.value) {
        l.opt_transfer.value = f.pref_block;
        l.opt_transfer.source = src_pref;
    }
}

std::uint32_t node_flags_of(const export_facts &f, bool read_only) noexcept
{
    if (read_only || f.read_only)
        return GRANULE_NODE_READ_ONLY;
    std::uint32_t flags = 0;
    if (f.can_fua)
        flags |= GRANULE_NODE_FUA;
    if (f.can_zero) {
        // Without NBD_CMD_FLAG_NO_HOLE the server may punch a hole, and
        // WRITE_ZEROES promises the range reads as zeroes either way.
        flags |= GRANULE_NODE_ZERO_MAY_UNMAP;
        // NBD_CMD_FLAG_FAST_ZERO: the server fails (ENOTSUP) at once
        // rather than write zeroes slowly: no_fallback, exactly.
        if (f.can_fast_zero)
            flags |= GRANULE_NODE_ZERO_NO_FALLBACK;
    }
    return flags;
}

std::uint32_t block_status_of(std::uint32_t nbd_flags) noexcept
{
    constexpr std::uint32_t hole = 1, zero = 2;  // NBD_STATE_HOLE, NBD_STATE_ZERO
    const bool h = nbd_flags & hole, z = nbd_flags & zero;
    if (h)
        return z ? GRANULE_BLOCK_ZERO : 0;
    return GRANULE_BLOCK_DATA | (z ? GRANULE_BLOCK_ZERO : 0);
}

std::string describe_export(const export_facts &f, bool read_only)
{
    auto n = [](uint64_t v) { return std::to_string(v); };
    std::string s;
    s += "export: '" + f.export_name + "', size " + n(f.size) + "\n";
    s += "protocol: " + (f.protocol.empty() ? std::string("unknown") : f.protocol) +
         (f.structured_replies ? ", structured replies" : ", simple replies only") +
         (f.tls_negotiated ? ", TLS" : ", no TLS") + "\n";
    if (f.min_block || f.pref_block || f.max_block)
        s += "block_size: NBD_INFO_BLOCK_SIZE minimum " + n(f.min_block) + ", preferred " +
             n(f.pref_block) + ", maximum " + n(f.max_block) + "\n";
    else
        s += "block_size: not advertised (the protocol's defaults: minimum 1, no preference, "
             "reads and writes of at most 32 MiB)\n";
    if (const uint64_t len = usable_length(f); len != f.size)
        s += "length: " + n(len) + " (the export's last " + n(f.size - len) +
             " bytes lie in a partial " + n(alignment_of(f).value) +
             "-byte block and cannot be addressed)\n";
    s += "transmission_flags: read-only " + yes_no(f.read_only) + ", flush " +
         yes_no(f.can_flush) + ", fua " + yes_no(f.can_fua) + ", trim " + yes_no(f.can_trim) +
         ", write-zeroes " + yes_no(f.can_zero) + ", fast-zero " + yes_no(f.can_fast_zero) +
         ", multi-conn " + yes_no(f.can_multi_conn) + ", cache " + yes_no(f.can_cache) +
         ", df " + yes_no(f.can_df) + ", rotational " + yes_no(f.is_rotational) + "\n";
    const std::string block_status =
        f.base_allocation
            ? "block_status: base:allocation (NBD_CMD_BLOCK_STATUS)\n"
            : "block_status: base:allocation not negotiated: every range reads as data\n";
    if (f.read_only || read_only)
        return s + "writes: refused (" +
               (f.read_only ? "NBD_FLAG_READ_ONLY" : "opened read-only") +
               "); flush, trim and write-zeroes are not sent\n" + block_status;
    s += f.can_flush ? "flush: NBD_CMD_FLUSH\n"
                     : "flush: nothing sent (NBD_FLAG_SEND_FLUSH not advertised: the server "
                       "keeps no volatile cache)\n";
    s += f.can_fua ? "fua: NBD_CMD_FLAG_FUA on writes and write-zeroes\n"
                   : "fua: the core flushes after the write (NBD_FLAG_SEND_FUA not advertised)\n";
    s += f.can_trim ? "discard: NBD_CMD_TRIM\n"
                    : "discard: not supported (NBD_FLAG_SEND_TRIM not advertised)\n";
    if (f.can_zero)
        s += std::string("write_zeroes: NBD_CMD_WRITE_ZEROES, with NBD_CMD_FLAG_NO_HOLE unless "
                         "the request may unmap") +
             (f.can_fast_zero ? "; no_fallback requests with NBD_CMD_FLAG_FAST_ZERO\n"
                              : "; no_fallback requests refused by the core "
                                "(NBD_FLAG_SEND_FAST_ZERO not advertised)\n");
    else
        s += "write_zeroes: zero buffers, written by the core (NBD_FLAG_SEND_WRITE_ZEROES not "
             "advertised)\n";
    return s + block_status;
}

}  // namespace granule_nbd
