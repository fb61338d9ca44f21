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

#include "json_writer.hpp"
#include "output_format.hpp"
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
    "usage: granule-img probe [-r|--read-only] [--no-write] [--write-test] [--output=FMT]\n"
    "                         FILE|DEVICE\n"
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
    "  --output=FMT     human (the default) or json (docs/granule-img.md: schema)\n"
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
    granule_img::output_format format = granule_img::output_format::human;
};

// What --output=json calls a probe result; its schema version.
constexpr int probe_schema_version = 1;

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

const char *verdict_name(verdict v)
{
    return v == verdict::agree ? "agree" : v == verdict::larger ? "larger" : "too_small";
}

// A chosen value that is not the trial truth.
struct finding {
    const char *what;  // "request_alignment", "read-only request_alignment", "min_mem_alignment"
    const raw_posix::probed *chosen;
    uint64_t truth;
    bool too_small;  // else larger than needed
};

// How the chosen values compare with the truth. A fallback above the truth
// is the documented, safe answer to "cannot tell".
std::vector<finding> check_chosen(const probe_report &r, const truth &t)
{
    std::vector<finding> out;
    auto check = [&out](const char *what, const raw_posix::probed &p, uint64_t real) {
        if (!real || p.value == real)
            return;
        bool fallback = p.source.rfind("fallback", 0) == 0;
        if (fallback && p.value > real)
            return;
        out.push_back({what, &p, real, p.value < real});
    };
    // Without a trial write there is no truth for writes: a read trial says
    // nothing about them (XFS: reads 512, writes to a reflinked file 4096).
    const auto &c = r.chosen;
    check("request_alignment", c.request, t.write ? std::max(t.write, t.read) : 0);
    check("read-only request_alignment", c.read_request, t.read);
    check("min_mem_alignment", c.memory, t.memory);
    return out;
}

verdict verdict_of(const std::vector<finding> &findings)
{
    verdict v = verdict::agree;
    for (const auto &f : findings)
        v = std::max(v, f.too_small ? verdict::too_small : verdict::larger);
    return v;
}

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

    const auto findings = check_chosen(r, t);
    for (const auto &f : findings)
        std::printf("verdict: %s %llu (%s) DISAGREES with trial %llu: %s\n", f.what,
                    static_cast<unsigned long long>(f.chosen->value), f.chosen->source.c_str(),
                    static_cast<unsigned long long>(f.truth),
                    f.too_small ? "too small, I/O at it fails" : "larger than needed (safe, slower)");
    const verdict v = verdict_of(findings);
    if (v == verdict::agree)
        std::printf("verdict: %s\n", t.write || t.read ? "chosen values agree with the trial truth"
                                                       : "no truth to compare with");
    return v;
}

// The same report as JSON (docs/granule-img.md, "probe --output=json").
verdict write_report_json(granule_img::json_writer &j, const probe_report &r)
{
    auto number_or_null = [&j](const char *key, uint64_t v) {
        j.key(key);
        if (v)
            j.number(v);
        else
            j.null();
    };
    auto probed = [&j](const char *key, const raw_posix::probed &p) {
        j.key(key).begin_object().member("value", p.value).member("source", p.source).end_object();
    };
    const truth t = truth_of(r);
    j.begin_object();
    j.member("file_type", r.file_type);
    j.member("size", r.size);
    j.key("written_data").begin_object();
    j.member("bytes", r.written.bytes());
    j.member("ranges", r.written.ranges.size());
    j.member("how", r.written.how);
    j.end_object();
    j.key("methods").begin_array();
    for (const auto &m : r.methods) {
        j.begin_object();
        j.member("method", m.method);
        j.member("asked", m.asked);
        j.member("answered", m.answered());
        number_or_null("offset", m.offset);
        number_or_null("read_offset", m.read_offset);
        number_or_null("memory", m.memory);
        j.member("note", m.note);
        const auto d = disagreements(m, t);
        j.key("disagreement");
        if (d.empty())
            j.null();
        else
            j.string(d);
        j.end_object();
    }
    j.end_array();
    j.key("truth").begin_object();
    number_or_null("offset", t.write);
    number_or_null("read_offset", t.read);
    number_or_null("memory", t.memory);
    j.end_object();
    j.key("chosen").begin_object();
    probed("request_alignment", r.chosen.request);
    probed("min_mem_alignment", r.chosen.memory);
    probed("read_only_request_alignment", r.chosen.read_request);
    j.end_object();
    const auto findings = check_chosen(r, t);
    const verdict v = verdict_of(findings);
    j.key("verdict").begin_object();
    j.member("result", verdict_name(v));
    j.member("has_truth", t.write || t.read);
    j.key("findings").begin_array();
    for (const auto &f : findings) {
        std::string field = f.what;
        if (field == "read-only request_alignment")
            field = "read_only_request_alignment";
        j.begin_object();
        j.member("field", field);
        j.member("value", f.chosen->value);
        j.member("source", f.chosen->source);
        j.member("truth", f.truth);
        j.member("too_small", f.too_small);
        j.end_object();
    }
    j.end_array();
    j.end_object();
    j.end_object();
    return v;
}

