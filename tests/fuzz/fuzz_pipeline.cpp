// fuzz_pipeline: the request pipeline (core/src/pipeline.cpp, tracking,
// padding, coalescing, the RMW block cache) against a byte-exact model.
//
// The input decodes (FuzzedDataProvider) to a device, blkdebug over a memory
// node (align 1/512/4096/64k, mem-align 1/512/4096, max-transfer 0/4k/8k/64k,
// up to 256 KiB, growable or not), filled with a pattern, then up to 64
// operations in batches: async_pwritev / async_preadv / async_flush with 1-3
// iovec elements at random misalignment, pwrite_zeroes, and at batch
// boundaries pdiscard and truncate; and blkdebug breakpoints (set, issue
// more, resume) that force interleavings, e.g. a request finishing while
// others wait for it and the next one taking its memory.
//
// Proves Granule's ordering promise against an ISSUE-ORDER model (every write
// applied to the model when it is issued):
// - writes that overlap land in issue order when one of them serialises
//   (unaligned to io_align = max(request_alignment, min_mem_alignment), or
//   reaching past the end). Two aligned writes overlapping in flight have no
//   order (as on any block device), so the generator never issues one: it
//   makes it unaligned (offset+1, length-1) or ends the batch first;
// - a read returns the model as of its issue for every byte that no write in
//   flight at its issue touches and no aligned write issued while it is in
//   flight touches (an unaligned write issued later waits for the older
//   read), zeroes past the end of a growable node included;
// - after each batch the whole device (and its length) equals the model;
// - writes, reads and discards past the end of a fixed-size node fail with
//   EIO and change nothing; truncate resizes either kind;
// - discard is advisory: each discarded byte reads back as its old value or
//   zero (the model takes what is read), bytes outside the whole
//   pdiscard_alignment blocks it may drop must keep their old value;
// - nothing hangs (a batch's requests complete within 10 s).
// The tracker's invariant checks (GRANULE_CHECK_INVARIANTS) and the
// sanitizers run underneath. A mismatch aborts with the op, its offset,
// length and the first wrong byte, after the device and the op log.
#include "fuzz_common.hpp"

#include <granule/device.hpp>

#include <boost/asio/use_future.hpp>

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

using granule_fuzz::fail;
using u64 = std::uint64_t;
namespace asio = boost::asio;

constexpr u64 max_size = 256 * 1024;   // initial device length
constexpr u64 write_cap = 384 * 1024;  // no write (or growth) ends past this
constexpr u64 read_cap = write_cap + 64 * 1024;
constexpr int max_ops = 64;
constexpr const char *tag = "A";
constexpr const char *events[] = {"pwritev_rmw_head", "pwritev_rmw_after_head",
                                  "pwritev_rmw_tail", "pwritev_rmw_after_tail",
                                  "pwritev",          "pwritev_done",
                                  "read_aio",         "write_aio",
                                  "flush_to_disk"};

// Distinct non-zero bytes per write, so a lost or misordered write shows.
std::uint8_t data_byte(u64 id, u64 pos)
{
    u64 h = (id + 1) * 0x9E3779B97F4A7C15ull ^ (pos + 1) * 0xBF58476D1CE4E5B9ull;
    h ^= h >> 29;
    return static_cast<std::uint8_t>(1 + (h * 0x94D049BB133111EBull >> 56) % 255);
}

struct buffers {
    std::vector<std::unique_ptr<std::uint8_t[]>> raw;
    std::vector<granule::io_buffer> iov;
    // The bytes the iovec covers, in order.
    void copy_out(std::uint8_t *dst) const
    {
        for (const auto &b : iov) {
            std::memcpy(dst, b.base, b.len);
            dst += b.len;
        }
    }
};

struct op {
    enum kind_t { write, read, flush } kind;
    u64 id = 0, off = 0, len = 0;
    bool expect_fail = false;  // a write or read past the end of a fixed-size node
    bool serialising = false;  // surely serialising (writes)
    buffers buf;
    std::future<granule::result<std::size_t>> io;
    std::future<granule::result<void>> done;
    std::vector<std::uint8_t> expect;  // reads: the model at issue
    std::vector<bool> check;           // reads: bytes the promise covers

