// crash_writer: the two halves of the crash-consistency test (test_crash.sh).
//
//   crash_writer write SPEC LOG [--seed N] [--depth N] [--ops N]
// fills the device with the pattern of write 0 (aligned, then flushed), logs
// "S", then issues concurrent unaligned overlapping writes (1-3 iovec
// elements at random memory skews, up to --depth in flight) with a flush every
// 20-80 writes, until --ops writes (0: until killed). LOG is opened with
// O_APPEND and gets one line per event, each with one write(2):
//   S seed size          the device holds write 0's pattern, flushed
//   I id offset length   write id is about to be issued (before it can reach
//                        the device, so no byte on it comes from an unlogged write)
//   A id                 write id was acknowledged (after its completion)
//   F n acked            flush n completed; it was issued after the first
//                        `acked` A lines, so it covers those writes
//   D                    all --ops writes acknowledged and flushed
//
//   crash_writer check SPEC LOG [--label TEXT]
// reads the device (until two reads 200 ms apart agree: a killed process's
// writes may still be in the kernel) and checks every byte against the log.
// For each byte, let `acked` be the last write (in issue order) acknowledged
// and covering it, `flushed` the last one of those covered by the last
// completed flush. The byte must be acked's, or a byte of a write issued
// after acked that was not acknowledged (in flight at the kill: torn writes
// may be partly there). Overlapping writes land in issue order (all are
// unaligned, so serialising), so that is all that may show; in particular no
// read-modify-write may write back a byte older than acked's. The flush rule
// (flushed's byte, or one of any write issued after it) follows from it; a
// byte breaking only the ack rule is reported as such (SIGKILL is a process
// crash, not a power cut: what the kernel acknowledged stays readable).
// Exit 0: pass, 1: wrong byte or failed request, 2: usage, 77: no raw-posix
// driver / no O_DIRECT (a failure when GRANULE_NO_SKIP=1).
#include "stress_support.hpp"

#include <granule/device.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

namespace {

using stress::fail;
using u64 = std::uint64_t;

class event_log {
public:
    explicit event_log(const std::string &path)
        : fd_(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644))
    {
        if (fd_ < 0)
            fail("cannot open " + path + ": " + std::strerror(errno));
    }
    ~event_log() { ::close(fd_); }
    void line(const std::string &s)
    {
        const std::string l = s + "\n";
        if (::write(fd_, l.data(), l.size()) != static_cast<ssize_t>(l.size()))
            fail("cannot write the log: " + std::string(std::strerror(errno)));
    }

private:
    int fd_;
};

struct pending {
    bool flush = false;
    u64 id = 0;     // write id, or flush number
    u64 acked = 0;  // flushes: acknowledgements logged before the issue
    std::vector<stress::buffer> bufs;
    std::vector<granule::io_buffer> iov;
};

