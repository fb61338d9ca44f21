// iscsi: one LUN of an iSCSI target, through libiscsi. Open logs in and reads
// the LUN's geometry and limits synchronously (session.cpp, scsi_limits.cpp);
// the data path is asynchronous on a thread of our own (event_loop.cpp).
// docs/drivers/iscsi.md is the user's page.
#include "config.hpp"
#include "event_loop.hpp"
#include "scsi_limits.hpp"
#include "session.hpp"

#include <granule/driver.hpp>

namespace {

using namespace granule::sdk;
using namespace granule_iscsi;
using std::uint64_t;

class iscsi_node {
public:
    static constexpr const char *name = "iscsi";
    static constexpr const char *description =
        "iSCSI LUN through libiscsi (iscsi://[user[%password]@]host[:port]/target-iqn/lun)";
    static constexpr const char *const prefixes[] = {"iscsi://", nullptr};
    static constexpr granule_option_desc options[] = {
        {"filename", GRANULE_OPT_STRING, 0,
         "iscsi://[user[%password]@]host[:port]/target-iqn/lun"},
        {"portal", GRANULE_OPT_STRING, 0, "host[:port] of the target (port 3260)"},
        {"target", GRANULE_OPT_STRING, 0, "target IQN"},
        {"lun", GRANULE_OPT_INT, 0, "logical unit number (0-16383)"},
        {"user", GRANULE_OPT_STRING, 0, "CHAP user name"},
        {"password-file", GRANULE_OPT_STRING, 0, "file holding the CHAP password"},
        {"initiator-name", GRANULE_OPT_STRING, 0,
         "our IQN (iqn.2026-11.org.granule:initiator)"},
        {"header-digest", GRANULE_OPT_STRING, 0, "none, crc32c, none-crc32c, crc32c-none (none)"},
        {"timeout", GRANULE_OPT_INT, 0, "seconds per exchange, 0 = none (30)"},
        {"queue-depth", GRANULE_OPT_INT, 0, "SCSI commands in flight at most (32)"},
    };

    explicit iscsi_node(const open_context &ctx)
        : cfg_(parse_config(ctx.options())), read_only_(ctx.read_only())
    {
        auto s = session::open(cfg_);
        geo_ = probe_lun(*s);
        loop_ = std::make_unique<event_loop>(std::move(s), geo_);
    }

    // Fixed size: a LUN does not grow from our writes.
    // FUA: only when MODE SENSE reports DPOFUA = 1 (chosen over "always"):
    // WRITE(16) has the FUA bit, but DPOFUA = 0 in the mode parameter header
    // says the device server does not support the DPO and FUA bits. Such a
    // target may reject them (ILLEGAL REQUEST, INVALID FIELD IN CDB, as
    // libiscsi's own test suite expects) or ignore them, and an ignored FUA
    // would make a write look durable that is not. Without the flag the core
    // flushes after the write instead (SYNCHRONIZE CACHE); Linux's sd and
    // QEMU's iscsi driver decide the same way.
    // ZERO_MAY_UNMAP: only when WRITE SAME(16) may unmap and unmapped blocks
    // read as zeroes (LBPWS and LBPRZ, scsi_limits.hpp).
    // ZERO_NO_FALLBACK: write_zeroes never writes zero buffers itself: it
    // sends WRITE SAME(16) (on any LUN: the target writes the zeroes, none
    // cross the network) or completes -ENOTSUP at once, which it does only
    // once the target refused WRITE SAME(16). So a NO_FALLBACK request fails
    // exactly when the command is not available, and its first refusal,
    // which decides that, executes nothing (ILLEGAL REQUEST).
    uint32_t node_flags() const
    {
        uint32_t f = GRANULE_NODE_ZERO_NO_FALLBACK;
        if (read_only_)
            f |= GRANULE_NODE_READ_ONLY;
        if (geo_.dpofua)
            f |= GRANULE_NODE_FUA;
        if (geo_.zero_may_unmap())
            f |= GRANULE_NODE_ZERO_MAY_UNMAP;
        return f;
    }

    int64_t length() { return static_cast<int64_t>(geo_.length()); }

    // Read once at open; targets do not change their limits under a session.
    // The sources are string literals (scsi_limits.cpp).
    void refresh_limits(granule_limits &l) { apply_limits(geo_, l); }