// A 2 MiB pattern in an unlinked file next to path; -1 on failure. line:
// what happened, for "scratch: LINE" ("2097152-byte pattern in DIR (how)"
// or "cannot ... in DIR: why").
int make_scratch(const std::string &path, std::string &line)
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
            line = "cannot create a file in " + dir + ": " + std::strerror(errno);
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
            line = "cannot write " + num(scratch_size) + " bytes in " + dir + ": " +
                   std::strerror(n < 0 ? errno : ENOSPC);
            close(fd);
            return -1;
        }
        done += static_cast<std::size_t>(n);
    }
    int flags = fcntl(fd, F_GETFL);
    if (fdatasync(fd) != 0 || flags < 0 || fcntl(fd, F_SETFL, flags | O_DIRECT) != 0) {
        line = "cannot sync or set O_DIRECT in " + dir + ": " + std::strerror(errno);
        close(fd);
        return -1;
    }
    line = num(scratch_size) + "-byte pattern in " + dir + " (" + how + ")";
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
        } else if (granule_img::is_output_option(w)) {
            std::string why;
            auto f = granule_img::parse_output_option(argc, argv, i, why);
            if (!f) {
                std::fprintf(stderr, "granule-img probe: %s\n%s", why.c_str(), usage_text);
                return 2;
            }
            a.format = *f;
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
    const bool json = a.format == granule_img::output_format::json;
    granule_img::json_writer j;
    verdict v;
    if (json) {
        j.begin_object();
        j.member("schema_version", probe_schema_version);
        j.member("path", a.path);
        j.member("writable", writable);
        j.key("read_only_reason");
        if (writable)
            j.null();
        else
            j.string(why_ro);
        j.key("report");
        v = write_report_json(j, r);
    } else {
        std::printf("path: %s\nopen: O_DIRECT, %s\n", a.path.c_str(),
                    writable ? "read-write (trial writes rewrite identical bytes)"
                             : ("read-only (" + why_ro + "): no trial writes").c_str());
        v = print_report(r, writable);
    }

    if (json)
        j.key("scratch");
    if (!a.write_test) {
        if (json)
            j.null();
    } else {
        std::string line;
        int s = -1;
        if (r.block.block_device)
            line = "not for block devices (the whole device is data already)";
        else
            s = make_scratch(a.path, line);
        if (json) {
            j.begin_object();
            j.member("ok", s >= 0);
            j.member("message", line);
            j.key("report");
        } else {
            std::printf("scratch: %s\n", line.c_str());
        }
        if (s >= 0) {
            o.writable = true;
            probe_report sr = raw_posix::probe_dio(s, o);
            close(s);
            if (json) {
                v = std::max(v, write_report_json(j, sr));
            } else {
                std::printf("-- scratch file --\n");
                v = std::max(v, print_report(sr, true));
            }
        } else {
            if (json)
                j.null();
            if (!r.block.block_device)
                v = verdict::too_small;  // exit 1: the test asked for could not run
        }
        if (json)
            j.end_object();
    }
    if (json) {
        j.member("exit_status", exit_status(v));
        j.end_object();
        std::fputs(j.text().c_str(), stdout);
    }
    return exit_status(v);
}

#endif  // GRANULE_IMG_HAVE_PROBE
