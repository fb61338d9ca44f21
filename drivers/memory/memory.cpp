// memory: a RAM disk that checks every request as strictly as O_DIRECT does,
// so a test built on it proves the core aligned, padded and split everything.
#include <granule/driver.hpp>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <vector>

namespace {

using namespace granule::sdk;
using std::uint64_t;

struct free_deleter {
    void operator()(std::byte *p) const noexcept { std::free(p); }
};

std::string hex(const void *p)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%p", p);
    return buf;
}

class memory_node {
public:
    static constexpr const char *name = "memory";
    static constexpr const char *description =
        "RAM disk that rejects misaligned requests like O_DIRECT";
    static constexpr granule_option_desc options[] = {
        {"size", GRANULE_OPT_SIZE, GRANULE_OPTF_REQUIRED, "length in bytes"},
        {"align", GRANULE_OPT_SIZE, 0, "request_alignment enforced on offsets and lengths (1)"},
        {"mem-align", GRANULE_OPT_SIZE, 0, "min_mem_alignment enforced on iovecs (1)"},
        {"max-transfer", GRANULE_OPT_SIZE, 0, "largest read/write, 0 = unlimited (0)"},
        {"max-iov", GRANULE_OPT_SIZE, 0, "most iovec elements per request, 0 = unlimited (0)"},
        {"growable", GRANULE_OPT_BOOL, 0, "writes past the end extend the node (off)"},
        {"write-cache", GRANULE_OPT_BOOL, 0,
         "model a volatile write cache: info counts the bytes written since the last flush "
         "that are not durable (FUA writes are) (off)"},
        {"fua", GRANULE_OPT_BOOL, 0, "declare per-request FUA (GRANULE_NODE_FUA) (on)"},
    };

    explicit memory_node(const open_context &ctx)
    {
        const auto &o = ctx.options();
        set_limits(o);
        growable_ = o.get_bool("growable", false);
        write_cache_ = o.get_bool("write-cache", false);
        fua_ = o.get_bool("fua", true);
        resize(o.get_size("size"));
    }

    // Zeroing is memset or a hole: always efficient, unmapping included.
    uint32_t node_flags() const
    {
        return (growable_ ? GRANULE_NODE_GROWABLE : 0) | (fua_ ? GRANULE_NODE_FUA : 0) |
               GRANULE_NODE_ZERO_MAY_UNMAP | GRANULE_NODE_ZERO_NO_FALLBACK;
    }

    int64_t length()
    {
        std::lock_guard lock(mutex_);
        return static_cast<int64_t>(size_);
    }

    void refresh_limits(granule_limits &l)
    {
        // Raise only: a parent never lowers what the host computed so far.
        // Power-of-two checks are the host's job (its message is the one tests expect).
        // An option left at 1 is no requirement: the value stays a default.
        if (align_ > 1) {
            granule_limit_raise(&l.request_alignment, align_, "option align");
            granule_limit_raise(&l.pwrite_zeroes_alignment, align_, "option align");
            granule_limit_raise(&l.pdiscard_alignment, align_, "option align");
        }
        if (mem_align_ > 1) {
            granule_limit_raise(&l.min_mem_alignment, mem_align_, "option mem-align");
            granule_limit_raise(&l.opt_mem_alignment, mem_align_, "option mem-align");
        }
        granule_limit_cap(&l.max_transfer, max_transfer_, "option max-transfer");
        granule_limit_cap(&l.max_iov, max_iov_, "option max-iov");
    }

    void submit(const granule_request &req, completion &done)
    {
        const bool is_read = req.op == GRANULE_OP_READ;
        if (!is_read && req.op != GRANULE_OP_WRITE)
            return done.fail(EINVAL, "memory: unknown op " + std::to_string(req.op));
        if (auto why = check_request(req, is_read ? "read" : "write"); !why.empty())
            return done.fail(EINVAL, why);

        uint64_t moved = 0;
        {
            // The lock guards the buffer against a concurrent grow; the
            // completion runs after it is released because it may re-enter.
            std::lock_guard lock(mutex_);
            uint64_t end = req.offset + req.length;
            if (!is_read && end > size_) {
                if (!growable_)
                    return done.fail(ENOSPC, "memory: write [" + std::to_string(req.offset) +
                                                 ", " + std::to_string(end) +
                                                 ") past the end (size " +
                                                 std::to_string(size_) + ", growable=off)");
                resize(end);
            }
            uint64_t pos = req.offset;
            for (uint32_t i = 0; i < req.iovcnt && pos < size_; ++i) {
                uint64_t n = std::min(req.iov[i].len, size_ - pos);
                if (is_read)
                    std::memcpy(req.iov[i].base, data_.get() + pos, n);
                else
                    std::memcpy(data_.get() + pos, req.iov[i].base, n);
                pos += n;
                moved += n;
            }
            if (!is_read) {
                allocate(req.offset, req.offset + moved);
                if (!(req.flags & GRANULE_REQ_FUA))
                    unflushed_ += moved;
            }
        }
        done(static_cast<int64_t>(moved));  // short read = end of file
    }