    void submit(const granule_request &req, completion &done)
    {
        if (req.op != GRANULE_OP_READ && req.op != GRANULE_OP_WRITE)
            return done.fail(EINVAL, "iscsi: unknown op " + std::to_string(req.op));
        if (auto why = check_range(req.offset, req.length, transfer_cap(geo_.block_size));
            !why.empty())
            return done.fail(EINVAL, std::string("iscsi: ") +
                                         (req.op == GRANULE_OP_READ ? "read" : "write") + why);
        loop_->read_write(req, std::move(done));
    }

    // flags: none are defined for flush, discard (the host passes 0).
    void flush(uint32_t /*flags*/, completion &done) { loop_->flush(std::move(done)); }

    // -ENOTSUP makes the core treat discard as done (it is advisory).
    void discard(uint64_t off, uint64_t len, uint32_t /*flags*/, completion &done)
    {
        if (!geo_.use_unmap())
            return done.fail(ENOTSUP, "iscsi: the LUN does not support UNMAP");
        if (auto why = check_range(off, len, 0); !why.empty())
            return done.fail(EINVAL, "iscsi: discard" + why);
        loop_->discard(off, len, std::move(done));
    }

    // WRITE SAME(16) whatever the provisioning pages say: LBPWS speaks of
    // the UNMAP bit only, and a LUN without it (tgtd without thin
    // provisioning) still writes the same block over a range, sparing the
    // network the zeroes. -ENOTSUP, once the target refused the command
    // (event_loop), makes the core write zero buffers instead, or with
    // GRANULE_REQ_NO_FALLBACK fail the request: the driver itself never
    // writes zero buffers. GRANULE_REQ_MAY_UNMAP sets WRITE SAME's UNMAP bit
    // (declared only when LBPWS and LBPRZ allow it); GRANULE_REQ_FUA adds a
    // SYNCHRONIZE CACHE(16) of the range, WRITE SAME having no FUA bit.
    void write_zeroes(uint64_t off, uint64_t len, uint32_t flags, completion &done)
    {
        if (auto why = check_range(off, len, 0); !why.empty())
            return done.fail(EINVAL, "iscsi: write_zeroes" + why);
        if (len == 0)  // WRITE SAME's NUMBER OF LOGICAL BLOCKS 0 means "to the end"
            return done(0);
        const bool unmap = (flags & GRANULE_REQ_MAY_UNMAP) && geo_.zero_may_unmap();
        loop_->write_zeroes(off, len, unmap, (flags & GRANULE_REQ_FUA) != 0, std::move(done));
    }

    std::string info()
    {
        return "url: " + cfg_.url() + "\n" + "target: " + cfg_.where() + "\n" +
               "initiator-name: " + cfg_.initiator + "\n" + "chap: " +
               (cfg_.user.empty() ? std::string("off") : "user " + cfg_.user) + "\n" +
               "header-digest: " + cfg_.digest_name + "\n" + "timeout: " +
               (cfg_.timeout_s ? std::to_string(cfg_.timeout_s) + " s" : std::string("none")) +
               "\n" + "queue-depth: " + std::to_string(cfg_.queue_depth) + "\n" +
               "session: " + loop_->state() + "\n" + describe_geometry(geo_, loop_->refusals());
    }

private:
    // The core already aligns; this guards the 32-bit and end-of-LUN edges
    // with a message instead of a CHECK CONDITION.
    std::string check_range(uint64_t off, uint64_t len, uint64_t cap) const
    {
        const uint64_t bs = geo_.block_size;
        if (off % bs || len % bs)
            return " at offset " + std::to_string(off) + ", length " + std::to_string(len) +
                   " is not aligned to the " + std::to_string(bs) + "-byte logical block";
        if (cap && len > cap)
            return " of " + std::to_string(len) + " bytes exceeds " + std::to_string(cap);
        if (off > geo_.length() || len > geo_.length() - off)
            return " at offset " + std::to_string(off) + ", length " + std::to_string(len) +
                   " goes past the end of the LUN (" + std::to_string(geo_.length()) + " bytes)";
        return {};
    }

    target_config cfg_;
    bool read_only_;
    lun_geometry geo_;
    std::unique_ptr<event_loop> loop_;  // last: its thread stops before the rest goes
};

}  // namespace

GRANULE_DEFINE_DRIVER(iscsi_node)
