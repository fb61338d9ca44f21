// granule-img probe FILE|DEVICE: asks every O_DIRECT probing method that
// raw-posix knows, prints each answer next to the trial-verified truth, and
// flags disagreements. The truth is trial I/O over written, allocated data:
// writes that put back exactly the bytes just read (never over shared
// extents), and reads. User data is never changed otherwise; --write-test
// writes its pattern into a scratch file of its own (O_TMPFILE, or created
// and unlinked at once) in the same directory.
#include "subcommands.hpp"

#include <cstdio>

#ifndef GRANULE_IMG_HAVE_PROBE

int probe_command(int, char **)
{
    std::fputs("granule-img probe: not available on this platform (raw-posix probing is "
               "Linux-only)\n",
               stderr);
    return 1;
}

#else

#include "probe.hpp"  // drivers/raw-posix

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace {

using raw_posix::method_answer;
using raw_posix::probe_report;
using std::uint64_t;

constexpr const char *usage_text =
    "usage: granule-img probe [-r|--read-only] [--no-write] [--write-test] FILE|DEVICE\n"
    "\n"
    "Opens FILE or DEVICE with O_DIRECT and asks every probing method raw-posix\n"
    "knows (statx, ioctl, sysfs, XFS_IOC_DIOINFO, trial reads, trial writes), then\n"
    "compares each answer with the trial truth and the values raw-posix would choose.\n"
    "\n"
    "  -r, --read-only  open read-only: no trial writes (truth from trial reads)\n"
    "  --no-write       no trial writes, even where the file is writable\n"
    "  --write-test     also write a 2 MiB pattern into a scratch file in FILE's\n"
    "                   directory (unlinked at once) and probe that: gives a truth\n"
    "                   for empty or sparse files\n"
    "\n"
    "Trial writes rewrite exactly the bytes just read, only over written, unshared\n"
    "data; don't probe a file another program is writing. A block device is opened\n"
    "with O_EXCL for trial writes: one that is mounted or in use is only read.\n"
    "Exit status: 0 chosen values agree with the truth (or there is none), 1 a chosen\n"
    "value is smaller than the truth (I/O would fail) or the probe failed, 2 usage\n"
    "error, 3 a chosen value is larger than the truth (safe; e.g. statx on a reflinked\n"
    "XFS file asks 4096 so that writes never fall back to buffered I/O).\n";

constexpr uint64_t scratch_size = uint64_t{2} << 20;  // room for the 1 MiB offset trial

struct args {
    std::string path;
    bool read_only = false;
    bool no_write = false;
    bool write_test = false;
};

std::string num(uint64_t v) { return std::to_string(v); }

// "offset 4096, memory 512" or "n/a: <why>".
std::string answer_text(const method_answer &m)
{
    if (!m.answered())
        return "n/a: " + (m.note.empty() ? std::string("no answer") : m.note);
    std::string s;
    auto add = [&s](const std::string &part) { s += (s.empty() ? "" : ", ") + part; };
    if (m.offset)
        add("offset " + num(m.offset));
    if (m.read_offset)
        add("read offset " + num(m.read_offset));
    if (m.memory)
        add("memory " + num(m.memory));
    return s;
}

struct truth {
    uint64_t write = 0;   // trial-write offset
    uint64_t read = 0;    // trial-read offset
    uint64_t memory = 0;  // trial memory (writes, else reads)
};

truth truth_of(const probe_report &r)
{
    truth t;
    if (const auto *w = r.find("trial-write")) {
        t.write = w->offset;
        t.memory = w->memory;
    }
    if (const auto *rd = r.find("trial-read")) {
        t.read = rd->read_offset;
        if (!t.memory)
            t.memory = rd->memory;
    }
    return t;
}

std::string compare(const char *what, uint64_t said, uint64_t real)
{
    if (!said || !real || said == real)
        return {};
    return std::string(what) + " " + num(said) + " vs trial " + num(real) +
           (said < real ? " (too small: I/O at it fails)" : " (larger than needed)");
}

// Disagreements of one method with the truth, "" when none or nothing to compare.
std::string disagreements(const method_answer &m, const truth &t)
{
    if (m.method.rfind("trial", 0) == 0)
        return {};
    std::string s;
    for (auto part : {compare("offset", m.offset, t.write),
                      compare("read offset", m.read_alignment(), t.read),
                      compare("memory", m.memory, t.memory)})
        if (!part.empty())
            s += (s.empty() ? "" : "; ") + part;
    return s;
}

// Ordered by severity; the exit status is the worst one (0, 3, 1).
enum class verdict { agree, larger, too_small };

int exit_status(verdict v) { return v == verdict::agree ? 0 : v == verdict::larger ? 3 : 1; }

// Prints the report and how the chosen values compare with the truth.
verdict print_report(const probe_report &r, bool writable)
{
    std::printf("type: %s, %llu bytes\n", r.file_type.c_str(),
                static_cast<unsigned long long>(r.size));
    if (r.written.ranges.empty())
        std::printf("written data: none (%s)\n", r.written.how.c_str());
    else
        std::printf("written data: %llu bytes in %zu range(s) (%s)\n",
                    static_cast<unsigned long long>(r.written.bytes()), r.written.ranges.size(),
                    r.written.how.c_str());
    truth t = truth_of(r);
    for (const auto &m : r.methods) {
        std::string line = m.method + ": " + answer_text(m);
        if (auto d = disagreements(m, t); !d.empty())
            line += "  DISAGREES with trial (" + d + ")";
        if (m.answered() && !m.note.empty())
            line += "  [" + m.note + "]";
        std::printf("%s\n", line.c_str());
    }
    if (!t.write && !t.read) {
        std::printf("truth: n/a: no trial could run (%s)%s\n",
                    r.written.ranges.empty() ? "no written data" : "see the trial lines",
                    r.written.ranges.empty() && !r.block.block_device
                        ? "; --write-test measures a scratch file in the same directory"
                        : "");
    } else {
        std::string s = "truth:";
        if (t.write)
            s += " offset " + num(t.write) + " (trial-write)";
        else
            s += " offset n/a (no trial write" +
                 std::string(writable ? "" : ": read-only") + ")";
        s += ", read offset " + (t.read ? num(t.read) : std::string("n/a"));
        s += ", memory " + (t.memory ? num(t.memory) : std::string("n/a"));
        std::printf("%s\n", s.c_str());
    }
    const auto &c = r.chosen;
    std::printf("chosen (read-write open): request_alignment %llu (%s), min_mem_alignment %llu (%s)\n",
                static_cast<unsigned long long>(c.request.value), c.request.source.c_str(),
                static_cast<unsigned long long>(c.memory.value), c.memory.source.c_str());
    std::printf("chosen (read-only open): request_alignment %llu (%s)\n",
                static_cast<unsigned long long>(c.read_request.value),
                c.read_request.source.c_str());

    // A fallback above the truth is the documented, safe answer to "cannot tell".
    verdict v = verdict::agree;
    auto check = [&v](const char *what, const raw_posix::probed &p, uint64_t real) {
        if (!real || p.value == real)
            return;
        bool fallback = p.source.rfind("fallback", 0) == 0;
        if (fallback && p.value > real)
            return;
        bool small = p.value < real;
        std::printf("verdict: %s %llu (%s) DISAGREES with trial %llu: %s\n", what,
                    static_cast<unsigned long long>(p.value), p.source.c_str(),
                    static_cast<unsigned long long>(real),
                    small ? "too small, I/O at it fails" : "larger than needed (safe, slower)");
        v = std::max(v, small ? verdict::too_small : verdict::larger);
    };
    // Without a trial write there is no truth for writes: a read trial says
    // nothing about them (XFS: reads 512, writes to a reflinked file 4096).
    check("request_alignment", c.request, t.write ? std::max(t.write, t.read) : 0);
    check("read-only request_alignment", c.read_request, t.read);
    check("min_mem_alignment", c.memory, t.memory);
    if (v == verdict::agree)
        std::printf("verdict: %s\n", t.write || t.read ? "chosen values agree with the trial truth"
                                                       : "no truth to compare with");
    return v;
}

// A 2 MiB pattern in an unlinked file next to path; -1 (message printed) on failure.
int make_scratch(const std::string &path)
{
    std::string dir = path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/'));
    if (dir.empty())
        dir = "/";
    int fd = open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    std::string how = "O_TMPFILE";
    if (fd < 0) {
        std::string name = dir + "/.granule-img-probe-XXXXXX";
        std::vector<char> buf(name.begin(), name.end());
        buf.push_back('\0');
        fd = mkostemp(buf.data(), O_CLOEXEC);
        if (fd < 0) {
            std::printf("scratch: cannot create a file in %s: %s\n", dir.c_str(), std::strerror(errno));
            return -1;
        }
        unlink(buf.data());
        how = "created and unlinked";
    }
    std::vector<unsigned char> pattern(scratch_size);
    for (std::size_t i = 0; i < pattern.size(); ++i)
        pattern[i] = static_cast<unsigned char>(0x5a ^ (i * 131 + (i >> 9)));  // no zero windows
    std::size_t done = 0;
    while (done < pattern.size()) {
        ssize_t n = write(fd, pattern.data() + done, pattern.size() - done);
        if (n <= 0) {
            std::printf("scratch: cannot write %llu bytes in %s: %s\n",
                        static_cast<unsigned long long>(scratch_size), dir.c_str(),
                        std::strerror(n < 0 ? errno : ENOSPC));
            close(fd);
            return -1;
        }
        done += static_cast<std::size_t>(n);
    }
    int flags = fcntl(fd, F_GETFL);
    if (fdatasync(fd) != 0 || flags < 0 || fcntl(fd, F_SETFL, flags | O_DIRECT) != 0) {
        std::printf("scratch: cannot sync or set O_DIRECT in %s: %s\n", dir.c_str(),
                    std::strerror(errno));
        close(fd);
        return -1;
    }
    std::printf("scratch: %llu-byte pattern in %s (%s)\n",
                static_cast<unsigned long long>(scratch_size), dir.c_str(), how.c_str());
    return fd;
}

// O_DIRECT, read-write when allowed: O_EXCL keeps trial writes off a block
// device that is mounted or otherwise claimed.
int open_target(const args &a, bool &writable, std::string &why_ro)
{
    struct stat st {};
    if (stat(a.path.c_str(), &st) != 0) {
        std::fprintf(stderr, "granule-img probe: cannot stat '%s': %s\n", a.path.c_str(),
                     std::strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
        std::fprintf(stderr, "granule-img probe: '%s' is not a regular file or block device\n",
                     a.path.c_str());
        return -1;
    }
    int fd = -1;
    writable = false;
    if (a.read_only || a.no_write) {
        why_ro = a.read_only ? "-r" : "--no-write";
    } else {
        int excl = S_ISBLK(st.st_mode) ? O_EXCL : 0;
        fd = open(a.path.c_str(), O_RDWR | O_DIRECT | O_CLOEXEC | excl);
        if (fd >= 0)
            writable = true;
        else if (errno == EINVAL)
            why_ro.clear();  // O_DIRECT itself is refused: reported below
        else
            why_ro = std::string(excl && errno == EBUSY ? "device in use (mounted?)"
                                                        : std::strerror(errno));
    }
    if (fd < 0)
        fd = open(a.path.c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        std::fprintf(stderr, "granule-img probe: cannot open '%s' with O_DIRECT: %s%s\n",
                     a.path.c_str(), std::strerror(e),
                     e == EINVAL ? " (the filesystem has no direct I/O)" : "");
        return -1;
    }
    return fd;
}

}  // namespace

int probe_command(int argc, char **argv)
{
    args a;
    for (int i = 1; i < argc; ++i) {
        std::string_view w = argv[i];
        if (w == "-r" || w == "--read-only") {
            a.read_only = true;
        } else if (w == "--no-write") {
            a.no_write = true;
        } else if (w == "--write-test") {
            a.write_test = true;
        } else if (w == "-h" || w == "--help") {
            std::fputs(usage_text, stdout);
            return 0;
        } else if (w.size() > 1 && w[0] == '-') {
            std::fprintf(stderr, "granule-img probe: unknown option '%s'\n%s", argv[i], usage_text);
            return 2;
        } else if (a.path.empty()) {
            a.path = w;
        } else {
            std::fprintf(stderr, "granule-img probe: only one FILE|DEVICE may be given\n%s",
                         usage_text);
            return 2;
        }
    }
    if (a.path.empty()) {
        std::fprintf(stderr, "granule-img probe: FILE|DEVICE missing\n%s", usage_text);
        return 2;
    }
    bool writable = false;
    std::string why_ro;
    int fd = open_target(a, writable, why_ro);
    if (fd < 0)
        return 1;
    raw_posix::probe_options o;
    o.writable = writable;
    o.every_method = true;
    probe_report r = raw_posix::probe_dio(fd, o);
    close(fd);
    if (writable && r.block.read_only) {
        writable = false;
        why_ro = "the device is read-only (BLKROGET)";
    }
    std::printf("path: %s\nopen: O_DIRECT, %s\n", a.path.c_str(),
                writable ? "read-write (trial writes rewrite identical bytes)"
                         : ("read-only (" + why_ro + "): no trial writes").c_str());
    verdict v = print_report(r, writable);

    if (a.write_test) {
        if (r.block.block_device) {
            std::printf("scratch: not for block devices (the whole device is data already)\n");
        } else if (int s = make_scratch(a.path); s >= 0) {
            o.writable = true;
            probe_report sr = raw_posix::probe_dio(s, o);
            close(s);
            std::printf("-- scratch file --\n");
            v = std::max(v, print_report(sr, true));
        } else {
            v = verdict::too_small;  // exit 1: the test asked for could not run
        }
    }
    return exit_status(v);
}

#endif  // GRANULE_IMG_HAVE_PROBE
