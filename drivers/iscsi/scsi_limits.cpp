#include "scsi_limits.hpp"

#include <granule/platform/aligned_buffer.hpp>

#include <algorithm>
#include <cerrno>

namespace granule_iscsi {

using granule::sdk::fail;
using std::uint64_t;

namespace {

constexpr int vpd_alloc = 255;
constexpr uint64_t unmap_no_limit = 0xFFFFFFFFu;

bool pow2(uint64_t v) { return v && !(v & (v - 1)); }

uint64_t min_nonzero(uint64_t a, uint64_t b)
{
    return a == 0 ? b : b == 0 ? a : std::min(a, b);
}

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

uint64_t write_granularity(const lun_geometry &g)
{
    uint64_t bs = g.block_size, wg = bs;
    // Physical blocks and the transfer granularity count from LBA 0 only when
    // LOWEST ALIGNED LOGICAL BLOCK ADDRESS is 0; otherwise no alignment from
    // 0 expresses them, and the logical block is all we can promise.
    if (g.lowest_aligned == 0) {
        wg = std::max(wg, g.physical_block());
        if (g.have_b0 && pow2(uint64_t{g.opt_gran} * bs))
            wg = std::max(wg, uint64_t{g.opt_gran} * bs);
    }
    return wg;
}

uint64_t unmap_alignment(const lun_geometry &g)
{
    uint64_t bs = g.block_size, ug = uint64_t{g.opt_unmap_gran} * bs;
    if (!pow2(ug) || (g.ugavalid && g.unmap_gran_align != 0))
        return bs;
    return std::max(ug, bs);
}

uint64_t max_transfer_of(const lun_geometry &g)
{
    uint64_t cap = transfer_cap(g.block_size);
    return g.max_xfer_len ? std::min(uint64_t{g.max_xfer_len} * g.block_size, cap) : cap;
}

}  // namespace

uint64_t transfer_cap(std::uint32_t block_size) noexcept
{
    return block_size ? (uint64_t{0xFFFFFFFFu} / block_size) * block_size : 0;
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
    return g;
}

void apply_limits(const lun_geometry &g, granule_limits &l)
{
    const uint64_t bs = g.block_size;
    l.request_alignment = std::max(l.request_alignment, bs);
    l.min_mem_alignment = std::max<uint64_t>(l.min_mem_alignment, 1);  // bytes go over TCP
    l.opt_mem_alignment = std::max<uint64_t>(l.opt_mem_alignment, granule::platform::page_size());
    const uint64_t mt = max_transfer_of(g);
    l.max_transfer = min_nonzero(l.max_transfer, mt);
    if (g.opt_xfer_len && uint64_t{g.opt_xfer_len} * bs <= mt)
        l.opt_transfer = uint64_t{g.opt_xfer_len} * bs;
    uint64_t zero_align = write_granularity(g);
    if (g.use_write_same() && g.lbprz)  // WRITE SAME with UNMAP frees whole granules
        zero_align = std::max(zero_align, unmap_alignment(g));
    l.pwrite_zeroes_alignment = std::max(l.pwrite_zeroes_alignment, zero_align);
    if (g.use_unmap()) {
        uint64_t a = unmap_alignment(g);
        l.pdiscard_alignment = std::max(l.pdiscard_alignment, a);
        uint64_t lbas = g.max_unmap == unmap_no_limit ? unmap_no_limit : g.max_unmap;
        uint64_t md = std::max(lbas * bs / a * a, a);
        l.max_pdiscard = min_nonzero(l.max_pdiscard, md);
    } else {
        l.pdiscard_alignment = std::max(l.pdiscard_alignment, bs);
    }
}

std::string describe_geometry(const lun_geometry &g)
{
    const uint64_t bs = g.block_size;
    auto n = [](uint64_t v) { return std::to_string(v); };
    std::string s;
    s += "logical_block_length: " + n(bs) + " (READ CAPACITY(16))\n";
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
    s += "max_transfer: " + n(max_transfer_of(g)) +
         (g.max_xfer_len ? " (MAXIMUM TRANSFER LENGTH x block)\n"
                         : " (no MAXIMUM TRANSFER LENGTH: libiscsi's 32-bit data length)\n");
    s += "opt_transfer: " +
         (g.opt_xfer_len && uint64_t{g.opt_xfer_len} * bs <= max_transfer_of(g)
              ? n(uint64_t{g.opt_xfer_len} * bs) + " (OPTIMAL TRANSFER LENGTH x block)\n"
              : std::string("0 (none reported)\n"));
    s += "write_granularity: " + n(write_granularity(g)) +
         " (max of logical block, physical block and GRANULARITY x block)\n";
    if (g.use_unmap())
        s += "discard: UNMAP (VPD 0xB2 LBPU 1), granularity " + n(unmap_alignment(g)) + "\n";
    else
        s += std::string("discard: not supported (") +
             (!g.lbpme ? "LBPME 0" : !g.have_b2 ? "VPD 0xB2 not served"
                                 : !g.lbpu      ? "VPD 0xB2 LBPU 0"
                                                : "MAXIMUM UNMAP LBA COUNT 0") +
             ")\n";
    if (g.use_write_same())
        s += std::string("write_zeroes: WRITE SAME(16)") +
             (g.lbprz ? " with UNMAP (LBPWS 1, LBPRZ 1)\n" : " without UNMAP (LBPRZ 0)\n");
    else
        s += std::string("write_zeroes: written as zero buffers (") +
             (!g.lbpme ? "LBPME 0" : !g.have_b2 ? "VPD 0xB2 not served" : "VPD 0xB2 LBPWS 0") +
             ")\n";
    return s;
}

}  // namespace granule_iscsi
