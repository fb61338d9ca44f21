// Keeps `depth` requests in flight until `count` completed, like qemu-img
// bench, and reports ops/s, MB/s, latency percentiles and the device's
// counters (bytes bounced, RMW cycles, serialisation waits). Completions run
// on the device's executor, which is single-threaded: no locks here.
#include "json_writer.hpp"
#include "open_device.hpp"
#include "output_format.hpp"
#include "subcommands.hpp"

#include <granule/options.hpp>
#include <granule/device.hpp>
#include <granule/platform/aligned_buffer.hpp>

#include <boost/asio/post.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <future>
#include <getopt.h>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <unistd.h>

namespace {

using clock_type = std::chrono::steady_clock;

struct bench_options {
    std::uint64_t count = 75000;
    unsigned depth = 64;
    std::uint64_t size = 4096;
    std::uint64_t offset = 0;
    std::uint64_t step = 0;        // 0: size
    std::uint64_t granularity = 0; // random offsets are multiples of it (0: size)
    std::uint64_t misalign = 0;    // added to every offset (unaligned runs)
    bool write = false;
    bool random = false;
    bool image_opts = false;
    bool flush_at_end = true;
    int pattern = 0xa5;
    std::uint64_t seed = 1;
    std::string spec;
    granule_img::output_format format = granule_img::output_format::human;
    bool help = false;  // -h, --help: usage on stdout, exit 0
};

constexpr int bench_schema_version = 1;

void usage(std::FILE *out = stderr)
{
    std::fputs(
        "usage: granule-img bench [-c COUNT] [-d DEPTH] [-s SIZE] [-o OFFSET] [-S STEP]\n"
        "                         [-w] [-P PATTERN] [-r [-g GRANULARITY] [--seed N]]\n"
        "                         [-m MISALIGN] [--no-flush] [--image-opts] [--output=FMT] SPEC\n"
        "  sequential by default (offset, offset+STEP, ... wrapping at the end), like\n"
        "  qemu-img bench; -r picks random offsets that are multiples of GRANULARITY\n"
        "  (default SIZE); -m adds MISALIGN bytes to every offset (unaligned I/O).\n"
        "  --output=FMT: human (the default) or json (docs/granule-img.md: schema).\n",
        out);
}

bool parse_num(const char *text, const char *what, std::uint64_t &out)
{
    auto v = granule::parse_size(text, what);
    if (!v) {
        std::fprintf(stderr, "granule-img bench: %s\n", v.error().message.c_str());
        return false;
    }
    out = *v;
    return true;
}

bool parse_args(int argc, char **argv, bench_options &o)
{
    static const option longs[] = {{"image-opts", no_argument, nullptr, 'I'},
                                   {"seed", required_argument, nullptr, 'e'},
                                   {"no-flush", no_argument, nullptr, 'F'},
                                   {"output", required_argument, nullptr, 'O'},
                                   {"help", no_argument, nullptr, 'h'},
                                   {nullptr, 0, nullptr, 0}};
    std::uint64_t v = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "c:d:s:o:S:g:m:wrP:h", longs, nullptr)) != -1) {
        switch (c) {
        case 'c': if (!parse_num(optarg, "-c (count)", o.count)) return false; break;
        case 'd':
            if (!parse_num(optarg, "-d (depth)", v)) return false;
            if (v < 1 || v > 65536) {
                std::fprintf(stderr, "granule-img bench: -d (depth): %s is not between 1 and 65536\n", optarg);
                return false;
            }
            o.depth = static_cast<unsigned>(v);
            break;
        case 's': if (!parse_num(optarg, "-s (size)", o.size)) return false; break;
        case 'o': if (!parse_num(optarg, "-o (offset)", o.offset)) return false; break;
        case 'S': if (!parse_num(optarg, "-S (step)", o.step)) return false; break;
        case 'g': if (!parse_num(optarg, "-g (granularity)", o.granularity)) return false; break;
        case 'm': if (!parse_num(optarg, "-m (misalign)", o.misalign)) return false; break;
        case 'e': if (!parse_num(optarg, "--seed", o.seed)) return false; break;
        case 'P':
            if (!parse_num(optarg, "-P (pattern)", v)) return false;
            if (v > 0xff) {
                std::fprintf(stderr, "granule-img bench: -P (pattern): %s is not a byte (0 to 255)\n", optarg);
                return false;
            }
            o.pattern = static_cast<int>(v);
            break;
        case 'w': o.write = true; break;
        case 'r': o.random = true; break;
        case 'I': o.image_opts = true; break;
        case 'F': o.flush_at_end = false; break;
        case 'O':
            if (std::string_view(optarg) == "human") {
                o.format = granule_img::output_format::human;
            } else if (std::string_view(optarg) == "json") {
                o.format = granule_img::output_format::json;
            } else {
                std::fprintf(stderr, "granule-img bench: --output: unknown format '%s' (human or json)\n",
                             optarg);
                return false;
            }
            break;
        case 'h': o.help = true; return true;
        default: usage(); return false;
        }
    }
    if (optind != argc - 1) {
        usage();
        return false;
    }
    o.spec = argv[optind];
    if (o.size == 0 || o.count == 0) {
        std::fputs("granule-img bench: -s and -c must be > 0\n", stderr);
        return false;
    }
    // DEPTH buffers of SIZE are allocated up front.
    if (o.size > (std::uint64_t(1) << 30)) {
        std::fprintf(stderr, "granule-img bench: -s (size): %llu is larger than 1G\n",
                     static_cast<unsigned long long>(o.size));
        return false;
    }
    if (!o.step)
        o.step = o.size;
    if (!o.granularity)
        o.granularity = o.size;
    return true;
}