    bool ready() const
    {
        auto zero = std::chrono::seconds(0);
        return kind == flush ? done.wait_for(zero) == std::future_status::ready
                             : io.wait_for(zero) == std::future_status::ready;
    }
    std::string name() const
    {
        const char *k = kind == write ? "write" : kind == read ? "read" : "flush";
        return std::string(k) + " #" + std::to_string(id) + " offset " + std::to_string(off) +
               " length " + std::to_string(len);
    }
};

class run {
public:
    explicit run(FuzzedDataProvider &in) : in_(in) {}
    void go();

private:
    // Configuration and state.
    FuzzedDataProvider &in_;
    std::unique_ptr<granule::device> dev_;
    std::string spec_;
    u64 io_align_ = 1, pdiscard_align_ = 1;
    bool growable_ = false;
    std::vector<std::uint8_t> model_ = std::vector<std::uint8_t>(read_cap, 0);
    u64 length_ = 0;
    std::vector<std::unique_ptr<op>> batch_;
    bool armed_ = false;
    u64 next_id_ = 0;
    std::string log_;
    u64 checked_ = 0, read_bytes_ = 0;  // read bytes the promise covered, of all read

    [[noreturn]] void failed(const std::string &what) const
    {
        fail(what + "\n  device: " + spec_ + " (io_align " + std::to_string(io_align_) +
             ")\n  ops:\n" + log_);
    }
    void note(const std::string &line) { log_ += "    " + line + "\n"; }

    bool open();
    void fill();
    void one_op();
    u64 pick_offset(u64 limit);
    u64 pick_length(u64 off, u64 limit);
    buffers make_buffers(u64 len);
    bool conflicts(u64 off, u64 len) const;
    void shape_write(u64 &off, u64 &len);
    void issue_write(bool zeroes);
    void sync_zeroes();
    void issue_read();
    void issue_flush();
    void breakpoint();
    void resume();
    void wait_parked();
    void discard();
    void truncate();
    void end_batch();
    void compare_device(const char *when);
};

bool run::open()
{
    static constexpr u64 aligns[] = {512, 4096, 512, 4096, 1, 65536};
    static constexpr u64 mem_aligns[] = {1, 512, 4096};
    static constexpr u64 transfers[] = {0, 4096, 8192, 65536};
    u64 align = in_.PickValueInArray(aligns);
    u64 mem_align = in_.PickValueInArray(mem_aligns);
    u64 transfer = in_.PickValueInArray(transfers);
    u64 child_align = in_.ConsumeBool() ? 512 : 1;
    growable_ = in_.ConsumeBool();
    u64 size = in_.ConsumeIntegralInRange<u64>(growable_ ? 0 : 1, max_size);
    spec_ = "driver=blkdebug,align=" + std::to_string(align) +
            ",mem-align=" + std::to_string(mem_align) +
            (transfer ? ",max-transfer=" + std::to_string(transfer) : std::string()) +
            ",image.driver=memory,image.size=" + std::to_string(size) +
            ",image.align=" + std::to_string(child_align) +
            ",image.growable=" + (growable_ ? "on" : "off");
    auto d = granule::device::open(spec_);
    // The one refusal among these: a max_transfer below the request alignment.
    if (transfer && transfer < std::max(align, child_align)) {
        if (d)
            failed("opened although max-transfer < align");
        return false;
    }
    if (!d)
        failed("cannot open: " + d.error().message);
    dev_ = std::move(*d);
    auto l = dev_->get_limits();
    io_align_ = std::max(l.request_alignment, l.min_mem_alignment);
    pdiscard_align_ = l.pdiscard_alignment;
    length_ = size;
    if (dev_->length() != size || dev_->growable() != growable_)
        failed("opened with length " + std::to_string(dev_->length()));
    return true;
}

// A background pattern, so RMW reads bring back something that is not zero.
void run::fill()
{
    if (length_ == 0)
        return;
    std::uint8_t block[4096];
    for (u64 i = 0; i < sizeof block; ++i)
        block[i] = static_cast<std::uint8_t>(0x80 | (i * 7));
    for (u64 at = 0; at < length_; at += sizeof block)
        std::memcpy(model_.data() + at, block, std::min<u64>(sizeof block, length_ - at));
    for (u64 at = 0; at < length_; at += sizeof block)  // blocks differ too
        model_[at] = static_cast<std::uint8_t>(at / sizeof block);
    auto r = dev_->pwrite(0, model_.data(), length_);
    if (!r || *r != length_)
        failed("fill write failed: " + (r ? std::to_string(*r) : r.error().message));
    note("fill 0+" + std::to_string(length_));
}

