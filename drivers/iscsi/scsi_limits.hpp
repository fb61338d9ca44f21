// What a LUN says about itself, read once at open: READ CAPACITY(16), the
// Supported VPD Pages page (0x00), Block Limits (0xB0), Logical Block
// Provisioning (0xB2) and the MODE SENSE(6) header (DPOFUA); and how that
// becomes Granule limits, each with the SCSI field it came from. Which SCSI
// field feeds which limit is tabled in docs/drivers/iscsi.md.
#pragma once

#include "session.hpp"

#include <granule/driver_abi.h>

#include <cstdint>
#include <string>

namespace granule_iscsi {

struct lun_geometry {
    // READ CAPACITY(16)
    std::uint32_t block_size = 0;  // LOGICAL BLOCK LENGTH IN BYTES
    std::uint64_t blocks = 0;      // RETURNED LOGICAL BLOCK ADDRESS + 1
    unsigned lbppbe = 0;           // LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT
    unsigned lowest_aligned = 0;   // LOWEST ALIGNED LOGICAL BLOCK ADDRESS
    bool lbpme = false;
    bool lbprz = false;

    // VPD pages served (0x00); false when the target does not answer it.
    bool have_vpd_list = false;
    bool have_b0 = false;
    bool have_b2 = false;

    // Block Limits (0xB0), in logical blocks; 0 = not reported.
    std::uint32_t max_xfer_len = 0;
    std::uint32_t opt_xfer_len = 0;
    std::uint16_t opt_gran = 0;
    std::uint32_t max_unmap = 0;      // MAXIMUM UNMAP LBA COUNT, 0xFFFFFFFF = no limit
    std::uint32_t opt_unmap_gran = 0;
    bool ugavalid = false;
    std::uint32_t unmap_gran_align = 0;
    std::uint64_t max_ws_len = 0;     // MAXIMUM WRITE SAME LENGTH

    // Logical Block Provisioning (0xB2)
    bool lbpu = false;   // UNMAP supported
    bool lbpws = false;  // WRITE SAME(16) with the UNMAP bit supported

    // MODE SENSE(6) header, DEVICE-SPECIFIC PARAMETER; false when the target
    // does not answer it.
    bool have_mode_sense = false;
    bool dpofua = false;  // the device server supports the DPO and FUA bits

    std::uint64_t length() const noexcept { return blocks * block_size; }
    std::uint64_t physical_block() const noexcept { return std::uint64_t{block_size} << lbppbe; }
    // Whether discard uses UNMAP at all. (write_zeroes sends WRITE SAME(16)
    // without UNMAP to any LUN until the target refuses it: event_loop.)
    bool use_unmap() const noexcept { return lbpme && have_b2 && lbpu && max_unmap != 0; }
    // WRITE SAME(16) with the UNMAP bit is supported (LBPWS).
    bool write_same_unmap() const noexcept { return lbpme && have_b2 && lbpws; }
    // Whether write_zeroes may set WRITE SAME(16)'s UNMAP bit (when the
    // request allows it): the LU supports it (LBPWS) and unmapped blocks
    // read as zeroes (LBPRZ), so the range still reads as zeroes.
    bool zero_may_unmap() const noexcept { return write_same_unmap() && lbprz; }
};

// What the target refused of WRITE SAME(16) so far, as status_text() put it;
// empty = not refused. Learnt on the data path (event_loop), shown by info.
struct write_same_refusals {
    std::string command;    // WRITE SAME(16) itself: write_zeroes answers -ENOTSUP
    std::string unmap_bit;  // its UNMAP bit only: sent without it
};

// Blocking, at open and reconnect. Throws driver_error naming the LUN and the
// command, with the decoded sense for CHECK CONDITION.
lun_geometry read_capacity(session &s);          // READ CAPACITY(16) only
lun_geometry probe_lun(session &s);              // everything above

// Largest byte count one READ/WRITE(16) can move: libiscsi's data length is
// 32 bits, so this also bounds "no limit reported".
std::uint64_t transfer_cap(std::uint32_t block_size) noexcept;

// The limits this LUN needs; raises/sets fields of l (refresh_limits), each
// with its source: a string literal naming the SCSI field ("READ
// CAPACITY(16) LOGICAL BLOCK LENGTH"), without the driver's name (the host
// prefixes it).
void apply_limits(const lun_geometry &g, granule_limits &l);

// Blocks one WRITE SAME(16) covers at most, and why: MAXIMUM WRITE SAME
// LENGTH (Block Limits VPD 0xB0) when reported, never more than a fixed
// byte count per command (see scsi_limits.cpp). source is a string literal.
struct write_same_cap {
    std::uint32_t blocks;
    const char *source;
};
write_same_cap write_same_blocks(const lun_geometry &g, bool unmap) noexcept;

// "key: value" lines for info(): the raw fields of READ CAPACITY(16) and VPD
// 0xB0, what is assumed where a page is missing, and which commands discard,
// write_zeroes and FUA use (with what the target refused so far). The limits
// themselves, with their sources, are the host's to show (refresh_limits).
std::string describe_geometry(const lun_geometry &g, const write_same_refusals &refused = {});

}  // namespace granule_iscsi
