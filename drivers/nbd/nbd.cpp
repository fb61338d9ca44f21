// nbd: one export of an NBD server, through libnbd. Open connects and reads
// what the server advertises synchronously (connection.cpp, limits.cpp); the
// data path is asynchronous on a thread of our own (event_loop.cpp).
// docs/drivers/nbd.md is the user's page.
#include "config.hpp"
#include "connection.hpp"
#include "event_loop.hpp"
#include "limits.hpp"

#include <granule/driver.hpp>

#include <memory>

namespace {

using namespace granule::sdk;
using namespace granule_nbd;
using std::uint64_t;

class nbd_node {
public:
    static constexpr const char *name = "nbd";
    static constexpr const char *description =
        "export of an NBD server through libnbd (nbd://host[:port]/export, "
        "nbd+unix:///export?socket=PATH)";
    static constexpr const char *const *prefixes = uri_schemes;
    static constexpr granule_option_desc options[] = {
        {"filename", GRANULE_OPT_STRING, 0,
         "NBD URI: nbd://host[:port]/export, nbd+unix:///export?socket=PATH, nbds://, "
         "nbds+unix:// (TLS), nbd+vsock://"},
        {"server.type", GRANULE_OPT_STRING, 0,
         "inet or unix (default: from server.host or server.path)"},
        {"server.host", GRANULE_OPT_STRING, 0, "host name or address (server.type=inet)"},
        {"server.port", GRANULE_OPT_INT, 0, "TCP port (10809)"},
        {"server.path", GRANULE_OPT_STRING, 0, "Unix socket path (server.type=unix)"},
        {"export", GRANULE_OPT_STRING, 0, "export name (\"\")"},
        {"tls", GRANULE_OPT_STRING, 0,
         "off, on (when the server offers it), require (off; with filename the URI's scheme)"},
        {"tls-certificates", GRANULE_OPT_STRING, 0,
         "directory with ca-cert.pem, client-cert.pem, client-key.pem"},
        {"tls-psk-file", GRANULE_OPT_STRING, 0, "pre-shared keys file (username:hexkey lines)"},
        {"tls-username", GRANULE_OPT_STRING, 0, "PSK identity (the login name)"},
        {"timeout", GRANULE_OPT_INT, 0,
         "seconds for the handshake and for each request, 0 = none (30)"},
        {"queue-depth", GRANULE_OPT_INT, 0, "NBD commands in flight at most (32)"},
    };

    explicit nbd_node(const open_context &ctx)
        : cfg_(parse_config(ctx.options())), read_only_(ctx.read_only())
    {
        auto c = connect(cfg_);
        facts_ = std::move(c.facts);
        server_ = std::move(c.server);
        length_ = usable_length(facts_);
        align_ = alignment_of(facts_).value;
        max_transfer_ = max_transfer_of(facts_).value;
        loop_ = std::make_unique<event_loop>(std::move(c.handle), cfg_, server_,
                                             ctx.host_unplugs(), ctx.host_polls());
    }

    // Fixed size: an NBD export does not grow from our writes. Read-only
    // when the host opened it so or the server exports it so
    // (NBD_FLAG_READ_ONLY). FUA, MAY_UNMAP and NO_FALLBACK only as the
    // server advertises them (limits.cpp, node_flags_of).
    uint32_t node_flags() const { return node_flags_of(facts_, read_only_); }

    int64_t length() { return static_cast<int64_t>(length_); }

    // Read once at open: the server's limits hold for the connection.
    void refresh_limits(granule_limits &l) { apply_limits(facts_, l); }

    void submit(const granule_request &req, completion &done)
    {
        const bool read = req.op == GRANULE_OP_READ;
        if (!read && req.op != GRANULE_OP_WRITE)
            return done.fail(EINVAL, "nbd: unknown op " + std::to_string(req.op));
        const char *what = read ? "read" : "write";
        if (auto why = check_range(req.offset, req.length, max_transfer_, read); !why.empty())
            return done.fail(EINVAL, std::string("nbd: ") + what + why);
        if (!read && writes_refused())
            return done.fail(EROFS, "nbd: write to " + server_ + ": the export is read-only");
        if (req.length == 0 || req.iovcnt == 0)
            return done(0);
        // A read past the end completes short (the host zero-fills); a
        // write there was refused by check_range.
        const uint64_t readable =
            req.offset >= length_ ? 0 : std::min(req.length, length_ - req.offset);
        if (read && readable == 0)
            return done(0);
        const uint32_t flags = (!read && (req.flags & GRANULE_REQ_FUA)) ? LIBNBD_CMD_FLAG_FUA : 0;
        loop_->read_write(req, readable, flags, std::move(done));
    }

    // A server that does not advertise flush has no volatile cache to
    // write back (the protocol's meaning of the flag's absence).
    void flush(uint32_t /*flags*/, completion &done)
    {
        if (!facts_.can_flush || writes_refused())
            return done(0);
        loop_->flush(std::move(done));
    }