struct run_state {
    const bench_options &opt;
    granule::device &dev;
    std::uint64_t span;  // request starts stay in [0, span] above offset + misalign
    std::mt19937_64 rng;
    std::uint64_t next_seq = 0;
    std::uint64_t submitted = 0;
    std::atomic<std::uint64_t> completed{0};
    std::vector<double> latencies_us;
    std::vector<granule::platform::aligned_buffer> buffers;
    std::string first_error;
    std::promise<void> finished;

    // Wrapping keeps every offset on the step/granularity grid: a wrap to
    // an odd position would turn an aligned run into an RMW run.
    std::uint64_t next_offset()
    {
        std::uint64_t unit = opt.random ? opt.granularity : opt.step;
        std::uint64_t slots = span / unit + 1;
        std::uint64_t slot = opt.random ? rng() % slots : next_seq++ % slots;
        return opt.offset + slot * unit + opt.misalign;
    }

    // Runs on the device's executor (or the caller, for the first depth).
    void start(unsigned slot)
    {
        ++submitted;
        auto at = next_offset();
        auto t0 = clock_type::now();
        std::vector<granule::io_buffer> iov{{buffers[slot].data(), opt.size}};
        auto done = [this, slot, t0](std::exception_ptr, granule::result<std::size_t> r) {
            latencies_us.push_back(
                std::chrono::duration<double, std::micro>(clock_type::now() - t0).count());
            if (!r && first_error.empty())
                first_error = r.error().message;
            auto n = completed.fetch_add(1, std::memory_order_relaxed) + 1;
            if (submitted < opt.count && first_error.empty())
                start(slot);
            else if (n == submitted)
                finished.set_value();
        };
        if (opt.write)
            dev.async_pwritev(at, std::move(iov), std::move(done));
        else
            dev.async_preadv(at, std::move(iov), std::move(done));
    }
};

double percentile(std::vector<double> &v, double p)
{
    if (v.empty())
        return 0;
    auto k = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size() - 1));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return v[k];
}

void progress(const run_state &s, std::atomic<bool> &stop)
{
    while (!stop.load()) {
        auto done = s.completed.load(std::memory_order_relaxed);
        int width = 40;
        int filled = static_cast<int>(width * done / s.opt.count);
        std::fprintf(stderr, "\r[%-*s] %3d%%", width, std::string(filled, '#').c_str(),
                     static_cast<int>(100 * done / s.opt.count));
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    std::fprintf(stderr, "\r%*s\r", 50, "");
}

// The run as JSON (docs/granule-img.md, "bench --output=json").
std::string result_json(const bench_options &o, std::uint64_t completed, double secs,
                        std::vector<double> &latencies_us, const granule::stats &st)
{
    granule_img::json_writer j;
    j.begin_object();
    j.member("schema_version", bench_schema_version);
    j.member("spec", granule::redact_secrets(o.spec));
    j.key("parameters").begin_object();
    j.member("operation", o.write ? "write" : "read");
    j.member("access", o.random ? "random" : "sequential");
    j.member("count", o.count);
    j.member("depth", o.depth);
    j.member("size", o.size);
    j.member("offset", o.offset + o.misalign);
    j.member("misalign", o.misalign);
    auto only_if = [&j](bool present, const char *key, std::uint64_t v) {
        j.key(key);
        if (present)
            j.number(v);
        else
            j.null();
    };
    only_if(!o.random, "step", o.step);
    only_if(o.random, "granularity", o.granularity);
    only_if(o.random, "seed", o.seed);
    j.member("pattern", o.pattern);
    j.member("flush_at_end", o.write && o.flush_at_end);
    j.end_object();
    j.member("completed", completed);
    j.member("seconds", secs);
    const double n = static_cast<double>(completed);
    j.member("ops_per_second", n / secs);
    j.member("bytes_per_second", n * static_cast<double>(o.size) / secs);
    j.key("latency_us").begin_object();
    j.member("p50", percentile(latencies_us, 50));
    j.member("p90", percentile(latencies_us, 90));
    j.member("p99", percentile(latencies_us, 99));
    j.member("max", percentile(latencies_us, 100));
    j.end_object();
    j.key("stats").begin_object();
    for (const auto &f : granule::stat_fields)
        j.member(f.name, st.*f.member);
    j.end_object();
    j.end_object();
    return j.text();
}

}  // namespace