    void flush(completion &done)
    {
        {
            std::lock_guard lock(mutex_);
            unflushed_ = 0;
        }
        done(0);
    }
    // Discard punches a hole (reads zeroes, block status says so); write
    // zeroes keeps the range allocated, as FALLOC_FL_ZERO_RANGE does, unless
    // it may unmap.
    void discard(uint64_t off, uint64_t len, completion &done) { zero(off, len, "discard", true, done); }
    void write_zeroes(uint64_t off, uint64_t len, uint32_t flags, completion &done)
    {
        zero(off, len, "write_zeroes", flags & GRANULE_REQ_MAY_UNMAP, done,
             flags & GRANULE_REQ_FUA);
    }

    // Written ranges are data; never written, discarded or past the end:
    // holes, like a sparse file (so a memory node can be an overlay).
    void block_status(uint64_t off, uint64_t len, granule_block_status &out, completion &done)
    {
        {
            std::lock_guard lock(mutex_);
            out = {std::max<uint64_t>(len, 1), GRANULE_BLOCK_ZERO};
            auto it = allocated_.upper_bound(off);  // the first extent starting after off
            if (it != allocated_.begin() && std::prev(it)->second > off)
                out = {std::min(len, std::prev(it)->second - off), GRANULE_BLOCK_DATA};
            else if (it != allocated_.end())
                out.bytes = std::min(len, it->first - off);
            out.bytes = std::max<uint64_t>(out.bytes, 1);
        }
        done(0);
    }

    // An explicit resize works whether or not writes may grow the node.
    void truncate(uint64_t len)
    {
        std::lock_guard lock(mutex_);
        resize(len);
    }

    // Lets a test change the enforced limits without reopening the tree.
    void reopen(const options_view &o)
    {
        if (o.has("size"))
            fail(EINVAL, "option 'size' cannot change on reopen (use truncate)");
        if (o.has("fua") || o.has("write-cache"))
            fail(EINVAL, "options 'fua' and 'write-cache' cannot change on reopen");
        set_limits(o, align_, mem_align_, max_transfer_, max_iov_);
        growable_ = o.get_bool("growable", growable_);
    }

    std::string info()
    {
        std::lock_guard lock(mutex_);
        std::string s = "memory: size " + std::to_string(size_);
        if (write_cache_)
            s += "\nunflushed: " + std::to_string(unflushed_) + " bytes";
        return s;
    }

private:
    void set_limits(const options_view &o, uint64_t align = 1, uint64_t mem_align = 1,
                    uint64_t max_transfer = 0, uint64_t max_iov = 0)
    {
        // 0 means "no requirement", as in granule_limits.
        align_ = std::max<uint64_t>(1, o.get_size("align", align));
        mem_align_ = std::max<uint64_t>(1, o.get_size("mem-align", mem_align));
        max_transfer_ = o.get_size("max-transfer", max_transfer);
        max_iov_ = o.get_size("max-iov", max_iov);
    }

    // Empty when req is acceptable, else why not. '%' rather than masks: a
    // non-power-of-two value is refused by the host, but must not misbehave here.
    std::string check_request(const granule_request &req, const char *op) const
    {
        auto at = [&] {
            return std::string("memory: ") + op + " offset " + std::to_string(req.offset) +
                   " length " + std::to_string(req.length) + ": ";
        };
        if (req.offset + req.length < req.offset)
            return at() + "range overflows";
        if (req.offset % align_)
            return at() + "offset is not a multiple of align " + std::to_string(align_);
        // The ABI lets a request end exactly at the end of a node whose size
        // is not a multiple of the alignment (the last block is partial).
        const bool at_end = req.offset + req.length == size_;
        if (req.length % align_ && !at_end)
            return at() + "length is not a multiple of align " + std::to_string(align_);
        if (max_transfer_ && req.length > max_transfer_)
            return at() + "length exceeds max-transfer " + std::to_string(max_transfer_);
        if (max_iov_ && req.iovcnt > max_iov_)
            return at() + std::to_string(req.iovcnt) + " iovec elements exceed max-iov " +
                   std::to_string(max_iov_);
        uint64_t sum = 0;
        for (uint32_t i = 0; i < req.iovcnt; ++i) {
            const auto &v = req.iov[i];
            auto idx = "iovec[" + std::to_string(i) + "] ";
            if (reinterpret_cast<std::uintptr_t>(v.base) % mem_align_)
                return at() + idx + "address " + hex(v.base) + " is not a multiple of mem-align " +
                       std::to_string(mem_align_);
            // At a partial last block the last iovec ends unaligned too.
            if (v.len % mem_align_ && !(at_end && i + 1 == req.iovcnt))
                return at() + idx + "length " + std::to_string(v.len) +
                       " is not a multiple of mem-align " + std::to_string(mem_align_);
            sum += v.len;
        }
        if (sum != req.length)
            return at() + "iovecs add up to " + std::to_string(sum);
        return {};
    }