u64 run::pick_offset(u64 limit)
{
    const u64 a = io_align_;
    switch (in_.ConsumeIntegralInRange(0, 3)) {
    case 0:  // on a block
        return std::min(limit, a * in_.ConsumeIntegralInRange<u64>(0, limit / a));
    case 1: {  // near a block boundary
        u64 base = a * in_.ConsumeIntegralInRange<u64>(0, limit / a);
        u64 delta = in_.ConsumeIntegralInRange<u64>(0, 128);
        u64 off = in_.ConsumeBool() ? base + delta : (base > delta ? base - delta : 0);
        return std::min(off, limit);
    }
    case 2: {  // near the end
        u64 back = in_.ConsumeIntegralInRange<u64>(0, 8192);
        u64 fwd = in_.ConsumeIntegralInRange<u64>(0, 600);
        return std::min(limit, (length_ > back ? length_ - back : 0) + fwd);
    }
    default:
        return in_.ConsumeIntegralInRange<u64>(0, limit);
    }
}

u64 run::pick_length(u64 off, u64 limit)
{
    const u64 a = io_align_;
    u64 len;
    switch (in_.ConsumeIntegralInRange(0, 3)) {
    case 0:  // whole blocks
        len = a * in_.ConsumeIntegralInRange<u64>(1, a >= 65536 ? 2 : 4);
        break;
    case 1:  // small
        len = in_.ConsumeIntegralInRange<u64>(1, 300);
        break;
    case 2:  // to a block boundary, plus a bit
        len = a - off % a + in_.ConsumeIntegralInRange<u64>(0, 2) * a +
              (in_.ConsumeBool() ? in_.ConsumeIntegralInRange<u64>(1, 64) : 0);
        break;
    default:
        len = in_.ConsumeIntegralInRange<u64>(1, 20000);
    }
    return std::max<u64>(1, std::min(len, limit - off));
}

// 1-3 elements, each at its own misalignment from a 4096-aligned base.
buffers run::make_buffers(u64 len)
{
    buffers b;
    int n = static_cast<int>(std::min<u64>(len, in_.ConsumeIntegralInRange(1, 3)));
    std::vector<u64> cuts;
    for (int i = 1; i < n; ++i) {
        u64 c = in_.ConsumeIntegralInRange<u64>(1, len - 1);
        if (in_.ConsumeBool() && c >= 512)
            c -= c % 512;  // element lengths that keep zero-copy possible
        cuts.push_back(c);
    }
    cuts.push_back(0);
    cuts.push_back(len);
    std::sort(cuts.begin(), cuts.end());
    cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
    for (std::size_t i = 0; i + 1 < cuts.size(); ++i) {
        u64 elen = cuts[i + 1] - cuts[i];
        static constexpr u64 misaligns[] = {0, 0, 512, 1, 8};
        u64 mis = in_.PickValueInArray(misaligns);
        if (mis == 8)
            mis = in_.ConsumeIntegralInRange<u64>(1, 4095);
        auto raw = std::make_unique<std::uint8_t[]>(elen + mis + 4096);
        auto addr = reinterpret_cast<std::uintptr_t>(raw.get());
        auto *base = raw.get() + ((4096 - addr % 4096) % 4096) + mis;
        b.iov.push_back({base, static_cast<std::size_t>(elen)});
        b.raw.push_back(std::move(raw));
    }
    return b;
}

// An aligned (not surely serialising) write in flight overlaps [off, off+len).
bool run::conflicts(u64 off, u64 len) const
{
    for (const auto &o : batch_)
        if (o->kind == op::write && !o->expect_fail && !o->serialising && off < o->off + o->len &&
            o->off < off + len && !o->ready())
            return true;
    return false;
}

// Picks a write's range; an aligned write over an aligned one in flight is
// made unaligned, or waits for the batch.
void run::shape_write(u64 &off, u64 &len)
{
    off = pick_offset(write_cap - 1);
    len = pick_length(off, write_cap);
    const bool aligned = off % io_align_ == 0 && len % io_align_ == 0 && off + len <= length_;
    if (aligned && conflicts(off, len)) {
        if (io_align_ > 1 && len > 1) {
            ++off;
            --len;
        } else {
            note("(batch ended: aligned write over an aligned write in flight)");
            end_batch();
        }
    }
}

