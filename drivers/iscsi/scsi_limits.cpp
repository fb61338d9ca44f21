#include "scsi_limits.hpp"

#include <granule/platform/aligned_buffer.hpp>

#include <algorithm>
#include <cerrno>
#include <climits>

namespace granule_iscsi {

using granule::sdk::fail;
using std::uint64_t;

namespace {

constexpr int vpd_alloc = 255;
constexpr uint64_t unmap_no_limit = 0xFFFFFFFFu;

bool pow2(uint64_t v) { return v && !(v & (v - 1)); }

// INQUIRY with EVPD=1; NULL when the target rejects the page (CHECK CONDITION).
task_ptr inquiry_vpd(session &s, int page, const char *name)
{
    const int lun = s.config().lun;
    auto t = s.run(name, [&](iscsi_context *c, iscsi_command_cb cb, void *p) {
        return iscsi_inquiry_task(c, lun, 1, page, vpd_alloc, cb, p);
    });
    if (t->status == SCSI_STATUS_CHECK_CONDITION)
        return nullptr;
    if (t->status != SCSI_STATUS_GOOD)
        fail(status_errno(t->status, t.get()), std::string(name) + " on " +
                                                   s.config().where() + ": " +
                                                   status_text(t->status, t.get()));
    return t;
}

// The field names as SBC-4 prints them: the sources of the limits
// (granule-img info shows them after "iscsi: ").
constexpr const char *src_block_length = "READ CAPACITY(16) LOGICAL BLOCK LENGTH";
constexpr const char *src_lbppbe = "READ CAPACITY(16) LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT";
constexpr const char *src_granularity = "Block Limits VPD 0xB0 OPTIMAL TRANSFER LENGTH GRANULARITY";
constexpr const char *src_unmap_granularity = "Block Limits VPD 0xB0 OPTIMAL UNMAP GRANULARITY";
constexpr const char *src_zero_unmap_granularity =
    "Block Limits VPD 0xB0 OPTIMAL UNMAP GRANULARITY (WRITE SAME(16) with UNMAP)";
constexpr const char *src_opt_transfer = "Block Limits VPD 0xB0 OPTIMAL TRANSFER LENGTH";
constexpr const char *src_max_unmap = "Block Limits VPD 0xB0 MAXIMUM UNMAP LBA COUNT";
constexpr const char *src_max_unmap_none =
    "UNMAP block descriptor's 32-bit NUMBER OF LOGICAL BLOCKS (Block Limits VPD 0xB0 MAXIMUM "
    "UNMAP LBA COUNT: no limit)";

// A value and the field it came from (a string literal).
struct sourced {
    uint64_t value;
    const char *source;
};

// OPTIMAL UNMAP GRANULARITY x block when it describes an alignment from LBA
// 0 (a power of two, and no UNMAP GRANULARITY ALIGNMENT), else the block,
// saying why.
sourced unmap_alignment(const lun_geometry &g)
{
    uint64_t bs = g.block_size, ug = uint64_t{g.opt_unmap_gran} * bs;
    if (!g.have_b0)
        return {bs, "READ CAPACITY(16) LOGICAL BLOCK LENGTH (no Block Limits VPD 0xB0)"};
    if (ug == 0)
        return {bs, "READ CAPACITY(16) LOGICAL BLOCK LENGTH (Block Limits VPD 0xB0 OPTIMAL "
                    "UNMAP GRANULARITY 0)"};
    if (!pow2(ug))
        return {bs, "READ CAPACITY(16) LOGICAL BLOCK LENGTH (Block Limits VPD 0xB0 OPTIMAL "
                    "UNMAP GRANULARITY not a power of two)"};
    if (g.ugavalid && g.unmap_gran_align != 0)
        return {bs, "READ CAPACITY(16) LOGICAL BLOCK LENGTH (Block Limits VPD 0xB0 UNMAP "
                    "GRANULARITY ALIGNMENT not 0)"};
    return {std::max(ug, bs), src_unmap_granularity};
}

sourced max_transfer_of(const lun_geometry &g)
{
    uint64_t cap = transfer_cap(g.block_size);
    if (!g.have_b0)
        return {cap, "libiscsi's 32-bit data length (no Block Limits VPD 0xB0)"};
    if (!g.max_xfer_len)
        return {cap, "libiscsi's 32-bit data length (Block Limits VPD 0xB0 MAXIMUM TRANSFER "
                     "LENGTH 0: no limit)"};
    uint64_t mt = uint64_t{g.max_xfer_len} * g.block_size;
    if (mt > cap)
        return {cap, "libiscsi's 32-bit data length (below Block Limits VPD 0xB0 MAXIMUM "
                     "TRANSFER LENGTH)"};
    return {mt, "Block Limits VPD 0xB0 MAXIMUM TRANSFER LENGTH"};
}

// One WRITE SAME(16) must finish well within `timeout` (30 s by default,
// tests use 2-3 s). Without UNMAP the target writes every block: tgtd 1.0.85
// over a file in the page cache writes 512-byte blocks at ~190 MB/s (1 GiB
// in 5.6 s, measured), a disk behind a real target may be ten times slower;
// 128 MiB is then still ~7 s, and the extra round trips (one per 128 MiB)
// cost nothing measurable. With UNMAP the target deallocates (tgtd punches a
// hole), so 1 GiB per command, as for UNMAP itself.
constexpr uint64_t write_same_bytes = uint64_t{128} << 20;
constexpr uint64_t write_same_unmap_bytes = uint64_t{1} << 30;

// MODE SENSE(6) of all pages, for the header's DEVICE-SPECIFIC PARAMETER
// (byte 2; DPOFUA is its bit 4). False when the target rejects the command.
bool mode_sense_dpofua(session &s, bool &dpofua)
{
    const int lun = s.config().lun;
    auto t = s.run("MODE SENSE(6)", [&](iscsi_context *c, iscsi_command_cb cb, void *p) {
        return iscsi_modesense6_task(c, lun, 0, SCSI_MODESENSE_PC_CURRENT,
                                     SCSI_MODEPAGE_RETURN_ALL_PAGES, 0, vpd_alloc, cb, p);
    });
    if (t->status != SCSI_STATUS_GOOD || t->datain.size < 4 || !t->datain.data)
        return false;
    dpofua = (t->datain.data[2] & 0x10) != 0;
    return true;
}

}  // namespace

uint64_t transfer_cap(std::uint32_t block_size) noexcept
{
    return block_size ? (uint64_t{0xFFFFFFFFu} / block_size) * block_size : 0;
}

write_same_cap write_same_blocks(const lun_geometry &g, bool unmap) noexcept
{
    // Both byte counts are multiples of every block size (512 B to 1 MiB), and
    // their block counts fit NUMBER OF LOGICAL BLOCKS' 32 bits.
    const uint64_t fixed = (unmap ? write_same_unmap_bytes : write_same_bytes) / g.block_size;
    const auto n = [](uint64_t v) { return static_cast<std::uint32_t>(v); };
    if (g.have_b0 && g.max_ws_len != 0 && g.max_ws_len <= fixed)
        return {n(g.max_ws_len), "Block Limits VPD 0xB0 MAXIMUM WRITE SAME LENGTH"};
    if (unmap)
        return {n(fixed), g.max_ws_len ? "1 GiB per command with UNMAP (below Block Limits VPD "
                                         "0xB0 MAXIMUM WRITE SAME LENGTH)"
                          : g.have_b0 ? "1 GiB per command with UNMAP (Block Limits VPD 0xB0 "
                                        "MAXIMUM WRITE SAME LENGTH 0: no limit)"
                                      : "1 GiB per command with UNMAP (no Block Limits VPD 0xB0)"};
    return {n(fixed), g.max_ws_len ? "128 MiB per command without UNMAP (below Block Limits VPD "
                                     "0xB0 MAXIMUM WRITE SAME LENGTH)"
                      : g.have_b0 ? "128 MiB per command without UNMAP (Block Limits VPD 0xB0 "
                                    "MAXIMUM WRITE SAME LENGTH 0: no limit)"
                                  : "128 MiB per command without UNMAP (no Block Limits VPD 0xB0)"};
}

lun_geometry read_capacity(session &s)
{
    const auto &cfg = s.config();
    auto t = s.run("READ CAPACITY(16)", [&](iscsi_context *c, iscsi_command_cb cb, void *p) {
        return iscsi_readcapacity16_task(c, cfg.lun, cb, p);
    });
    if (t->status != SCSI_STATUS_GOOD)
        fail(status_errno(t->status, t.get()),
             "READ CAPACITY(16) on " + cfg.where() + ": " + status_text(t->status, t.get()));
    auto *rc = static_cast<scsi_readcapacity16 *>(scsi_datain_unmarshall(t.get()));
    if (!rc)
        fail(EIO, "READ CAPACITY(16) on " + cfg.where() + ": answer cannot be parsed");
    lun_geometry g;
    g.block_size = rc->block_length;
    g.blocks = rc->returned_lba + 1;
    g.lbppbe = rc->lbppbe;
    g.lowest_aligned = rc->lalba;
    g.lbpme = rc->lbpme;
    g.lbprz = rc->lbprz;
    if (!pow2(g.block_size) || g.block_size < 512 || g.block_size > (1u << 20))
        fail(ENOTSUP, cfg.where() + ": logical block length " + std::to_string(g.block_size) +
                          " is not a power of two from 512 to 1M");
    if (g.lbppbe > 16)
        fail(ENOTSUP, cfg.where() + ": LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT " +
                          std::to_string(g.lbppbe) + " is implausible");
    return g;
}

lun_geometry probe_lun(session &s)
{
    lun_geometry g = read_capacity(s);
    if (auto t = inquiry_vpd(s, SCSI_INQUIRY_PAGECODE_SUPPORTED_VPD_PAGES, "INQUIRY VPD 0x00")) {
        auto *sp = static_cast<scsi_inquiry_supported_pages *>(scsi_datain_unmarshall(t.get()));
        if (sp) {
            g.have_vpd_list = true;
            for (int i = 0; i < sp->num_pages; ++i) {
                g.have_b0 |= sp->pages[i] == SCSI_INQUIRY_PAGECODE_BLOCK_LIMITS;
                g.have_b2 |= sp->pages[i] == SCSI_INQUIRY_PAGECODE_LOGICAL_BLOCK_PROVISIONING;
            }
        }
    }
    if (g.have_b0) {
        auto t = inquiry_vpd(s, SCSI_INQUIRY_PAGECODE_BLOCK_LIMITS, "INQUIRY VPD 0xB0");
        auto *bl = t ? static_cast<scsi_inquiry_block_limits *>(scsi_datain_unmarshall(t.get()))
                     : nullptr;
        g.have_b0 = bl != nullptr;
        if (bl) {
            g.max_xfer_len = bl->max_xfer_len;
            g.opt_xfer_len = bl->opt_xfer_len;
            g.opt_gran = bl->opt_gran;
            g.max_unmap = bl->max_unmap;
            g.opt_unmap_gran = bl->opt_unmap_gran;
            g.ugavalid = bl->ugavalid != 0;
            g.unmap_gran_align = bl->unmap_gran_align;
            g.max_ws_len = bl->max_ws_len;
        }
    }
    if (g.have_b2) {
        auto t = inquiry_vpd(s, SCSI_INQUIRY_PAGECODE_LOGICAL_BLOCK_PROVISIONING,
                             "INQUIRY VPD 0xB2");
        auto *lbp = t ? static_cast<scsi_inquiry_logical_block_provisioning *>(
                            scsi_datain_unmarshall(t.get()))
                      : nullptr;
        g.have_b2 = lbp != nullptr;
        if (lbp) {
            g.lbpu = lbp->lbpu != 0;
            g.lbpws = lbp->lbpws != 0;
        }
    }
    // Without Block Limits, UNMAP has no MAXIMUM UNMAP LBA COUNT to respect.
    if (!g.have_b0)
        g.max_unmap = 0;
    g.have_mode_sense = mode_sense_dpofua(s, g.dpofua);
    return g;
}

void apply_limits(const lun_geometry &g, granule_limits &l)
{
    const uint64_t bs = g.block_size;
    granule_limit_raise(&l.request_alignment, bs, src_block_length);
    granule_limit_raise(&l.min_mem_alignment, 1, "any address: the data goes through a TCP socket");
    granule_limit_raise(&l.opt_mem_alignment, granule::platform::page_size(), "page size");
    const sourced mt = max_transfer_of(g);
    granule_limit_cap(&l.max_transfer, mt.value, mt.source);
    if (g.opt_xfer_len && uint64_t{g.opt_xfer_len} * bs <= mt.value) {
        l.opt_transfer.value = uint64_t{g.opt_xfer_len} * bs;
        l.opt_transfer.source = src_opt_transfer;
    }
    // Efficient zeroing: the largest of logical block, physical block and
    // transfer granularity. Physical blocks and the transfer granularity count
    // from LBA 0 only when LOWEST ALIGNED LOGICAL BLOCK ADDRESS is 0;
    // otherwise no alignment from 0 expresses them, and the logical block is
    // all we can promise.
    granule_limit_raise(&l.pwrite_zeroes_alignment, bs, src_block_length);
    if (g.lowest_aligned == 0) {
        granule_limit_raise(&l.pwrite_zeroes_alignment, g.physical_block(), src_lbppbe);
        if (g.have_b0 && pow2(uint64_t{g.opt_gran} * bs))
            granule_limit_raise(&l.pwrite_zeroes_alignment, uint64_t{g.opt_gran} * bs,
                                src_granularity);
    }
    if (g.zero_may_unmap()) {  // WRITE SAME with UNMAP frees whole granules
        const sourced ua = unmap_alignment(g);
        if (ua.source == src_unmap_granularity)  // else it is the logical block, raised above
            granule_limit_raise(&l.pwrite_zeroes_alignment, ua.value, src_zero_unmap_granularity);
    }
    // libiscsi hands a request's iovec elements to one readv/writev per PDU,
    // which fails with EINVAL past IOV_MAX and closes the connection.
    granule_limit_cap(&l.max_iov, IOV_MAX, "IOV_MAX (libiscsi passes the iovec to readv/writev)");
    if (g.use_unmap()) {
        const sourced a = unmap_alignment(g);
        granule_limit_raise(&l.pdiscard_alignment, a.value, a.source);
        const bool no_limit = g.max_unmap == unmap_no_limit;
        uint64_t md = std::max(uint64_t{g.max_unmap} * bs / a.value * a.value, a.value);
        granule_limit_cap(&l.max_pdiscard, md, no_limit ? src_max_unmap_none : src_max_unmap);
    } else {
        granule_limit_raise(&l.pdiscard_alignment, bs, src_block_length);
    }
}

std::string describe_geometry(const lun_geometry &g, const write_same_refusals &refused)
{
    auto n = [](uint64_t v) { return std::to_string(v); };
    std::string s;
    s += "length: " + n(g.length()) + " (" + n(g.blocks) + " blocks, last LBA " +
         n(g.blocks - 1) + ")\n";
    s += "physical_block: " + n(g.physical_block()) +
         " (LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT " + n(g.lbppbe) +
         ", LOWEST ALIGNED LBA " + n(g.lowest_aligned) + ")\n";
    s += "provisioning: LBPME " + n(g.lbpme) + ", LBPRZ " + n(g.lbprz) + "\n";
    if (!g.have_vpd_list)
        s += "vpd: INQUIRY VPD 0x00 not answered: no Block Limits, no provisioning page\n";
    if (g.have_b0)
        s += "block_limits: VPD 0xB0: MAXIMUM TRANSFER LENGTH " + n(g.max_xfer_len) +
             ", OPTIMAL TRANSFER LENGTH " + n(g.opt_xfer_len) + ", GRANULARITY " +
             n(g.opt_gran) + ", MAXIMUM UNMAP LBA COUNT " + n(g.max_unmap) +
             ", OPTIMAL UNMAP GRANULARITY " + n(g.opt_unmap_gran) + " (UGAVALID " +
             n(g.ugavalid) + ", alignment " + n(g.unmap_gran_align) +
             "), MAXIMUM WRITE SAME LENGTH " + n(g.max_ws_len) + "\n";
    else
        s += "block_limits: VPD 0xB0 not served: no transfer limit or preference, unmap "
             "granularity = logical block\n";
    if (g.use_unmap())
        s += "discard: UNMAP (VPD 0xB2 LBPU 1)\n";
    else
        s += std::string("discard: not supported (") +
             (!g.lbpme ? "LBPME 0" : !g.have_b2 ? "VPD 0xB2 not served"
                                 : !g.lbpu      ? "VPD 0xB2 LBPU 0"
                                                : "MAXIMUM UNMAP LBA COUNT 0") +
             ")\n";
    // write_zeroes: WRITE SAME(16) on every LUN until the target refuses it
    // (event_loop); the UNMAP bit only where LBPWS and LBPRZ allow it.
    if (!refused.command.empty()) {
        s += "write_zeroes: zero buffers, written by the core (the target refused WRITE "
             "SAME(16): " + refused.command + ")\n";
    } else {
        const bool unmap = g.zero_may_unmap() && refused.unmap_bit.empty();
        s += "write_zeroes: WRITE SAME(16)";
        if (unmap)
            s += ", with UNMAP when the request allows it (LBPWS 1, LBPRZ 1)";
        else if (g.zero_may_unmap())
            s += " without UNMAP (the target refused its UNMAP bit: " + refused.unmap_bit +
                 ", although LBPWS 1)";
        else if (g.write_same_unmap())
            s += " without UNMAP (LBPRZ 0)";
        else
            s += std::string(" without UNMAP (") +
                 (!g.lbpme ? "LBPME 0" : !g.have_b2 ? "VPD 0xB2 not served" : "VPD 0xB2 LBPWS 0") +
                 ")";
        s += "; zero buffers from the core if the target refuses it\n";
        const write_same_cap plain = write_same_blocks(g, false);
        s += "write_same_blocks: " + n(plain.blocks) + " per command (" + plain.source + ")";
        if (unmap) {
            const write_same_cap with = write_same_blocks(g, true);
            s += ", with UNMAP " + n(with.blocks) + " (" + with.source + ")";
        }
        s += "\n";
    }
    if (g.dpofua)
        s += "fua: WRITE(16) FUA bit (MODE SENSE DPOFUA 1)\n";
    else
        s += std::string("fua: the core flushes after the write (") +
             (g.have_mode_sense ? "MODE SENSE DPOFUA 0" : "MODE SENSE(6) not answered") + ")\n";
    return s;
}

}  // namespace granule_iscsi