    // -ENOTSUP makes the core treat discard as done (it is advisory).
    void discard(uint64_t off, uint64_t len, uint32_t /*flags*/, completion &done)
    {
        if (!facts_.can_trim || writes_refused())
            return done.fail(ENOTSUP, "nbd: " + server_ +
                                          " does not support trim (NBD_FLAG_SEND_TRIM not "
                                          "advertised)");
        if (auto why = check_range(off, len, 0, false); !why.empty())
            return done.fail(EINVAL, "nbd: discard" + why);
        if (len == 0)
            return done(0);
        loop_->trim(off, len, std::move(done));
    }

    // NBD_CMD_WRITE_ZEROES: NO_HOLE unless the request may unmap (the range
    // must stay allocated otherwise), FUA as asked, FAST_ZERO for
    // no_fallback (the server then answers ENOTSUP rather than write zeroes
    // slowly, and the core passes that on). -ENOTSUP without the command:
    // the core writes zero buffers.
    void write_zeroes(uint64_t off, uint64_t len, uint32_t flags, completion &done)
    {
        if (!facts_.can_zero || writes_refused())
            return done.fail(ENOTSUP, "nbd: " + server_ +
                                          " does not support write-zeroes "
                                          "(NBD_FLAG_SEND_WRITE_ZEROES not advertised)");
        if (auto why = check_range(off, len, 0, false); !why.empty())
            return done.fail(EINVAL, "nbd: write_zeroes" + why);
        if (len == 0)
            return done(0);
        uint32_t nbd_flags = (flags & GRANULE_REQ_MAY_UNMAP) ? 0 : LIBNBD_CMD_FLAG_NO_HOLE;
        if (flags & GRANULE_REQ_FUA)
            nbd_flags |= LIBNBD_CMD_FLAG_FUA;
        if (flags & GRANULE_REQ_NO_FALLBACK)
            nbd_flags |= LIBNBD_CMD_FLAG_FAST_ZERO;
        loop_->zero(off, len, nbd_flags, std::move(done));
    }

    // base:allocation when the server negotiated it; otherwise (and past
    // the end, which the host does not ask) nothing is known: data.
    void block_status(uint64_t off, uint64_t len, uint32_t /*flags*/, granule_block_status &out,
                      completion &done)
    {
        if (!facts_.base_allocation || off >= length_ || len == 0) {
            out = granule_block_status{std::max<uint64_t>(len, 1),
                                       off >= length_ ? GRANULE_BLOCK_ZERO : GRANULE_BLOCK_DATA,
                                       0,
                                       {}};
            return done(0);
        }
        if (off % align_)
            return done.fail(EINVAL, "nbd: block_status at offset " + std::to_string(off) +
                                         " is not aligned to the " + std::to_string(align_) +
                                         "-byte minimum block size");
        // The protocol's length is 32 bits; REQ_ONE answers one extent anyway.
        uint64_t count = std::min({len, length_ - off, range_chunk});
        loop_->block_status(off, count, out, std::move(done));
    }

    // Completions through the device's thread (GRANULE_OPEN_HOST_POLLS):
    // the loop signals this eventfd once per batch of finished requests and
    // poll() completes them, instead of one cross-thread post each.
    int poll_fd() noexcept { return loop_->poll_fd(); }
    void poll() noexcept { loop_->poll(); }

    // After a burst of submits (GRANULE_OPEN_HOST_UNPLUGS): one wake-up of
    // the event loop for all of them.
    void unplug() noexcept { loop_->unplug(); }

    std::string info()
    {
        return "server: " + server_ + "\n" + describe_export(facts_, read_only_) + "tls: " +
               tls_name(cfg_.tls) + (facts_.tls_negotiated ? " (negotiated)" : " (not in use)") +
               "\n" + "timeout: " +
               (cfg_.timeout_s ? std::to_string(cfg_.timeout_s) + " s" : std::string("none")) +
               "\n" + "queue-depth: " + std::to_string(cfg_.queue_depth) + "\n" +
               "connection: " + loop_->state() + "\n";
    }

private:
    bool writes_refused() const { return read_only_ || facts_.read_only; }

    // The core already aligns; this guards the protocol's edges with a
    // message instead of an EINVAL from libnbd's strict mode.
    // short_ok: a read, which may cover a partial end and completes short.
    std::string check_range(uint64_t off, uint64_t len, uint64_t cap, bool short_ok) const
    {
        if (off % align_ || len % align_)
            return " at offset " + std::to_string(off) + ", length " + std::to_string(len) +
                   " is not aligned to the " + std::to_string(align_) +
                   "-byte minimum block size of " + server_;
        if (cap && len > cap)
            return " of " + std::to_string(len) + " bytes exceeds the " + std::to_string(cap) +
                   "-byte maximum of " + server_;
        if ((off > length_ || len > length_ - off) && !short_ok)
            return " at offset " + std::to_string(off) + ", length " + std::to_string(len) +
                   " goes past the end of the export (" + std::to_string(length_) + " bytes)";
        return {};
    }

    server_config cfg_;
    bool read_only_;
    export_facts facts_;
    std::string server_;
    uint64_t length_ = 0;
    uint64_t align_ = 1;
    uint64_t max_transfer_ = 0;
    std::unique_ptr<event_loop> loop_;  // last: its thread stops before the rest goes
};

}  // namespace

GRANULE_DEFINE_DRIVER(nbd_node)
