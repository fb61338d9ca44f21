#include "request.hpp"

#include <granule/platform/aligned_buffer.hpp>
#include <granule/platform/win32.hpp>

#include <algorithm>
#include <atomic>
#include <deque>
#include <cstring>
#include <memory>
#include <vector>

namespace raw_win32 {
namespace {

using granule::platform::win32::describe_win32_error;
using granule::platform::win32::errno_from_win32;
using std::uint64_t;

// ReadFile/WriteFile lengths are DWORDs; 1 GiB is a multiple of every
// alignment a disk can ask for.
constexpr uint64_t max_piece = uint64_t{1} << 30;

class rw_request {
public:
    rw_request(const io_target &t, const granule_request &req, granule::sdk::completion done)
        : t_(t), read_(req.op == GRANULE_OP_READ), offset_(req.offset), length_(req.length),
          done_(std::move(done))
    {
        bool zero_copy = std::all_of(req.iov, req.iov + req.iovcnt, [&](const granule_iovec &e) {
            return e.len % t.request_alignment == 0;
        });
        if (zero_copy) {
            uint64_t at = offset_;
            for (uint32_t i = 0; i < req.iovcnt; ++i) {
                add_pieces(static_cast<std::byte *>(req.iov[i].base), at, req.iov[i].len);
                at += req.iov[i].len;
            }
            return;
        }
        bounce_ = granule::platform::aligned_buffer(t.bounce_alignment, length_);
        iov_.assign(req.iov, req.iov + req.iovcnt);
        if (!read_)
            granule::sdk::copy_iov(iov_.data(), iov_.size(), bounce_.data(), length_, true);
        add_pieces(bounce_.data(), offset_, length_);
    }

    // Issues every piece; *this deletes itself after completing.
    void start()
    {
        // One extra count held while issuing: a piece finishing early must
        // not complete the request before the last one is issued.
        pending_.store(pieces_.size() + 1);
        for (auto &p : pieces_)
            p.issue();
        if (pending_.fetch_sub(1) == 1)
            finish();
    }

private:
    struct piece final : overlapped_op {
        rw_request *owner = nullptr;
        std::byte *buf = nullptr;
        uint64_t offset = 0;
        uint64_t want = 0;   // <= max_piece
        uint64_t done = 0;
        DWORD error = 0;

        void issue() noexcept
        {
            HANDLE h = owner->t_.handle;
            auto len = static_cast<DWORD>(want - done);
            BOOL ok = owner->read_ ? ReadFile(h, buf + done, len, nullptr, ov(offset + done))
                                   : WriteFile(h, buf + done, len, nullptr, ov(offset + done));
            iocp::started(this, ok, ok ? 0 : GetLastError());
        }
        void complete(DWORD bytes, DWORD e) noexcept override { owner->piece_done(*this, bytes, e); }
    };

    void add_pieces(std::byte *buf, uint64_t offset, uint64_t len)
    {
        for (uint64_t pos = 0; pos < len; pos += max_piece) {
            piece &p = pieces_.emplace_back();
            p.owner = this;
            p.buf = buf + pos;
            p.offset = offset + pos;
            p.want = std::min(max_piece, len - pos);
        }
    }

    void piece_done(piece &p, DWORD bytes, DWORD error) noexcept
    {
        p.done += bytes;
        if (error == ERROR_HANDLE_EOF && read_)
            error = 0;  // a short read: end of file
        if (!error && !read_ && p.done < p.want) {
            if (bytes)
                return p.issue();  // a partial write: the rest, where it stopped
            error = ERROR_WRITE_FAULT;
        }
        p.error = error;
        if (pending_.fetch_sub(1) == 1)
            finish();
    }

    void finish() noexcept
    {
        std::unique_ptr<rw_request> self(this);
        uint64_t result = 0;
        bool short_seen = false;
        for (const auto &p : pieces_) {
            if (p.error)
                return fail(p);
            // A read stops at the first short piece: what follows is past EOF.
            if (!short_seen)
                result += p.done;
            short_seen = short_seen || p.done < p.want;
        }
        if (read_ && bounce_.data())
            granule::sdk::copy_iov(iov_.data(), iov_.size(), bounce_.data(), result, false);
        done_(static_cast<int64_t>(result));
    }

    void fail(const piece &p) noexcept
    {
        try {
            std::string where = p.offset + p.done == offset_
                                    ? std::string()
                                    : " (piece at offset " + std::to_string(p.offset + p.done) + ")";
            int code = errno_from_win32(p.error);
            done_.fail(code ? code : EIO, what() + where + ": " + describe_win32_error(p.error));
        } catch (...) {
            done_(-EIO, "raw-win32: I/O failed (no memory for the message)");
        }
    }

    std::string what() const
    {
        return "raw-win32: " + std::string(read_ ? "read" : "write") + " of " +
               std::to_string(length_) + " bytes at offset " + std::to_string(offset_) +
               (read_ ? " from '" : " to '") + t_.filename + "'";
    }

    const io_target &t_;
    const bool read_;
    const uint64_t offset_;
    const uint64_t length_;
    granule::sdk::completion done_;
    granule::platform::aligned_buffer bounce_;
    std::vector<granule_iovec> iov_;  // the caller's buffers, for a bounced read
    std::deque<piece> pieces_;        // a deque: an OVERLAPPED never moves
    std::atomic<std::size_t> pending_{0};
};

}  // namespace

void start_request(const io_target &t, const granule_request &req, granule::sdk::completion done)
{
    if (req.op != GRANULE_OP_READ && req.op != GRANULE_OP_WRITE)
        return done.fail(EINVAL, "raw-win32: unknown op " + std::to_string(req.op));
    if (req.length == 0)
        return done(0);
    auto r = std::make_unique<rw_request>(t, req, std::move(done));
    r.release()->start();
}

}  // namespace raw_win32