int write_mode(const std::string &spec, const std::string &log_path, u64 seed, u64 depth, u64 ops)
{
    auto stack = stress::open_stack("", spec, 0);
    auto &dev = *stack.dev;
    const u64 size = dev.length();
    const auto lim = dev.get_limits();
    const u64 align = std::max<u64>({lim.request_alignment, lim.min_mem_alignment, 1});
    if (align < 2 || size < 64 * align)
        fail("the device needs an alignment of at least 2 (O_DIRECT) and 64 blocks; it has " +
             std::to_string(align) + " and " + std::to_string(size) + " bytes");
    event_log log(log_path);
    {
        stress::buffer fill(1 << 20, 0);
        for (u64 off = 0; off < size; off += fill.size()) {
            const auto n = static_cast<std::size_t>(std::min<u64>(fill.size(), size - off));
            stress::fill_pattern(fill.data(), seed, 0, off, n);
            if (auto r = dev.pwrite(off, fill.data(), n); !r)
                fail("initial fill: " + r.error().message);
        }
        if (auto r = dev.flush(); !r)
            fail("initial flush: " + r.error().message);
    }
    log.line("S " + std::to_string(seed) + " " + std::to_string(size));

    std::mt19937_64 rng(seed);
    stress::completion_queue done;
    std::map<u64, std::unique_ptr<pending>> inflight;
    std::vector<std::uint8_t> data;
    u64 next_seq = 1, next_id = 1, acked = 0, flushes = 0, since_flush = 0;
    u64 flush_every = 20 + rng() % 60, target = 1, hot = 0;
    const u64 window = std::min<u64>(size / 2, 16 * align);
    auto reap = [&](bool wait) {
        for (auto &[seq, error] : done.take(wait)) {
            auto it = inflight.find(seq);
            const pending &p = *it->second;
            if (!error.empty())
                fail(std::string(p.flush ? "flush " : "write ") + std::to_string(p.id) + " failed: " + error);
            if (p.flush) {
                log.line("F " + std::to_string(p.id) + " " + std::to_string(p.acked));
            } else {
                log.line("A " + std::to_string(p.id));
                ++acked;
            }
            inflight.erase(it);
        }
    };
    while (ops == 0 || next_id <= ops) {
        if (next_id % 256 == 1)
            target = 1 + rng() % depth;
        if (next_id % 128 == 1)
            hot = rng() % (size - window) / align * align;
        if (inflight.size() >= target) {
            reap(true);
            continue;
        }
        auto p = std::make_unique<pending>();
        const u64 seq = next_seq++;
        if (since_flush >= flush_every) {
            p->flush = true;
            p->id = ++flushes;
            p->acked = acked;
            since_flush = 0;
            flush_every = 20 + rng() % 60;
            dev.async_flush([q = &done, seq](std::exception_ptr e, granule::result<void> r) {
                q->push(seq, e ? "exception" : !r ? r.error().message : "");
            });
        } else {
            const unsigned c = rng() % 100;
            u64 len = c < 40 ? 1 + rng() % 512 : c < 75 ? 1 + rng() % 8192 : 1 + rng() % 65536;
            u64 off = rng() % 4 ? hot + rng() % window : rng() % size;
            if (rng() % 5 == 0)
                off -= off % align;
            len = std::min(len, size - off);
            if (off % align == 0 && len % align == 0)
                len -= 1;  // every write unaligned: overlapping ones land in issue order
            p->id = next_id++;
            data.resize(len);
            stress::fill_pattern(data.data(), seed, p->id, off, len);
            stress::split_iov(rng, len, data.data(), p->bufs, p->iov);
            log.line("I " + std::to_string(p->id) + " " + std::to_string(off) + " " + std::to_string(len));
            ++since_flush;
            dev.async_pwritev(off, p->iov,
                              [q = &done, seq, len](std::exception_ptr e, granule::result<std::size_t> r) {
                                  q->push(seq, e ? "exception"
                                               : !r ? r.error().message
                                               : *r != len ? "short write" : "");
                              });
        }
        inflight.emplace(seq, std::move(p));
        reap(false);
    }
    while (!inflight.empty())
        reap(true);
    if (auto r = dev.flush(); !r)
        fail("final flush: " + r.error().message);
    log.line("F " + std::to_string(++flushes) + " " + std::to_string(acked));
    log.line("D");
    return 0;
}

struct logged_write {
    u64 off = 0, len = 0;
    bool acked = false, flushed = false;
    bool covers(u64 pos) const { return off <= pos && pos < off + len; }
};

std::vector<std::uint8_t> read_settled(granule::device &dev, u64 size, unsigned &rereads)
{
    auto read_all = [&] {
        std::vector<std::uint8_t> v(size);
        if (auto r = dev.pread(0, v.data(), size); !r)
            fail("reading the device: " + r.error().message);
        return v;
    };
    auto data = read_all();
    for (rereads = 0;; ++rereads) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        auto again = read_all();
        if (again == data)
            return data;
        if (rereads == 25)
            fail("the device still changes 5 s after the writer died");
        data = std::move(again);
    }
}

