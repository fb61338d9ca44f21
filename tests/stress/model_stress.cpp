// model_stress: random concurrent OVERLAPPING reads and writes at queue depth,
// unaligned and aligned, through the async API from one thread, checked byte
// by byte against an issue-order model. Granule's promise (docs/architecture.md,
// "Serialisation without locks"):
//  - byte-overlapping writes land in issue order when at least one of them is
//    serialising (unaligned: offset or length no multiple of io_align =
//    max(request_alignment, min_mem_alignment), or padded past the end);
//    two ALIGNED writes overlapping while both are in flight have no order, as
//    on any block device, so the generator never issues an aligned write over
//    an aligned one still in flight (it makes it unaligned instead). Hence the
//    device must end up exactly as the writes applied in issue order;
//  - a read waits for the older serialising writes it overlaps, and newer
//    serialising writes wait for it. So a read must return the issue-order
//    model at its issue for every byte that no ALIGNED write in flight at its
//    issue, nor one issued while it is in flight, touches. That covers the
//    bytes no write in flight touches, those behind older unaligned writes
//    still in flight (counted apart) and those that unaligned writes issued
//    AFTER the read overwrite (counted apart: they must wait for the read).
// Every write's bytes are a pattern of (seed, write id, offset), so a wrong
// byte names the write it came from. Some rounds park a write at a blkdebug
// breakpoint (pwritev_done, pwritev_rmw_after_head), queue overlapping
// requests behind it and resume it with more overlapping writes right behind,
// half of them with the device thread held so the new writes start between
// the parked write's end and its waiters' wake-up: the interleaving in which
// a freed request's frame is reused (issue 9).
//
//   model_stress [--backend memory|raw-posix | --spec SPEC] [--seed N] [--ops N]
//                [--depth N] [--size N] [--check-every N]
// --backend (default memory) opens blkdebug align=4096,mem-align=512 over a
// memory node, or over a temp file with cache.direct=on, of --size bytes
// (default 4 MiB + 1500: the last block is partial, so writes there pad past
// the end, and their last iovec ends off mem-align 512, as the ABI allows at
// a node's end). --spec opens SPEC as given and OVERWRITES it (or its first --size
// bytes); without blkdebug in it the breakpoint rounds are left out.
// --depth: most requests in flight (phases pick 1..N); --check-every: ops
// between whole-device comparisons (each drains the queue first).
// Exit 0: pass, 1: wrong byte or failed request, 2: usage,
// 77: driver or O_DIRECT not available (a failure when GRANULE_NO_SKIP=1).
#include "model_runner.hpp"