int bench_command(int argc, char **argv)
{
    bench_options o;
    if (!parse_args(argc, argv, o))
        return 2;
    if (o.help) {
        usage(stdout);
        return 0;
    }
    auto opened = open_device(o.spec, o.image_opts);
    if (!opened) {
        std::fprintf(stderr, "granule-img bench: can't open %s: %s\n",
                     granule::redact_secrets(o.spec).c_str(),
                     opened.error().message.c_str());
        return 1;
    }
    auto &dev = **opened;
    if (o.offset + o.misalign + o.size > dev.length()) {
        std::fprintf(stderr, "granule-img bench: offset %llu + size %llu is past the end (%llu bytes)\n",
                     (unsigned long long)(o.offset + o.misalign), (unsigned long long)o.size,
                     (unsigned long long)dev.length());
        return 1;
    }
    // Highest start (relative to offset + misalign) a request may have.
    run_state s{o, dev, dev.length() - o.offset - o.misalign - o.size, std::mt19937_64(o.seed)};
    s.latencies_us.reserve(o.count);
    auto mem_align = std::max<std::uint64_t>(dev.get_limits().opt_mem_alignment, 4096);
    for (unsigned i = 0; i < o.depth; ++i) {
        s.buffers.emplace_back(mem_align, o.size);
        std::memset(s.buffers.back().data(), o.pattern, o.size);
    }
    const bool json = o.format == granule_img::output_format::json;
    if (!json) {
        std::printf("Sending %llu %s requests, %llu bytes each, %u in parallel (%s, starting at "
                    "offset %llu, %s %llu)\n",
                    (unsigned long long)o.count, o.write ? "write" : "read",
                    (unsigned long long)o.size, o.depth, o.random ? "random" : "sequential",
                    (unsigned long long)(o.offset + o.misalign), o.random ? "granularity" : "step size",
                    (unsigned long long)(o.random ? o.granularity : o.step));
        std::fflush(stdout);
    }
    dev.reset_stats();

    std::atomic<bool> stop{false};
    std::thread bar;
    if (isatty(STDERR_FILENO))
        bar = std::thread([&] { progress(s, stop); });
    auto t0 = clock_type::now();
    // Started on the device executor so that start() never races completions.
    boost::asio::post(dev.get_executor(), [&] {
        for (unsigned i = 0; i < o.depth && s.submitted < o.count; ++i)
            s.start(i);
    });
    s.finished.get_future().wait();
    auto secs = std::chrono::duration<double>(clock_type::now() - t0).count();
    stop = true;
    if (bar.joinable())
        bar.join();
    if (o.write && o.flush_at_end)
        (void)dev.flush();
    if (!s.first_error.empty()) {
        std::fprintf(stderr, "granule-img bench: %s\n", s.first_error.c_str());
        return 1;
    }
    auto n = static_cast<double>(s.completed.load());
    auto st = dev.get_stats();
    if (json) {
        std::fputs(result_json(o, s.completed.load(), secs, s.latencies_us, st).c_str(), stdout);
        return 0;
    }
    std::printf("Run completed in %.3f seconds.\n", secs);
    std::printf("ops/s: %.0f\nMB/s: %.1f\n", n / secs,
                n * static_cast<double>(o.size) / secs / 1e6);
    std::printf("latency us: p50 %.1f, p90 %.1f, p99 %.1f, max %.1f\n",
                percentile(s.latencies_us, 50), percentile(s.latencies_us, 90),
                percentile(s.latencies_us, 99), percentile(s.latencies_us, 100));
    std::printf("bytes_bounced: %llu\nrmw_cycles: %llu\nserialisation_waits: %llu\n"
                "driver_requests: %llu\n",
                (unsigned long long)st.bytes_bounced, (unsigned long long)st.rmw_cycles,
                (unsigned long long)st.serialisation_waits, (unsigned long long)st.driver_requests);
    return 0;
}