int check_mode(const std::string &spec, const std::string &log_path, const std::string &label)
{
    std::ifstream in(log_path);
    if (!in)
        fail("cannot read " + log_path);
    u64 seed = 0, size = 0, flushes = 0, flush_acked = 0;
    bool started = false, finished = false;
    std::vector<logged_write> writes(1);  // [0]: the fill
    std::vector<u64> ack_order;
    std::string line;
    while (std::getline(in, line)) {
        if (in.eof())
            break;  // no newline: cut short by the kill
        std::istringstream f(line);
        char k = 0;
        f >> k;
        if (k == 'S') {
            f >> seed >> size;
            started = true;
        } else if (k == 'I') {
            u64 id, off, len;
            f >> id >> off >> len;
            if (id != writes.size())
                fail("log: write " + std::to_string(id) + " out of order");
            writes.push_back({off, len});
        } else if (k == 'A') {
            u64 id;
            f >> id;
            if (id >= writes.size() || writes[id].acked)
                fail("log: bad acknowledgement of write " + std::to_string(id));
            writes[id].acked = true;
            ack_order.push_back(id);
        } else if (k == 'F') {
            f >> flushes >> flush_acked;
        } else if (k == 'D') {
            finished = true;
        }
        if (!f && k != 'D')
            fail("log: bad line '" + line + "'");
    }
    if (!started)
        fail("log " + log_path + " has no start line: the writer died before filling the device");
    for (u64 i = 0; i < flush_acked; ++i)
        writes[ack_order[i]].flushed = true;
    writes[0].acked = writes[0].flushed = true;

    auto stack = stress::open_stack("", spec, 0);
    if (stack.dev->length() < size)
        fail("the device has " + std::to_string(stack.dev->length()) + " bytes, the log " + std::to_string(size));
    unsigned rereads = 0;
    const auto data = read_settled(*stack.dev, size, rereads);
    stack.close();

    // The last acknowledged (and flushed) write over each byte, in issue order.
    std::vector<std::uint32_t> last_acked(size, 0), last_flushed(size, 0);
    std::vector<u64> open;  // not acknowledged: in flight at the kill
    for (u64 id = 1; id < writes.size(); ++id) {
        const auto &w = writes[id];
        if (w.acked)
            std::fill_n(last_acked.begin() + w.off, w.len, static_cast<std::uint32_t>(id));
        else
            open.push_back(id);
        if (w.flushed)
            std::fill_n(last_flushed.begin() + w.off, w.len, static_cast<std::uint32_t>(id));
    }
    auto found_writer = [&](u64 pos) {
        u64 best = 0, run = 0;
        for (u64 id = 0; id < writes.size(); ++id) {
            if (!writes[id].covers(pos) && id)
                continue;
            const u64 end = id ? writes[id].off + writes[id].len : size;
            const u64 n = stress::pattern_run(data.data() + pos, seed, id, pos,
                                              static_cast<std::size_t>(std::min<u64>(16, end - pos)));
            if (n > run)
                best = id, run = n;
        }
        return run ? std::to_string(best) + (best ? "" : " (the fill)") + ", its pattern for " +
                         std::to_string(run) + " bytes"
                   : std::string("none");
    };
    u64 torn_bytes = 0;
    std::vector<bool> seen(writes.size());
    for (u64 pos = 0; pos < size; ++pos) {
        const std::uint8_t v = data[pos];
        const u64 a = last_acked[pos];
        if (v == stress::pattern_byte(seed, a, pos))
            continue;
        bool later = false;
        for (u64 id : open)
            if (id > a && writes[id].covers(pos) && v == stress::pattern_byte(seed, id, pos)) {
                later = seen[id] = true;
                break;
            }
        if (later) {
            ++torn_bytes;
            continue;
        }
        const u64 fl = last_flushed[pos];
        bool flush_ok = v == stress::pattern_byte(seed, fl, pos);
        for (u64 id = fl + 1; id < writes.size() && !flush_ok; ++id)
            flush_ok = writes[id].covers(pos) && v == stress::pattern_byte(seed, id, pos);
        std::fprintf(stderr,
                     "MISMATCH: %s: byte at offset %llu is 0x%02x (writer %s); expected write %llu's "
                     "0x%02x (the last acknowledged over it%s) or a byte of an unacknowledged later "
                     "write; the last flushed write over it is %llu: %s\n",
                     label.c_str(), (unsigned long long)pos, v, found_writer(pos).c_str(),
                     (unsigned long long)a, stress::pattern_byte(seed, a, pos),
                     a ? (" at " + std::to_string(writes[a].off) + "+" + std::to_string(writes[a].len)).c_str() : ", the fill",
                     (unsigned long long)fl,
                     flush_ok ? "the flush rule holds, an acknowledged write was lost"
                              : "a write covered by a completed flush was lost");
        std::printf("crash check: %s: FAIL mismatches 1 (seed %llu)\n", label.c_str(), (unsigned long long)seed);
        return 1;
    }
    const auto torn_writes = std::count(seen.begin(), seen.end(), true);
    std::printf("crash check: %s: writes issued %llu, acknowledged %llu, in flight at the kill %llu, "
                "flushes %llu (the last covers %llu writes)%s, bytes checked %llu, bytes of "
                "unacknowledged writes %llu (from %lld writes), rereads %u, mismatches 0\n",
                label.c_str(), (unsigned long long)(writes.size() - 1),
                (unsigned long long)ack_order.size(), (unsigned long long)open.size(),
                (unsigned long long)flushes, (unsigned long long)flush_acked,
                finished ? ", finished" : "", (unsigned long long)size,
                (unsigned long long)torn_bytes, (long long)torn_writes, rereads);
    return 0;
}

int usage()
{
    std::fprintf(stderr, "usage: crash_writer write SPEC LOG [--seed N] [--depth N] [--ops N]\n"
                         "       crash_writer check SPEC LOG [--label TEXT]\n");
    return 2;
}

}  // namespace

int main(int argc, char **argv)
{
    if (argc < 4)
        return usage();
    const std::string mode = argv[1], spec = argv[2], log = argv[3];
    u64 seed = std::random_device{}(), depth = 32, ops = 0;
    std::string label = "check";
    for (int i = 4; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        if (a == "--seed")
            seed = std::strtoull(argv[i + 1], nullptr, 0);
        else if (a == "--depth")
            depth = std::max<u64>(1, std::strtoull(argv[i + 1], nullptr, 0));
        else if (a == "--ops")
            ops = std::strtoull(argv[i + 1], nullptr, 0);
        else if (a == "--label")
            label = argv[i + 1];
        else
            return usage();
    }
    if ((argc - 4) % 2)
        return usage();
    if (mode == "write")
        return write_mode(spec, log, seed, depth, ops);
    if (mode == "check")
        return check_mode(spec, log, label);
    return usage();
}