namespace model_stress {

u64 runner::pick_len()
{
    const unsigned c = rng_() % 100;
    if (c < 35)
        return 1 + rng_() % 512;
    if (c < 65)
        return 1 + rng_() % 8192;
    if (c < 80)
        return 1 + rng_() % 65536;
    return align_ * (1 + rng_() % 8);  // a candidate for an aligned request
}

std::pair<u64, u64> runner::pick_range(bool write)
{
    u64 len = pick_len();
    u64 off;
    // A quarter of the writes continue the last one: the streams that write
    // gathering joins into one request.
    if (write && last_write_end_ < size_ && rng_() % 4 == 0)
        return {last_write_end_, std::min(len, size_ - last_write_end_)};
    const unsigned c = rng_() % 100;
    if (c < 60)
        off = hot_ + rng_() % hot_window_;
    else if (c < 70)
        off = size_ - std::min(size_, 1 + rng_() % (3 * align_));  // the end, its partial block
    else
        off = rng_() % size_;
    if (len % align_ == 0 ? rng_() % 3 != 0 : rng_() % 5 == 0)
        off -= off % align_;
    off = std::min(off, size_ - 1);
    const u64 end_max = write || !read_past_end_ ? size_ : size_ + 2 * align_;
    len = std::min(len, end_max - off);
    return {off, len};
}

// A random range inside [from, to) (to > from).
std::pair<u64, u64> runner::inside(u64 from, u64 to)
{
    to = std::min(to, size_);
    const u64 off = from + rng_() % (to - from);
    return {off, 1 + rng_() % std::min<u64>(to - off, 6000)};
}

void runner::split_iov(op &o, bool fill)
{
    stress::split_iov(rng_, o.len, fill ? model_.data() + o.off : nullptr, o.bufs, o.iov);
}

op &runner::issue_write(u64 off, u64 len)
{
    auto holder = std::make_unique<op>();
    op &o = *holder;
    o.k = kind::write;
    o.seq = next_seq_++;
    o.off = off;
    o.len = len;
    o.aligned = aligned_range(off, len);
    if (o.aligned) {
        // Two aligned writes over the same bytes have no order: never issue
        // one while another is in flight there; make it unaligned instead.
        for (const auto &[s, f] : inflight_)
            if (f->k == kind::write && f->aligned && f->off < off + len && off < f->off + f->len) {
                o.len = len - 1;
                o.aligned = false;
                break;
            }
    }
    o.id = log_.size() + 1;
    last_write_end_ = o.off + o.len;
    log_.push_back({o.off, o.len, o.aligned});
    stress::fill_pattern(model_.data() + o.off, cfg_.seed, o.id, o.off, o.len);
    split_iov(o, true);
    // Reads in flight: an aligned write may land under them or not; an
    // unaligned one must wait for them (checked: they must not see it).
    for (auto &[s, r] : inflight_) {
        if (r->k != kind::read || !(r->off < o.off + o.len && o.off < r->off + r->len))
            continue;
        const u64 from = std::max(r->off, o.off), to = std::min(r->off + r->len, o.off + o.len);
        for (u64 p = from; p < to; ++p)
            r->mask[p - r->off] |= o.aligned ? unchecked : under_newer;
        r->concurrent.push_back(o.id);
    }
    ++n_writes_;
    n_aligned_ += o.aligned;
    bytes_written_ += o.len;
    dev_.async_pwritev(o.off, o.iov,
                       [q = &done_, seq = o.seq, len = o.len](std::exception_ptr e,
                                                              granule::result<std::size_t> r) {
                           q->push(seq, e ? "exception"
                                        : !r ? r.error().message
                                        : *r != len ? "wrote " + std::to_string(*r) + " bytes"
                                                    : "");
                       });
    inflight_.emplace(o.seq, std::move(holder));
    max_inflight_ = std::max<u64>(max_inflight_, inflight_.size());
    return o;
}

op &runner::issue_read(u64 off, u64 len)
{
    auto holder = std::make_unique<op>();
    op &o = *holder;
    o.k = kind::read;
    o.seq = next_seq_++;
    o.off = off;
    o.len = len;
    o.writes_before = log_.size();
    o.expect.assign(len, 0);  // zeroes past the end
    if (off < size_)
        std::memcpy(o.expect.data(), model_.data() + off, std::min(len, size_ - off));
    o.mask.assign(len, 0);
    for (const auto &[s, w] : inflight_) {
        if (w->k != kind::write || !(w->off < off + len && off < w->off + w->len))
            continue;
        const u64 from = std::max(w->off, off), to = std::min(w->off + w->len, off + len);
        for (u64 p = from; p < to; ++p)
            o.mask[p - off] |= w->aligned ? unchecked : behind_older;
        o.concurrent.push_back(w->id);
    }
    split_iov(o, false);
    ++n_reads_;
    dev_.async_preadv(o.off, o.iov,
                      [q = &done_, seq = o.seq, len = o.len](std::exception_ptr e,
                                                             granule::result<std::size_t> r) {
                          q->push(seq, e ? "exception"
                                       : !r ? r.error().message
                                       : *r != len ? "read " + std::to_string(*r) + " bytes"
                                                   : "");
                      });
    inflight_.emplace(o.seq, std::move(holder));
    max_inflight_ = std::max<u64>(max_inflight_, inflight_.size());
    return o;
}

void runner::issue_flush()
{
    auto holder = std::make_unique<op>();
    holder->k = kind::flush;
    holder->seq = next_seq_++;
    ++n_flushes_;
    dev_.async_flush([q = &done_, seq = holder->seq](std::exception_ptr e, granule::result<void> r) {
        q->push(seq, e ? "exception" : !r ? r.error().message : "");
    });
    inflight_.emplace(holder->seq, std::move(holder));
}

void runner::issue_random()
{
    const unsigned c = rng_() % 100;
    if (c < 2) {
        issue_flush();
        return;
    }
    const bool write = c < 62;
    auto [off, len] = pick_range(write);
    if (write)
        issue_write(off, len);
    else
        issue_read(off, len);
}

void runner::reap(bool wait)
{
    for (auto &[seq, error] : done_.take(wait)) {
        auto it = inflight_.find(seq);
        if (it == inflight_.end())
            fail("completion of an unknown request #" + std::to_string(seq));
        const op &o = *it->second;
        if (!error.empty())
            fail(std::string(o.k == kind::read ? "read" : o.k == kind::write ? "write" : "flush") +
                 (o.k == kind::flush ? "" : " at " + range_text(o.off, o.len)) + " failed: " + error);
        if (o.k == kind::read)
            check_read(o);
        inflight_.erase(it);
    }
}

void runner::drain()
{
    while (!inflight_.empty())
        reap(true);
}

void runner::check_read(const op &o)
{
    std::vector<std::uint8_t> got;
    got.reserve(o.len);
    for (const auto &e : o.iov)
        got.insert(got.end(), static_cast<std::uint8_t *>(e.base),
                   static_cast<std::uint8_t *>(e.base) + e.len);
    for (u64 i = 0; i < o.len; ++i) {
        const auto m = o.mask[i];
        if (m & unchecked) {
            ++read_unchecked_;
            continue;
        }
        if (got[i] != o.expect[i]) {
            const u64 pos = o.off + i;
            std::string extra = std::string(" (that byte: ") +
                                (m & behind_older ? "behind an older unaligned write in flight, " : "") +
                                (m & under_newer ? "under an unaligned write issued later, " : "") +
                                "writes concurrent with the read:";
            for (u64 id : o.concurrent)
                extra += " #" + std::to_string(id) + "@" + range_text(log_[id - 1].off, log_[id - 1].len) +
                         (log_[id - 1].aligned ? "(aligned)" : "");
            extra += ")";
            mismatch("read", o.off, o.len, pos, o.expect[i], got[i],
                     pos >= size_ ? 0 : writer_before(pos, o.writes_before),
                     found_writer(got.data() + i, pos, o.len - i), extra);
        }
        ++read_checked_;
        read_behind_older_ += (m & behind_older) != 0;
        read_under_newer_ += (m & under_newer) != 0;
    }
}

void runner::check_device(const char *when)
{
    drain();
    std::vector<std::uint8_t> got(size_);
    if (auto r = dev_.pread(0, got.data(), got.size()); !r)
        fail(std::string(when) + ": reading the device back failed: " + r.error().message);
    auto m = std::mismatch(model_.begin(), model_.end(), got.begin());
    if (m.first != model_.end()) {
        const u64 pos = m.first - model_.begin();
        mismatch(std::string("device check (") + when + ")", 0, size_, pos, *m.first, *m.second,
                 writer_before(pos, log_.size()), found_writer(got.data() + pos, pos, size_ - pos), "");
    }
    device_checked_ += size_;
    ++device_checks_;
}

void runner::run()
{
    model_.resize(size_);
    stress::fill_pattern(model_.data(), cfg_.seed, 0, 0, size_);
    if (auto r = dev_.pwrite(0, model_.data(), size_); !r)
        fail("initial fill: " + r.error().message);
    dev_.reset_stats();
    const auto t0 = std::chrono::steady_clock::now();

    static const u64 depths[] = {1, 2, 4, 8, 16, 32, 64};
    u64 next_phase = 0, next_bp = 200 + rng_() % 300, next_check = cfg_.check_every;
    u64 issued = 0;
    while (issued < cfg_.ops) {
        const u64 before = next_seq_;
        if (issued >= next_phase) {
            target_depth_ = rng_() % 4 ? depths[rng_() % std::size(depths)] : 1 + rng_() % cfg_.depth;
            target_depth_ = std::min(target_depth_, cfg_.depth);
            next_phase = issued + 128 + rng_() % 896;
        }
        if (issued % 64 == 0)
            hot_ = size_ > hot_window_ ? (rng_() % (size_ - hot_window_)) / align_ * align_ : 0;
        if (breakpoints_ && issued >= next_bp) {
            breakpoint_round(bp_rounds_ % 2 == 1);
            next_bp = issued + 200 + rng_() % 600;
        } else if (issued >= next_check) {
            check_device("periodic");
            next_check = issued + cfg_.check_every;
        } else if (inflight_.size() < target_depth_) {
            issue_random();
            reap(false);
        } else {
            reap(true);
        }
        issued += next_seq_ - before;
    }
    drain();
    if (auto r = dev_.flush(); !r)
        fail("final flush: " + r.error().message);
    check_device("final");
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const auto st = dev_.get_stats();
    stress::print_stats(st);
    std::printf("  reads: %llu bytes checked (%llu behind older unaligned writes in flight, %llu under "
                "unaligned writes issued later), %llu left unchecked under aligned writes in flight\n",
                (unsigned long long)read_checked_, (unsigned long long)read_behind_older_,
                (unsigned long long)read_under_newer_, (unsigned long long)read_unchecked_);
    std::printf("model_stress: PASS requests %llu (writes %llu, %llu aligned; reads %llu; flushes %llu), "
                "bytes written %llu, bytes checked %llu (reads %llu, %llu whole-device checks %llu), "
                "mismatches 0, serialisation_waits %llu, rmw_cycles %llu, breakpoint rounds %llu "
                "(%llu forced), max in flight %llu, %.1f s\n",
                (unsigned long long)(next_seq_ - 1), (unsigned long long)n_writes_,
                (unsigned long long)n_aligned_, (unsigned long long)n_reads_,
                (unsigned long long)n_flushes_, (unsigned long long)bytes_written_,
                (unsigned long long)(read_checked_ + device_checked_),
                (unsigned long long)read_checked_, (unsigned long long)device_checks_,
                (unsigned long long)device_checked_, (unsigned long long)st.serialisation_waits,
                (unsigned long long)st.rmw_cycles, (unsigned long long)bp_rounds_,
                (unsigned long long)bp_forced_, (unsigned long long)max_inflight_, secs);
    if (st.serialisation_waits == 0 || st.rmw_cycles == 0)
        fail("serialisation_waits or rmw_cycles is 0: the requests never overlapped unaligned");
    if (st.writes_carried == 0)
        fail("writes_carried is 0: no write was gathered or coalesced into another's request");
    if (st.failed_requests != 0)
        fail(std::to_string(st.failed_requests) + " failed requests");
}

int usage()
{
    std::fprintf(stderr, "usage: model_stress [--backend memory|raw-posix | --spec SPEC] [--seed N] "
                         "[--ops N] [--depth N] [--size N] [--check-every N]\n");
    return 2;
}

// The model keeps the area in memory (and a copy for each check).
constexpr u64 max_size = 1ull << 30;

}  // namespace model_stress

