// granule-img convert: copies SRC to DST through two granule devices, so
// either side may be any backend (file, block device with O_DIRECT, iSCSI
// LUN, a blkdebug stack) and any length (the core pads what the backends
// cannot take). Zero runs of at least the sparse size become holes in a
// target created here, and write_zeroes in an existing one (-n), so its
// old data never survives under a zero run of the source.
#include "convert_copy.hpp"
#include "open_device.hpp"
#include "progress.hpp"
#include "subcommands.hpp"

#include <granule/options.hpp>
#include <granule/platform/create_file.hpp>
#include <granule/platform/system_error.hpp>

#include <cstdio>
#include <filesystem>
#include <cerrno>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include <unistd.h>

namespace {

constexpr const char *usage_text =
    "usage: granule-img convert [-n] [-p] [-S SPARSE_SIZE] [-c CHUNK] [-m DEPTH]\n"
    "                           [--image-opts] [--target-image-opts] SRC DST\n"
    "\n"
    "  SRC, DST     filenames or dotted options, as for 'info'\n"
    "  -n           write into an existing DST (its zero runs are written as\n"
    "               zeroes; its bytes past SRC's length are kept); without -n a\n"
    "               filename DST must not exist and is created sparse\n"
    "  -p           progress on stdout: a bar on a terminal, else qemu-img's\n"
    "               \"    (x.xx/100%)\\r\" records\n"
    "  -S SIZE      zero runs of at least SIZE (aligned to SIZE) are not copied as\n"
    "               data (default 4k; 0 copies every byte as data)\n"
    "  -c CHUNK     bytes per read (default 1M)\n"
    "  -m DEPTH     chunks whose writes may be in flight while the next are read\n"
    "               (default 8, 1 to 64)\n"
    "  --image-opts, --target-image-opts   SRC / DST are dotted options\n";

int usage_error(const std::string &why)
{
    std::fprintf(stderr, "granule-img convert: %s\n%s", why.c_str(), usage_text);
    return 2;
}

struct convert_args {
    copy_options copy;
    bool existing = false;  // -n
    bool progress = false;  // -p
    bool src_opts = false;
    bool dst_opts = false;
    std::string src, dst;
};

bool parse_size_arg(const char *text, const char *what, std::uint64_t &out, std::string &why)
{
    auto v = granule::parse_size(text ? text : "", what);
    if (!v) {
        why = v.error().message;
        return false;
    }
    out = *v;
    return true;
}

// 0 when parsed, else the exit status.
int parse_args(int argc, char **argv, convert_args &a)
{
    std::string why;
    for (int i = 1; i < argc; ++i) {
        std::string_view s = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : nullptr;
        if (s == "-h" || s == "--help") {
            std::fputs(usage_text, stdout);
            return -1;
        } else if (s == "-n") {
            a.existing = true;
        } else if (s == "-p") {
            a.progress = true;
        } else if (s == "--image-opts") {
            a.src_opts = true;
        } else if (s == "--target-image-opts") {
            a.dst_opts = true;
        } else if (s == "-m") {
            std::uint64_t depth = 0;
            if (!next)
                return usage_error("option '-m' needs a value");
            if (!parse_size_arg(next, "option '-m'", depth, why))
                return usage_error(why);
            if (depth < 1 || depth > 64)
                return usage_error("option '-m': depth must be 1 to 64, not " + std::string(next));
            a.copy.depth = static_cast<unsigned>(depth);
            ++i;
        } else if (s == "-S" || s == "-c") {
            if (!next)
                return usage_error(std::string("option '") + argv[i] + "' needs a value");
            auto &field = s == "-S" ? a.copy.sparse_size : a.copy.chunk;
            if (!parse_size_arg(next, s == "-S" ? "option '-S'" : "option '-c'", field, why))
                return usage_error(why);
            ++i;
        } else if (s.size() > 1 && s[0] == '-') {
            return usage_error("unknown option '" + std::string(s) + "'");
        } else if (a.src.empty()) {
            a.src = s;
        } else if (a.dst.empty()) {
            a.dst = s;
        } else {
            return usage_error("one SRC and one DST, not '" + std::string(s) + "' too");
        }
    }
    if (a.dst.empty())
        return usage_error(a.src.empty() ? "SRC and DST missing" : "DST missing");
    if (a.copy.chunk == 0 || a.copy.chunk > (std::uint64_t(1) << 30))
        return usage_error("option '-c': chunk must be 1 byte to 1G, not " +
                           std::to_string(a.copy.chunk));
    if (a.copy.sparse_size > a.copy.chunk)
        return usage_error("option '-S': sparse size " + std::to_string(a.copy.sparse_size) +
                           " is larger than the chunk " + std::to_string(a.copy.chunk));
    return 0;
}

// A DST given as a plain path is created by convert (and removed again if
// the copy fails); options and URLs name something that must exist.
bool is_plain_path(const convert_args &a)
{
    return !a.dst_opts && !granule::looks_like_options(a.dst) &&
           a.dst.find("://") == std::string::npos;
}

}  // namespace

