#include "session.hpp"

#include "message.hpp"
#include "nbd_protocol.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cerrno>

namespace asio = boost::asio;

namespace granule_nbd {

namespace {

// A client may queue this many requests, or this many data bytes, before
// the server stops reading its socket until some complete.
constexpr std::size_t max_in_flight = 64;
constexpr std::uint64_t max_bytes_in_flight = 128u << 20;
// Block status answers with at most this many extents (the protocol's
// ceiling is 2^20; each one costs the device a query).
constexpr std::size_t max_extents = 1024;

const char *command_name(std::uint16_t type)
{
    switch (type) {
    case cmd_read: return "read";
    case cmd_write: return "write";
    case cmd_flush: return "flush";
    case cmd_trim: return "trim";
    case cmd_cache: return "cache";
    case cmd_write_zeroes: return "write zeroes";
    case cmd_block_status: return "block status";
    default: return "command";
    }
}

// The protocol's number for a device's errno value.
std::uint32_t nbd_error(int code)
{
    switch (code) {
    case EPERM:
    case EACCES:
    case EROFS: return err_perm;
    case ENOMEM: return err_nomem;
    case EINVAL: return err_inval;
    case ENOSPC:
    case EFBIG:
#ifdef EDQUOT
    case EDQUOT:
#endif
        return err_nospc;
    case EOVERFLOW: return err_overflow;
    case ENOTSUP: return err_notsup;
#ifdef ESHUTDOWN
    case ESHUTDOWN: return err_shutdown;
#endif
    default: return err_io;
    }
}

// The flags each command may carry; any other is refused with EINVAL.
std::uint16_t allowed_flags(std::uint16_t type, bool structured)
{
    switch (type) {
    case cmd_read: return structured ? cmd_flag_df : 0;
    case cmd_write:
    case cmd_trim: return cmd_flag_fua;
    case cmd_write_zeroes: return cmd_flag_fua | cmd_flag_no_hole | cmd_flag_fast_zero;
    case cmd_block_status: return cmd_flag_req_one;
    default: return 0;
    }
}

// Device calls complete back on the session's thread. (The session cannot
// run on the device's own thread: libgranule keeps its Asio internals to
// itself, and a socket's reactor from this program's Asio would run there
// without the thread state it needs.)
constexpr auto use_awaitable = asio::use_awaitable;

// One buffer as the device's scatter list. Built outside the co_await: GCC
// 12 cannot keep an initializer list's array alive across a suspension.
std::vector<granule::io_buffer> one_buffer(std::byte *base, std::size_t len)
{
    return {granule::io_buffer{base, len}};
}

bool carries_data(std::uint16_t type) { return type == cmd_read || type == cmd_write; }

}  // namespace

session::session(nbd_stream stream, negotiated agreed, buffer_pool &pool,
                 std::function<void(std::string)> say)
    : stream_(std::move(stream)),
      agreed_(agreed),
      dev_(*agreed.exp->dev),
      size_(dev_.length()),
      mem_alignment_(std::max<std::size_t>(dev_.get_limits().opt_mem_alignment, alignof(std::max_align_t))),
      pool_(pool),
      say_(std::move(say)),
      progress_(stream_.get_executor())
{
}

void session::stop() { stream_.shutdown_receive(); }

void session::abort() { stream_.close(); }

std::uint32_t session::refusal(const request_header &h, std::string &why) const
{
    // Built into messages only when refusing: this runs for every request.
    const std::string_view what = command_name(h.type);
    if (h.type > cmd_block_status) {
        why = "unknown command " + std::to_string(h.type);
        return err_inval;
    }
    if (h.flags & ~allowed_flags(h.type, agreed_.structured_replies)) {
        why = std::string(what) + " with flags " + std::to_string(h.flags) + " it does not take";
        return err_inval;
    }
    const bool writes = h.type == cmd_write || h.type == cmd_trim || h.type == cmd_write_zeroes;
    if (writes && agreed_.exp->read_only) {
        why = std::string(what) + " on a read-only export";
        return err_perm;
    }
    if ((h.type == cmd_flush) && (h.offset || h.length)) {
        why = "flush with a nonzero offset or length";
        return err_inval;
    }
    if (carries_data(h.type) && h.length > agreed_.exp->sizes.maximum) {
        why = std::string(what) + " of " + std::to_string(h.length) + " bytes is more than the export's maximum of " +
              std::to_string(agreed_.exp->sizes.maximum);
        return err_inval;
    }
    if (h.type != cmd_flush && (h.offset > size_ || h.length > size_ - h.offset)) {
        why = std::string(what) + " of " + std::to_string(h.length) + " bytes at offset " + std::to_string(h.offset) +
              " reaches past the export's end (" + std::to_string(size_) + " bytes)";
        return h.type == cmd_write || h.type == cmd_write_zeroes ? err_nospc : err_inval;
    }
    if (h.type == cmd_block_status && !agreed_.base_allocation) {
        why = "block status without a meta context negotiated";
        return err_inval;
    }
    if (h.type == cmd_block_status && h.length == 0) {
        why = "block status of 0 bytes";
        return err_inval;
    }
    return 0;
}

asio::awaitable<void> session::serve()
{
    const auto ex = co_await asio::this_coro::executor;
    try {
        for (;;) {
            unsigned char raw[request_header_size];
            co_await stream_.read_exact(raw, sizeof raw);
            if (get_be(raw, 4) != request_magic) {
                say_("request without the request magic; disconnecting");
                break;
            }
            request_header h{static_cast<std::uint16_t>(get_be(raw + 4, 2)),
                             static_cast<std::uint16_t>(get_be(raw + 6, 2)), get_be(raw + 8, 8),
                             get_be(raw + 16, 8), static_cast<std::uint32_t>(get_be(raw + 24, 4))};
            if (h.type == cmd_disc)
                break;
            std::string why;
            const auto error = refusal(h, why);
            data_buffer payload;
            if (h.type == cmd_write && error == 0) {
                payload = pool_.get(mem_alignment_, h.length);
                co_await stream_.read_exact(payload.data(), h.length);
            } else if (h.type == cmd_write && h.length > portable_payload) {
                // Reading that much to throw it away is what a denial of
                // service wants; the protocol lets the server hang up.
                ++in_flight_;
                answer(h, error, why);
                say_(why + "; disconnecting");
                break;
            } else if (h.type == cmd_write) {
                co_await stream_.skip(h.length);
            }
            // Counted once the whole request is in: a client hanging up in
            // the middle of a payload leaves nothing in flight that nobody
            // would answer (the session waited for it for good).
            ++in_flight_;
            if (error) {
                answer(h, error, why);
                continue;
            }
            if (carries_data(h.type))
                bytes_in_flight_ += h.length;
            asio::co_spawn(ex, run(h, std::move(payload)), asio::detached);
            auto room = [this] {
                return in_flight_ < max_in_flight && bytes_in_flight_ < max_bytes_in_flight;
            };
            if (!room())  // checked here first: no coroutine frame per request
                co_await wait_for(room);
        }
    } catch (const boost::system::system_error &e) {
        if (e.code() != asio::error::eof && e.code() != asio::error::connection_reset &&
            e.code() != asio::error::operation_aborted)
            say_(std::string("reading requests: ") + e.code().message());
    } catch (const std::exception &e) {
        // TLS, or memory for a payload: the connection ends, but what is in
        // flight still refers to this session and must finish first.
        say_(std::string("reading requests: ") + e.what());
    }
    stream_.shutdown_receive();
    co_await wait_for([this] { return in_flight_ == 0; });
    stream_.close();
}

asio::awaitable<void> session::run(request_header h, data_buffer payload)
{
    granule::result<void> r;
    const auto offset = h.offset;
    const auto length = h.length;
    switch (h.type) {
    case cmd_read:
        co_return co_await read(h);
    case cmd_block_status:
        co_return co_await block_status(h);
    case cmd_cache:
        co_return co_await cache(h);
    case cmd_write: {
        auto flags = (h.flags & cmd_flag_fua) ? granule::request_flags::fua : granule::request_flags::none;
        auto w = length ? co_await dev_.async_pwritev(offset, one_buffer(payload.data(), length), flags, use_awaitable)
                        : granule::result<std::size_t>(0);
        if (!w)
            r = w.error();
        break;
    }
    case cmd_flush:
        r = co_await dev_.async_flush(use_awaitable);
        break;
    case cmd_trim:
        if (length)
            r = co_await dev_.async_pdiscard(offset, length, use_awaitable);
        if (r && (h.flags & cmd_flag_fua))
            r = co_await dev_.async_flush(use_awaitable);
        break;
    case cmd_write_zeroes: {
        auto flags = granule::request_flags::none;
        if (h.flags & cmd_flag_fua)
            flags = flags | granule::request_flags::fua;
        if (!(h.flags & cmd_flag_no_hole))
            flags = flags | granule::request_flags::may_unmap;
        if (h.flags & cmd_flag_fast_zero)
            flags = flags | granule::request_flags::no_fallback;
        if (length)
            r = co_await dev_.async_pwrite_zeroes(offset, length, flags, use_awaitable);
        break;
    }
    }
    if (r) {
        answer(h, 0, {}, carries_data(h.type));
        co_return;
    }
    // The client hears what failed, not where on the server's disks: the
    // device's message (paths, driver detail) goes to the server's log.
    say_(std::string(command_name(h.type)) + " failed: " + r.error().message);
    answer(h, nbd_error(r.error().code),
           std::string(command_name(h.type)) + " of " + std::to_string(length) + " bytes at offset " +
               std::to_string(offset) + ": " + granule::errno_text(r.error().code),
           carries_data(h.type));
}

asio::awaitable<void> session::read(const request_header &h)
{
    auto buffer = pool_.get(mem_alignment_, h.length);
    granule::result<std::size_t> r(0);
    if (h.length)
        r = co_await dev_.async_preadv(h.offset, one_buffer(buffer.data(), h.length), use_awaitable);
    if (!r) {
        say_(std::string("read failed: ") + r.error().message);
        answer(h, nbd_error(r.error().code),
               "read of " + std::to_string(h.length) + " bytes at offset " + std::to_string(h.offset) +
                   ": " + granule::errno_text(r.error().code),
               true);
        co_return;
    }
    reply rep;
    message_builder m;
    if (!agreed_.structured_replies) {
        m.u32(simple_reply_magic).u32(0).u64(h.cookie);
    } else if (h.length == 0) {
        m.u32(structured_reply_magic).u16(reply_flag_done).u16(reply_type_none).u64(h.cookie).u32(0);
    } else {
        m.u32(structured_reply_magic).u16(reply_flag_done).u16(reply_type_offset_data).u64(h.cookie);
        m.u32(8 + h.length).u64(h.offset);
    }
    rep.header = std::move(m.data());
    rep.data = std::move(buffer);
    rep.data_bytes = h.length;
    rep.charged = h.length;
    send(std::move(rep));
}

asio::awaitable<void> session::block_status(const request_header &h)
{
    message_builder extents;
    std::size_t count = 0;
    std::uint64_t at = h.offset;
    const std::uint64_t end = h.offset + h.length;
    std::uint32_t last_state = 0;
    while (at < end && count < max_extents) {
        auto e = co_await dev_.async_block_status(at, end - at, use_awaitable);
        if (!e) {
            if (count)
                break;  // what was found so far is a valid answer
            say_(std::string("block status failed: ") + e.error().message);
            answer(h, nbd_error(e.error().code),
                   "block status at offset " + std::to_string(at) + ": " +
                       granule::errno_text(e.error().code));
            co_return;
        }
        const std::uint32_t state = (e->data ? 0 : state_hole) | (e->zero ? state_zero : 0);
        const auto bytes = static_cast<std::uint32_t>(std::min<std::uint64_t>(e->bytes, end - at));
        if (count && state == last_state) {
            // Same state as the extent before: lengthen it.
            auto &d = extents.data();
            const auto merged = get_be(d.data() + d.size() - 8, 4) + bytes;
            put_be(d.data() + d.size() - 8, merged, 4);
        } else {
            extents.u32(bytes).u32(state);
            ++count;
        }
        last_state = state;
        at += bytes;
        if (h.flags & cmd_flag_req_one)
            break;
    }
    reply rep;
    message_builder m;
    m.u32(structured_reply_magic).u16(reply_flag_done).u16(reply_type_block_status).u64(h.cookie);
    m.u32(static_cast<std::uint32_t>(4 + extents.size())).u32(base_allocation_id);
    m.data().insert(m.data().end(), extents.data().begin(), extents.data().end());
    rep.header = std::move(m.data());
    send(std::move(rep));
}

asio::awaitable<void> session::cache(const request_header &h)
{
    // A read whose data is dropped: it warms what reads go through (a
    // copy-on-read overlay fills, the block cache takes the edges).
    constexpr std::size_t chunk = 1 << 20;
    auto scratch = pool_.get(mem_alignment_, std::min<std::size_t>(h.length, chunk));
    for (std::uint64_t done = 0; done < h.length;) {
        const auto part = static_cast<std::size_t>(std::min<std::uint64_t>(chunk, h.length - done));
        auto r = co_await dev_.async_preadv(h.offset + done, one_buffer(scratch.data(), part), use_awaitable);
        if (!r) {
            answer(h, nbd_error(r.error().code),
                   "cache at offset " + std::to_string(h.offset + done) + ": " +
                       granule::errno_text(r.error().code));
            co_return;
        }
        done += part;
    }
    answer(h, 0, {});
}

void session::answer(const request_header &h, std::uint32_t error, const std::string &why,
                     bool charged)
{
    message_builder m;
    if (error && agreed_.structured_replies) {
        const auto text = why.substr(0, max_string);
        m.u32(structured_reply_magic).u16(reply_flag_done).u16(reply_type_error).u64(h.cookie);
        m.u32(static_cast<std::uint32_t>(6 + text.size())).u32(error);
        m.u16(static_cast<std::uint16_t>(text.size())).bytes(text);
    } else if (h.type == cmd_read && agreed_.structured_replies) {
        m.u32(structured_reply_magic).u16(reply_flag_done).u16(reply_type_none).u64(h.cookie).u32(0);
    } else {
        m.u32(simple_reply_magic).u32(error).u64(h.cookie);
    }
    reply rep;
    rep.header = std::move(m.data());
    rep.charged = charged ? h.length : 0;
    send(std::move(rep));
}

void session::send(reply r)
{
    if (broken_) {
        retire(r);
        return;
    }
    replies_.push_back(std::move(r));
    if (!writing_) {
        writing_ = true;
        asio::co_spawn(stream_.get_executor(), write_replies(), asio::detached);
    }
}

asio::awaitable<void> session::write_replies()
{
    std::vector<reply> batch;
    std::vector<asio::const_buffer> buffers;
    while (!replies_.empty()) {
        // Everything queued goes out in one write.
        batch.clear();
        buffers.clear();
        while (!replies_.empty()) {
            batch.push_back(std::move(replies_.front()));
            replies_.pop_front();
        }
        for (auto &r : batch) {
            buffers.emplace_back(r.header.data(), r.header.size());
            if (r.data_bytes)
                buffers.emplace_back(r.data.data(), r.data_bytes);
        }
        try {
            co_await stream_.write(buffers);
        } catch (const std::exception &) {
            // The client is gone; what is still running completes on the
            // device, and its replies are dropped.
            broken_ = true;
        }
        for (auto &r : batch)
            retire(r);
        if (broken_) {
            for (auto &r : replies_)
                retire(r);
            replies_.clear();
        }
    }
    writing_ = false;
}

void session::retire(const reply &r)
{
    bytes_in_flight_ -= r.charged;
    --in_flight_;
    progress_.cancel();
}

asio::awaitable<void> session::wait_for(const std::function<bool()> &condition)
{
    while (!condition()) {
        progress_.expires_at(asio::steady_timer::time_point::max());
        boost::system::error_code ignored;
        co_await progress_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    }
}

}  // namespace granule_nbd
