// model_stress: the breakpoint rounds that force the freed-request reuse,
// and the reports that name the writer of a wrong byte.
#include "model_runner.hpp"

namespace model_stress {

// The last write issued among the first `writes` that covers pos (0: the fill).
u64 runner::writer_before(u64 pos, u64 writes) const
{
    for (u64 id = writes; id > 0; --id)
        if (log_[id - 1].off <= pos && pos < log_[id - 1].off + log_[id - 1].len)
            return id;
    return 0;
}

// The write whose pattern matches the most of the (up to 16) bytes from pos.
std::string runner::found_writer(const std::uint8_t *found, u64 pos, u64 avail) const
{
    u64 best = 0, best_run = 0;
    const u64 probe = std::min<u64>(avail, 16);
    if (pos < size_)
        best_run = stress::pattern_run(found, cfg_.seed, 0, pos,
                                       static_cast<std::size_t>(std::min(probe, size_ - pos)));
    for (u64 id = log_.size(); id > 0; --id) {
        const auto &w = log_[id - 1];
        if (pos < w.off || pos >= w.off + w.len)
            continue;
        const u64 run = stress::pattern_run(found, cfg_.seed, id, pos,
                                            static_cast<std::size_t>(std::min(probe, w.off + w.len - pos)));
        if (run > best_run) {
            best = id;
            best_run = run;
        }
    }
    if (best_run == 0)
        return std::string("none (no write's pattern there") + (found[0] == 0 ? ", a zero byte)" : ")");
    return std::to_string(best) + (best ? " at " + range_text(log_[best - 1].off, log_[best - 1].len) : " (the fill)") +
           ", its pattern for " + std::to_string(best_run) + " of " + std::to_string(probe) + " bytes";
}

void runner::mismatch(const std::string &what, u64 off, u64 len, u64 pos, std::uint8_t want,
                      std::uint8_t got, u64 want_writer, const std::string &found,
                      const std::string &extra)
{
    std::fflush(stdout);
    std::fprintf(stderr,
                 "MISMATCH: %s at %llu+%llu: first wrong byte at offset %llu: expected 0x%02x "
                 "(writer %llu%s), found 0x%02x (writer %s)%s\n",
                 what.c_str(), (unsigned long long)off, (unsigned long long)len,
                 (unsigned long long)pos, want, (unsigned long long)want_writer,
                 want_writer ? (" at " + range_text(log_[want_writer - 1].off, log_[want_writer - 1].len)).c_str()
                             : pos >= size_ ? ", zero past the end" : ", the fill",
                 got, found.c_str(), extra.c_str());
    std::printf("model_stress: FAIL requests %llu, mismatches 1 (seed %llu)\n",
                (unsigned long long)(next_seq_ - 1), (unsigned long long)cfg_.seed);
    std::exit(1);
}

// Returns once the device thread ran what was posted to it before: twice, as
// a request's start is posted and then runs to its first real wait.
void runner::sync_with_device()
{
    for (int i = 0; i < 2; ++i)
        boost::asio::post(dev_.get_executor(), boost::asio::use_future).get();
}

// A write A parked at a breakpoint, overlapping requests queued behind it,
// then A resumed with more overlapping writes right behind the resume. forced:
// the device thread is held so that those writes start after A is untracked
// but before A's waiters wake up, and are allocated where A's request was.
void runner::breakpoint_round(bool forced)
{
    drain();
    const bool at_head = rng_() % 2;  // pwritev_rmw_after_head, else pwritev_done
    const char *event = at_head ? "pwritev_rmw_after_head" : "pwritev_done";
    if (auto r = dev_.debug_breakpoint(event, "A"); !r) {
        std::printf("  no breakpoint rounds: %s\n", r.error().message.c_str());
        breakpoints_ = false;
        return;
    }
    const u64 block = hot_ + (hot_window_ > align_ ? rng_() % (hot_window_ - align_) : 0) / align_ * align_;
    u64 a_off, a_len;
    if (at_head) {  // needs a head to read: an unaligned start
        a_off = block + 1 + rng_() % (align_ - 1);
        a_len = 1 + rng_() % (2 * align_);
    } else if (rng_() % 2) {  // aligned, as in issue 9
        a_off = block;
        a_len = align_ * (1 + rng_() % 2);
    } else {
        a_off = block + rng_() % align_;
        a_len = 1 + rng_() % (2 * align_);
    }
    a_len = std::min(a_len, size_ - std::min(a_off, size_ - 1));
    a_off = std::min(a_off, size_ - 1);
    op &a = issue_write(a_off, a_len);
    const u64 from = a.off - a.off % align_;
    const u64 to = std::min(size_, (a.off + a.len + align_ - 1) / align_ * align_);
    const u64 a_seq = a.seq;
    for (int i = 0; !dev_.debug_is_suspended("A"); ++i) {
        reap(false);
        if (!inflight_.count(a_seq))
            fail(std::string("write at ") + range_text(a_off, a_len) + " completed without stopping at " + event);
        if (i > 50000)
            fail(std::string("write at ") + range_text(a_off, a_len) + " never reached " + event);
        std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    // Behind A: writes and reads in A's blocks (the writes wait for A).
    std::vector<std::pair<u64, u64>> queued;
    for (unsigned n = 2 + rng_() % 7; n; --n) {
        auto [off, len] = inside(from, to);
        if (rng_() % 4 == 0) {
            issue_read(off, len);
        } else {
            issue_write(off, len);
            queued.push_back({off, len});
        }
    }
    sync_with_device();  // all of them tracked, the writes waiting
    // Right behind A's resume: writes over the queued ones' bytes.
    auto overlapping = [&] {
        for (unsigned n = 1 + rng_() % 3; n; --n) {
            if (queued.empty() || rng_() % 4 == 0) {
                auto [off, len] = inside(from, to);
                issue_write(off, len);
            } else {
                auto [q_off, q_len] = queued[rng_() % queued.size()];
                auto [off, len] = inside(q_off, q_off + q_len);
                issue_write(off, len);
            }
        }
    };
    if (!forced) {
        if (auto r = dev_.debug_resume("A"); !r)
            fail("resume A: " + r.error().message);
        overlapping();
    } else {
        // The device thread takes, in this order: the resume (which queues
        // A's continuation), the second gate, during which the new writes'
        // starts are queued behind A's continuation; A then finishes and is
        // untracked, which queues its waiters' wake-ups behind those starts.
        gate first, second;
        first.post(dev_);
        granule::result<void> resumed;
        std::thread resumer([&] { resumed = dev_.debug_resume("A"); });
        std::this_thread::sleep_for(std::chrono::milliseconds(2));  // the resume is queued
        second.post(dev_);
        first.release();
        std::this_thread::sleep_for(std::chrono::milliseconds(2));  // A's continuation is queued
        overlapping();
        second.release();
        resumer.join();
        if (!resumed)
            fail("resume A: " + resumed.error().message);
        ++bp_forced_;
    }
    ++bp_rounds_;
}

}  // namespace model_stress