    // punch: leave a hole (discard) rather than allocated zeroes.
    void zero(uint64_t off, uint64_t len, const char *op, bool punch, completion &done,
              bool fua = false)
    {
        auto where = std::string("memory: ") + op + " offset " + std::to_string(off) +
                     " length " + std::to_string(len) + ": ";
        if (off + len < off)
            return done.fail(EINVAL, where + "range overflows");
        if (off % align_ || len % align_)
            return done.fail(EINVAL, where + "not a multiple of align " + std::to_string(align_));
        {
            std::lock_guard lock(mutex_);
            if (off + len > size_) {
                if (!growable_)
                    return done.fail(ENOSPC, where + "past the end (size " +
                                                 std::to_string(size_) + ")");
                resize(off + len);  // new bytes are zero already
            }
            if (punch) {
                clear_allocated(off, off + len);
                deallocate(off, off + len);
            } else {
                if (len)
                    std::memset(data_.get() + off, 0, len);
                allocate(off, off + len);
            }
            if (!fua)
                unflushed_ += len;
        }
        done(0);
    }

    // Invariant: bytes in [size_, capacity_) are zero, so growing never needs
    // to clear what it exposes. Caller holds mutex_ (or is the constructor).
    void resize(uint64_t new_size)
    {
        if (new_size > capacity_) {
            uint64_t cap = std::max(new_size, capacity_ + capacity_ / 2);
            // Large zeroed areas from calloc come from mmap and cost nothing
            // until touched; only the allocated extents are copied over, so
            // growing a sparse node to 2 GiB costs what it holds, not 2 GiB
            // (realloc + memset of the new part touched every page).
            void *p = std::calloc(1, std::max<uint64_t>(cap, 1));
            if (!p)
                fail(ENOMEM, "cannot allocate " + std::to_string(cap) + " bytes");
            std::unique_ptr<std::byte, free_deleter> grown(static_cast<std::byte *>(p));
            for (const auto &[from, to] : allocated_)
                std::memcpy(grown.get() + from, data_.get() + from, to - from);
            data_ = std::move(grown);
            capacity_ = cap;
        } else if (new_size < size_) {
            clear_allocated(new_size, size_);
            deallocate(new_size, size_);
        }
        size_ = new_size;
    }

    // Zeroes the allocated bytes of [from, to): holes are zero already, and
    // writing them would make the pages resident. Caller holds mutex_.
    void clear_allocated(uint64_t from, uint64_t to)
    {
        auto it = allocated_.upper_bound(from);
        if (it != allocated_.begin())
            --it;
        for (; it != allocated_.end() && it->first < to; ++it) {
            const auto s = std::max(from, it->first), e = std::min(to, it->second);
            if (s < e)
                std::memset(data_.get() + s, 0, e - s);
        }
    }

    // [from, to) becomes one allocated extent, merged with its neighbours.
    // Caller holds mutex_.
    void allocate(uint64_t from, uint64_t to)
    {
        if (from >= to)
            return;
        auto it = allocated_.upper_bound(from);
        if (it != allocated_.begin() && std::prev(it)->second >= from) {
            --it;
            from = it->first;
        }
        while (it != allocated_.end() && it->first <= to) {
            to = std::max(to, it->second);
            it = allocated_.erase(it);
        }
        allocated_.emplace(from, to);
    }

    // [from, to) becomes a hole. Caller holds mutex_.
    void deallocate(uint64_t from, uint64_t to)
    {
        if (from >= to)
            return;
        auto it = allocated_.upper_bound(from);
        if (it != allocated_.begin() && std::prev(it)->second > from)
            --it;
        std::vector<std::pair<uint64_t, uint64_t>> keep;  // the parts outside [from, to)
        while (it != allocated_.end() && it->first < to) {
            auto [s, e] = *it;
            it = allocated_.erase(it);
            if (s < from)
                keep.emplace_back(s, from);
            if (e > to)
                keep.emplace_back(to, e);
        }
        allocated_.insert(keep.begin(), keep.end());
    }

    std::mutex mutex_;
    std::unique_ptr<std::byte, free_deleter> data_;
    uint64_t size_ = 0;
    uint64_t capacity_ = 0;
    std::map<uint64_t, uint64_t> allocated_;  // written extents: start -> end
    uint64_t align_ = 1;
    uint64_t mem_align_ = 1;
    uint64_t max_transfer_ = 0;
    uint64_t max_iov_ = 0;
    bool growable_ = false;
    bool write_cache_ = false;
    bool fua_ = true;
    uint64_t unflushed_ = 0;  // bytes written since the last flush, not FUA (write-cache)
};

}  // namespace

GRANULE_DEFINE_DRIVER(memory_node)