void run::issue_write(bool zeroes)
{
    auto o = std::make_unique<op>();
    o->kind = op::write;
    o->id = next_id_++;
    shape_write(o->off, o->len);
    o->serialising = o->off % io_align_ || o->len % io_align_ || o->off + o->len > length_;
    o->expect_fail = !growable_ && o->off + o->len > length_;
    o->buf = make_buffers(o->len);
    u64 pos = 0;
    for (const auto &b : o->buf.iov)
        for (std::size_t i = 0; i < b.len; ++i, ++pos)
            static_cast<std::uint8_t *>(b.base)[i] = zeroes ? 0 : data_byte(o->id, pos);
    note(o->name() + (zeroes ? " (zeroes)" : "") + (o->serialising ? " serialising" : "") +
         (o->expect_fail ? " must fail" : "") + ", " + std::to_string(o->buf.iov.size()) +
         " elements");
    // Reads in flight: an aligned write issued now has no order with them.
    if (!o->serialising)
        for (auto &r : batch_)
            if (r->kind == op::read && !r->ready())
                for (u64 b = std::max(r->off, o->off); b < std::min(r->off + r->len, o->off + o->len); ++b)
                    r->check[b - r->off] = false;
    if (!o->expect_fail) {
        o->buf.copy_out(model_.data() + o->off);
        length_ = std::max(length_, o->off + o->len);
    }
    o->io = dev_->async_pwritev(o->off, o->buf.iov, asio::use_future);
    batch_.push_back(std::move(o));
}

// pwrite_zeroes is synchronous: with a breakpoint set it could wait for a
// parked request forever, so then it is an async write of zero buffers.
void run::sync_zeroes()
{
    if (armed_)
        return issue_write(true);
    u64 off, len;
    shape_write(off, len);
    const bool serialising = off % io_align_ || len % io_align_ || off + len > length_;
    const bool must_fail = !growable_ && off + len > length_;
    note("zeroes offset " + std::to_string(off) + " length " + std::to_string(len) +
         (serialising ? " serialising" : "") + (must_fail ? " must fail" : ""));
    if (!serialising)
        for (auto &r : batch_)
            if (r->kind == op::read && !r->ready())
                for (u64 b = std::max(r->off, off); b < std::min(r->off + r->len, off + len); ++b)
                    r->check[b - r->off] = false;
    auto r = dev_->pwrite_zeroes(off, len);
    if (must_fail) {
        if (r)
            failed("pwrite_zeroes offset " + std::to_string(off) + " length " +
                   std::to_string(len) + " past the end of a fixed-size device succeeded");
        return;
    }
    if (!r)
        failed("pwrite_zeroes offset " + std::to_string(off) + " length " + std::to_string(len) +
               " failed: " + r.error().message);
    std::fill_n(model_.begin() + static_cast<std::ptrdiff_t>(off), len, 0);
    length_ = std::max(length_, off + len);
}

void run::issue_read()
{
    auto o = std::make_unique<op>();
    o->kind = op::read;
    o->id = next_id_++;
    o->off = pick_offset(read_cap - 1);
    o->len = pick_length(o->off, read_cap);
    o->buf = make_buffers(o->len);
    for (const auto &b : o->buf.iov)
        std::memset(b.base, 0xee, b.len);
    // A fixed-size device ends where it ends (EIO); its length never moves.
    o->expect_fail = !growable_ && o->off + o->len > length_;
    o->expect.assign(model_.begin() + static_cast<std::ptrdiff_t>(o->off),
                     model_.begin() + static_cast<std::ptrdiff_t>(o->off + o->len));
    o->check.assign(o->len, true);
    // Bytes of writes still in flight may be old or new.
    for (const auto &w : batch_)
        if (w->kind == op::write && !w->expect_fail && !w->ready())
            for (u64 b = std::max(o->off, w->off); b < std::min(o->off + o->len, w->off + w->len); ++b)
                o->check[b - o->off] = false;
    note(o->name() + ", " + std::to_string(o->buf.iov.size()) + " elements");
    o->io = dev_->async_preadv(o->off, o->buf.iov, asio::use_future);
    batch_.push_back(std::move(o));
}

void run::issue_flush()
{
    auto o = std::make_unique<op>();
    o->kind = op::flush;
    o->id = next_id_++;
    note(o->name());
    o->done = dev_->async_flush(asio::use_future);
    batch_.push_back(std::move(o));
}

