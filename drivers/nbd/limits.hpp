// What an NBD server says about its export, read once after the handshake
// (connection.cpp), and how that becomes Granule limits, node flags and info
// lines. Pure: no libnbd call here, so tests/unit can feed it any server.
// Which server field feeds which limit is tabled in docs/drivers/nbd.md.
#pragma once

#include <granule/driver_abi.h>

#include <cstdint>
#include <string>

namespace granule_nbd {

struct export_facts {
    std::uint64_t size = 0;  // NBD_INFO_EXPORT / NBD_OPT_EXPORT_NAME size
    // NBD_INFO_BLOCK_SIZE (nbd_get_block_size); 0 = not advertised.
    std::uint64_t min_block = 0;
    std::uint64_t pref_block = 0;
    std::uint64_t max_block = 0;
    // Transmission flags (nbd_is_read_only, nbd_can_*).
    bool read_only = false;
    bool can_flush = false;
    bool can_fua = false;
    bool can_trim = false;
    bool can_zero = false;
    bool can_fast_zero = false;
    bool can_multi_conn = false;
    bool can_cache = false;
    bool can_df = false;
    bool is_rotational = false;
    bool base_allocation = false;     // nbd_can_meta_context("base:allocation")
    bool structured_replies = false;  // nbd_get_structured_replies_negotiated
    bool tls_negotiated = false;
    std::string protocol;             // nbd_get_protocol: "newstyle-fixed", ...
    std::string export_name;          // nbd_get_export_name
    std::string uri;                  // nbd_get_uri (empty when libnbd cannot make one)
};

// libnbd refuses reads and writes above 64 MiB (ERANGE) whatever the server says.
inline constexpr std::uint64_t libnbd_max_request = std::uint64_t{64} << 20;
// The NBD protocol's advice when a server advertises no maximum: a client
// desiring interoperability sends reads and writes of at most 32 MiB.
inline constexpr std::uint64_t protocol_default_max = std::uint64_t{32} << 20;
// Trim, write-zeroes and block-status requests carry a 32-bit length: the
// driver sends ranges in pieces of at most this (a power of two, so a
// multiple of every minimum block size, which is at most 64 KiB).
inline constexpr std::uint64_t range_chunk = std::uint64_t{1} << 30;

struct sourced {
    std::uint64_t value;
    const char *source;  // string literal, without the driver's name
};

// request_alignment: the minimum block size, or 1 when none is advertised.
sourced alignment_of(const export_facts &f) noexcept;
// max_transfer: the maximum block size (at most libnbd's 64 MiB), or the
// protocol's 32 MiB when none is advertised; always a multiple of the alignment.
sourced max_transfer_of(const export_facts &f) noexcept;
// The length the node reports: the export size rounded down to the minimum
// block size (the bytes of a partial last block cannot be addressed while
// obeying it; NBD servers advertise sizes that are multiples of it anyway).
std::uint64_t usable_length(const export_facts &f) noexcept;

// The limits this export needs; raises/sets fields of l (refresh_limits),
// each with its source: "NBD_INFO_BLOCK_SIZE minimum block size", ...
void apply_limits(const export_facts &f, granule_limits &l);

// GRANULE_NODE_* from the transmission flags (read_only: the host opened
// the node read-only, or the server exports it so).
std::uint32_t node_flags_of(const export_facts &f, bool read_only) noexcept;

// NBD base:allocation flags of one extent -> GRANULE_BLOCK_*:
//   0 (allocated data)          -> DATA
//   NBD_STATE_ZERO              -> DATA | ZERO (allocated, reads as zeroes)
//   NBD_STATE_HOLE | _ZERO      -> ZERO (a hole that reads as zeroes)
//   NBD_STATE_HOLE              -> 0: not allocated, but NOT known to read as
//                                  zeroes, so nobody may skip reading it
std::uint32_t block_status_of(std::uint32_t nbd_flags) noexcept;

// "key: value" lines for info(): the export, what the server advertised (raw)
// and what each request kind is sent as. The limits themselves, with their
// sources, are the host's to show (refresh_limits). read_only: the host
// opened the node read-only (the export's own flag is in f).
std::string describe_export(const export_facts &f, bool read_only = false);

}  // namespace granule_nbd