int convert_command(int argc, char **argv)
{
    convert_args a;
    if (int rc = parse_args(argc, argv, a))
        return rc < 0 ? 0 : rc;

    auto src = open_device(a.src, a.src_opts, granule::open_flags{.read_only = true});
    if (!src) {
        std::fprintf(stderr, "granule-img convert: can't open SRC %s: %s\n",
                     granule::redact_secrets(a.src).c_str(), src.error().message.c_str());
        return 1;
    }
    // Copying a container's bytes is not converting the disk it holds (qemu-img
    // would then call the copy a qcow2 too): only with format=raw in SRC.
    if (const auto &f = (*src)->format_probe(); f.refuses_writes()) {
        std::fprintf(stderr,
                     "granule-img convert: SRC %s: Granule has no format drivers, so this "
                     "would copy the container, not the disk in it; give format=raw in SRC "
                     "(filename=FILE,format=raw) to copy its bytes as they are, or convert "
                     "the disk with qemu-img convert -f %s -O raw\n",
                     f.looks_like().c_str(), f.format.c_str());
        return 1;
    }

    const std::filesystem::path dst_path = a.dst;
    bool created = false;
    if (is_plain_path(a) && a.existing) {
        std::error_code ec;
        if (!std::filesystem::exists(dst_path, ec)) {
            std::fprintf(stderr,
                         "granule-img convert: DST '%s' does not exist (-n writes into an "
                         "existing target)\n",
                         a.dst.c_str());
            return 1;
        }
    } else if (is_plain_path(a)) {
        // The creation is the existence check (O_EXCL): nothing can appear
        // in between, and a symbolic link at DST, even a dangling one, is
        // refused rather than followed to create its target.
        if (int e = granule::platform::create_new_file(a.dst); e == EEXIST) {
            std::fprintf(stderr,
                         "granule-img convert: DST '%s' exists; pass -n to write into it "
                         "(nothing was changed)\n",
                         a.dst.c_str());
            return 1;
        } else if (e) {
            std::fprintf(stderr, "granule-img convert: can't create DST '%s': %s\n",
                         a.dst.c_str(), granule::platform::error_text(e).c_str());
            return 1;
        }
        created = true;
    }
    auto remove_created = [&] {
        if (created) {
            std::error_code ec;
            std::filesystem::remove(dst_path, ec);
            std::fprintf(stderr, "granule-img convert: removed the incomplete '%s'\n",
                         a.dst.c_str());
        }
    };

    // A created image has the source's length from the start (as qemu-img
    // convert creates it): image files are fixed-size, and the holes the
    // copy skips are already there.
    if (created) {
        std::error_code ec;
        std::filesystem::resize_file(dst_path, (*src)->length(), ec);
        if (ec) {
            std::fprintf(stderr, "granule-img convert: can't size DST '%s' to %llu bytes: %s\n",
                         a.dst.c_str(), static_cast<unsigned long long>((*src)->length()),
                         ec.message().c_str());
            remove_created();
            return 1;
        }
    }
    // A target created here is raw by construction (qemu-img convert's -O
    // raw): format=raw, so SRC's bytes land as they are, a signature in
    // them too. An existing one is opened as given, probed unless it says
    // format=raw: a container there is not overwritten by accident.
    auto dst = created ? granule::device::open(granule::options{{"filename", a.dst}, {"format", "raw"}})
                       : open_device(a.dst, a.dst_opts);
    if (!dst) {
        std::fprintf(stderr, "granule-img convert: can't open DST %s: %s\n",
                     granule::redact_secrets(a.dst).c_str(), dst.error().message.c_str());
        remove_created();
        return 1;
    }
    if (const auto &f = (*dst)->format_probe(); f.refuses_writes()) {
        std::fprintf(stderr,
                     "granule-img convert: DST %s: give format=raw in DST to write raw bytes "
                     "over it (nothing was changed)\n",
                     f.looks_like().c_str());
        return 1;
    }
    a.copy.target_is_zero = created;
    std::optional<granule_img::progress_meter> meter;
    if (a.progress) {
        meter.emplace(stdout, isatty(STDOUT_FILENO), (*src)->length());
        a.copy.on_progress = [&meter](std::uint64_t done) { meter->update(done); };
    }
    auto done = copy_device(**src, **dst, a.copy);
    if (meter)
        meter->finish(done.has_value());
    (*dst).reset();  // closes (and flushes) before a failed file is removed
    if (!done) {
        std::fprintf(stderr, "granule-img convert: %s\n", done.error().message.c_str());
        remove_created();
        return 1;
    }
    std::printf("%s\n", copy_summary(*done).c_str());
    return 0;
}