void run::breakpoint()
{
    if (armed_)
        return;
    const char *event = in_.PickValueInArray(events);
    if (auto r = dev_->debug_breakpoint(event, tag); !r)
        failed(std::string("debug_breakpoint ") + event + " failed: " + r.error().message);
    armed_ = true;
    note(std::string("break ") + event);
}

// Until a request is parked at the breakpoint, or none can get there (all
// of the batch completed): a bounded poll, the requests move on their own.
void run::wait_parked()
{
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
        if (dev_->debug_is_suspended(tag))
            return;
        if (std::all_of(batch_.begin(), batch_.end(), [](const auto &o) { return o->ready(); }))
            return;
        std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
}

void run::resume()
{
    if (!armed_)
        return;
    wait_parked();
    if (dev_->debug_is_suspended(tag)) {
        if (auto r = dev_->debug_resume(tag); !r)
            failed("debug_resume failed: " + r.error().message);
        note("resume (a request was parked)");
    } else {
        (void)dev_->debug_remove_breakpoint(tag);  // nobody came: disarm
        note("remove_break (nothing parked)");
    }
    armed_ = false;
}

void run::end_batch()
{
    if (armed_) {
        wait_parked();
        bool parked = dev_->debug_is_suspended(tag);
        (void)dev_->debug_remove_breakpoint(tag);  // resumes a parked request
        armed_ = false;
        note(std::string("remove_break at the end of the batch (") +
             (parked ? "a request was parked)" : "nothing parked)"));
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (auto &o : batch_) {
        bool ok = o->kind == op::flush ? o->done.wait_until(deadline) == std::future_status::ready
                                       : o->io.wait_until(deadline) == std::future_status::ready;
        if (!ok)
            failed(o->name() + " did not complete within 10 s (a hang)");
    }
    // Writes first: a failed write would make the reads' expectations wrong.
    for (auto &o : batch_) {
        if (o->kind == op::flush) {
            if (auto r = o->done.get(); !r)
                failed(o->name() + " failed: " + r.error().message);
            continue;
        }
        if (o->kind != op::write)
            continue;
        auto r = o->io.get();
        if (o->expect_fail) {
            if (r)
                failed(o->name() + " past the end of a fixed-size device succeeded");
        } else if (!r) {
            failed(o->name() + " failed: " + r.error().message);
        } else if (*r != o->len) {
            failed(o->name() + " returned " + std::to_string(*r));
        }
    }
    for (auto &o : batch_) {
        if (o->kind != op::read)
            continue;
        auto r = o->io.get();
        if (o->expect_fail) {
            if (r || r.error().code != EIO)
                failed(o->name() + " past the end of a fixed-size device: " +
                       (r ? std::string("succeeded") : r.error().message) + ", wanted EIO");
            continue;
        }
        if (!r)
            failed(o->name() + " failed: " + r.error().message);
        if (*r != o->len)
            failed(o->name() + " returned " + std::to_string(*r));
        std::vector<std::uint8_t> got(o->len);
        o->buf.copy_out(got.data());
        checked_ += static_cast<u64>(std::count(o->check.begin(), o->check.end(), true));
        read_bytes_ += o->len;
        if (got == o->expect)
            continue;  // the fast path: no byte-wise loop (instrumented) needed
        for (u64 i = 0; i < o->len; ++i)
            if (o->check[i] && got[i] != o->expect[i])
                failed(o->name() + ": byte " + std::to_string(o->off + i) + " is " +
                       std::to_string(got[i]) + ", expected " + std::to_string(o->expect[i]) +
                       " (the model at the read's issue)");
    }
    batch_.clear();
    compare_device("after a batch");
}

void run::compare_device(const char *when)
{
    if (dev_->length() != length_)
        failed(std::string("length ") + std::to_string(dev_->length()) + " " + when +
               ", the model has " + std::to_string(length_));
    // And zeroes past the end of a growable device; a fixed-size one refuses.
    const u64 n = growable_ ? length_ + 777 : length_;
    if (!growable_) {
        std::uint8_t past[777];
        if (auto p = dev_->pread(length_ ? length_ - 1 : 0, past, sizeof past);
            p || p.error().code != EIO)
            failed(std::string("a read past the end of the fixed-size device ") + when +
                   (p ? " succeeded" : ": " + p.error().message) + ", wanted EIO");
    }
    if (n == 0)
        return;  // a fixed-size device truncated to nothing: no read of length 0
    std::vector<std::uint8_t> got(n, 0xee);
    auto r = dev_->pread(0, got.data(), n);
    if (!r || *r != n)
        failed(std::string("whole-device read failed ") + when);
    if (std::memcmp(got.data(), model_.data(), n) == 0)
        return;
    for (u64 i = 0; i < n; ++i)
        if (got[i] != model_[i])
            failed(std::string("device differs from the model ") + when + ": byte " +
                   std::to_string(i) + " is " + std::to_string(got[i]) + ", expected " +
                   std::to_string(model_[i]));
}

void run::discard()
{
    end_batch();
    u64 off = pick_offset(read_cap - 1);
    u64 len = pick_length(off, read_cap);
    note("discard offset " + std::to_string(off) + " length " + std::to_string(len));
    // Past the end of a fixed-size device a discard fails (EIO), as a write.
    const bool must_fail = !growable_ && off + len > length_;
    auto r = dev_->pdiscard(off, len);
    if (must_fail) {
        if (r)
            failed("pdiscard offset " + std::to_string(off) + " length " + std::to_string(len) +
                   " past the end of a fixed-size device succeeded");
        else if (r.error().code != EIO)
            failed("pdiscard past the end of a fixed-size device: " + r.error().message);
        return;  // nothing may have changed: the whole-device check after the batch says so
    }
    if (!r)
        failed("pdiscard offset " + std::to_string(off) + " length " + std::to_string(len) +
               " failed: " + r.error().message);
    // What may go: whole pdiscard_alignment blocks inside the device.
    const u64 a = pdiscard_align_;
    const u64 start = (off + a - 1) / a * a;
    const u64 stop = std::min(off + len, length_) / a * a;
    // A fixed-size device is read inside its end only (past it: EIO).
    if (!growable_)
        len = off < length_ ? std::min(len, length_ - off) : 0;
    if (len == 0)
        return;
    std::vector<std::uint8_t> got(len, 0xee);
    if (auto r = dev_->pread(off, got.data(), len); !r)
        failed("read after discard failed: " + r.error().message);
    for (u64 i = 0; i < len; ++i) {
        u64 b = off + i;
        bool may_drop = b >= start && b < stop;
        if (got[i] != model_[b] && !(may_drop && got[i] == 0))
            failed("discard offset " + std::to_string(off) + " length " + std::to_string(len) +
                   ": byte " + std::to_string(b) + " is " + std::to_string(got[i]) +
                   ", expected " + std::to_string(model_[b]) + (may_drop ? " or 0" : ""));
        model_[b] = got[i];
    }
}

void run::truncate()
{
    end_batch();
    u64 to = in_.ConsumeIntegralInRange<u64>(0, write_cap);
    note("truncate " + std::to_string(to));
    // An explicit resize works on a fixed-size device too (qemu-img resize).
    auto r = dev_->truncate(to);
    if (!r)
        failed("truncate to " + std::to_string(to) + " failed: " + r.error().message);
    if (to < length_)
        std::fill(model_.begin() + static_cast<std::ptrdiff_t>(to), model_.end(), 0);
    length_ = to;
    compare_device("after truncate");
}

void run::one_op()
{
    int k = in_.ConsumeIntegralInRange(0, 99);
    if (k < 45)
        issue_write(false);
    else if (k < 77)
        issue_read();
    else if (k < 81)
        issue_flush();
    else if (k < 86)
        sync_zeroes();
    else if (k < 88)
        discard();
    else if (k < 90)
        truncate();
    else if (k < 95)
        breakpoint();
    else
        resume();
}

void run::go()
{
    if (!open())
        return;
    fill();
    int ops = 0;
    while (ops < max_ops && in_.remaining_bytes() > 0) {
        int n = in_.ConsumeIntegralInRange(1, 8);
        for (int i = 0; i < n && ops < max_ops; ++i, ++ops)
            one_op();
        end_batch();
    }
    end_batch();
    // GRANULE_FUZZ_VERBOSE: what an input did (to read a regression input).
    if (std::getenv("GRANULE_FUZZ_VERBOSE"))
        std::fprintf(stderr, "device: %s (io_align %llu)\n%sread bytes checked: %llu of %llu\n",
                     spec_.c_str(), static_cast<unsigned long long>(io_align_), log_.c_str(),
                     static_cast<unsigned long long>(checked_),
                     static_cast<unsigned long long>(read_bytes_));
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    granule_fuzz::use_build_drivers();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    FuzzedDataProvider in(data, size);
    run(in).go();
    return 0;
}