using namespace model_stress;

int main(int argc, char **argv)
{
    config cfg;
    cfg.seed = std::random_device{}();
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto number = [&] { return std::strtoull(argv[++i], nullptr, 0); };
        if (i + 1 >= argc)
            return usage();
        if (a == "--seed")
            cfg.seed = number();
        else if (a == "--ops")
            cfg.ops = number();
        else if (a == "--depth")
            cfg.depth = number();
        else if (a == "--size")
            cfg.size = number();
        else if (a == "--check-every")
            cfg.check_every = number();
        else if (a == "--backend")
            cfg.backend = argv[++i];
        else if (a == "--spec")
            cfg.spec = argv[++i];
        else
            return usage();
    }
    if (!cfg.backend.empty() && !cfg.spec.empty()) {
        std::fprintf(stderr, "--backend and --spec exclude each other\n");
        return usage();
    }
    if (cfg.depth < 1 || cfg.ops < 1 || cfg.check_every < 1) {
        std::fprintf(stderr, "--ops, --depth and --check-every must be at least 1\n");
        return usage();
    }
    if (cfg.spec.empty() && cfg.backend.empty())
        cfg.backend = "memory";
    const u64 backend_size = cfg.size ? cfg.size : (4ull << 20) + 1500;
    if (cfg.spec.empty() && (backend_size < 65536 || backend_size > max_size)) {
        std::fprintf(stderr, "--size must be between 64 KiB and 1 GiB\n");
        return usage();
    }
    auto stack = stress::open_stack(cfg.backend, cfg.spec, backend_size, ",image.cache.direct=on");
    auto &dev = *stack.dev;
    u64 size = dev.length();
    if (!cfg.spec.empty()) {
        if (cfg.size > size)
            fail("--size " + std::to_string(cfg.size) + " is past the end of the device (" +
                 std::to_string(size) + " bytes)");
        if (cfg.size)
            size = cfg.size;
        if (size > max_size)
            fail("the device has " + std::to_string(size) + " bytes; the model keeps them in memory: "
                 "use --size N (at most " + std::to_string(max_size) + ")");
    } else if (size != backend_size) {
        fail("device length " + std::to_string(size) + ", expected " + std::to_string(backend_size));
    }
    const auto lim = dev.get_limits();
    const u64 align = std::max(lim.request_alignment, lim.min_mem_alignment);
    if (align < 2)
        fail("request_alignment and min_mem_alignment are 1: no write needs a read-modify-write, "
             "so there is nothing to serialise (O_DIRECT: cache.direct=on; or blkdebug align=)");
    if (size < 16 * align)
        fail("the area has " + std::to_string(size) + " bytes, fewer than 16 blocks of " +
             std::to_string(align));
    std::printf("model_stress: %s%s, seed %llu (rerun with --seed %llu), %llu ops at depth <= %llu "
                "over %llu bytes, io alignment %llu\n",
                cfg.spec.empty() ? "backend " : "spec ",
                cfg.spec.empty() ? cfg.backend.c_str() : cfg.spec.c_str(),
                (unsigned long long)cfg.seed, (unsigned long long)cfg.seed,
                (unsigned long long)cfg.ops, (unsigned long long)cfg.depth,
                (unsigned long long)size, (unsigned long long)align);
    std::fflush(stdout);
    runner(dev, cfg, size).run();
    stack.close();
    return 0;
}
