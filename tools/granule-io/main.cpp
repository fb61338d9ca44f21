// granule-io: a qemu-io-style shell over granule::device.
//
//   granule-io [OPTIONS]... [-c CMD]... [SPEC]    (qemu-io's options too)
//
// Commands come from each -c in order, else from stdin (a prompt when it is
// a terminal). Exit status: 0 all commands succeeded, 1 some failed (the run
// goes on after a failure, like qemu-io) or SPEC won't open, 2 usage error.
#include "data_request.hpp"
#include "shell.hpp"
#include "version_line.hpp"

#include <granule/options.hpp>

#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <unistd.h>

namespace {

constexpr const char *usage_text =
    "usage: granule-io [OPTIONS]... [-c CMD]... [SPEC]\n"
    "\n"
    "  SPEC                a filename (d.img, /dev/sdb, iscsi://host/iqn/lun,\n"
    "                      blkdebug::d.img), or with --image-opts dotted options\n"
    "                      (driver=memory,size=1M)\n"
    "  -c, --cmd CMD       run CMD; may be repeated, in order; stdin is not read then\n"
    "  -r, --read-only     open SPEC read-only\n"
    "  --image-opts        SPEC is dotted options\n"
    "  --no-timing         omit the timing lines, so outputs compare exactly\n"
    "  --line-buffered     flush standard output after every command's lines (it\n"
    "                      is, as qemu-io's, flushed only when full or at exit when\n"
    "                      not a terminal), so a 2>&1 capture reads in order\n"
    "  --error-detail      after qemu-io's \"<cmd> failed: <strerror>\" line, Granule's\n"
    "                      explanation (offset, driver, file, reason) on stderr;\n"
    "                      the default when stderr is a terminal\n"
    "  -h, --help          this text; `help` inside the shell lists the commands\n"
    "  -V, --version       the version of granule-io, of the Granule library it\n"
    "                      runs with and of the driver ABI; exits\n"
    "\n"
    "qemu-io's options, so qemu-iotests' $QEMU_IO lines run unchanged:\n"
    "  -f, --format FMT    raw only (raw is no layer in Granule; format=raw, so the\n"
    "                      image is not probed); others are refused\n"
    "  -t, --cache MODE    none, directsync: cache.direct=on (O_DIRECT); writeback,\n"
    "                      writethrough, unsafe: the page cache\n"
    "  -n, --nocache       -t none\n"
    "  -i, --aio MODE      threads, io_uring; native is io_uring too\n"
    "  -k, --native-aio    -i native\n"
    "  -m, --misalign      data buffers start 16 bytes past an aligned address\n"
    "  -C, --copy-on-read  accepted: copy-on-read needs a backing node (backing=,\n"
    "                      copy-on-read=on), which a plain image has not\n"
    "  -d, --discard MODE  ignore, off, unmap, on: accepted; discards always reach\n"
    "                      the driver\n"
    "  -U, --force-share   accepted: Granule takes no image locks\n"
    "  -T, --trace ARG     accepted: there are no trace events\n"
    "  --object ARG        accepted and unused (no objects: give passwords as options)\n"
    "  -s, --snapshot      refused: there is no snapshot layer, writes would reach\n"
    "                      the image\n"
    "\n"
    "Exit status, as qemu-io's: 0 success, 1 a command or -P verification failed\n"
    "(not an aio request's completion: the command succeeded when it started) or\n"
    "SPEC could not be opened; 2 a usage error of granule-io itself.\n";

struct invocation_args {
    std::vector<std::string> commands;
    std::optional<std::string> spec;
    bool image_opts = false;
    bool read_only = false;
    bool timing = true;
    bool line_buffered = false;
    bool error_detail = false;
    bool misalign = false;
    granule_io::qemu_settings qemu;
};

[[noreturn]] void usage_error(const std::string &why)
{
    std::fprintf(stderr, "granule-io: %s\nTry 'granule-io --help' for more information.\n",
                 why.c_str());
    std::exit(2);
}

void or_usage_error(const granule::result<void> &r)
{
    if (!r) {
        usage_error(r.error().message);
    }
}

// Short options as getopt takes them: bundled (-rn), with the argument
// attached (-tnone) or next; long ones as --name ARG or --name=ARG.
struct option_spec {
    char short_name;
    std::string_view long_name;
    bool takes_arg;
};
constexpr option_spec option_specs[] = {
    {'c', "cmd", true},          {'r', "read-only", false}, {'f', "format", true},
    {'t', "cache", true},        {'n', "nocache", false},   {'i', "aio", true},
    {'k', "native-aio", false},  {'m', "misalign", false},  {'C', "copy-on-read", false},
    {'d', "discard", true},      {'U', "force-share", false}, {'T', "trace", true},
    {'s', "snapshot", false},    {'h', "help", false},      {'V', "version", false},
    {0, "image-opts", false},    {0, "no-timing", false},   {0, "object", true},
    {0, "line-buffered", false}, {0, "error-detail", false},
};

void apply_option(invocation_args &a, const option_spec &o, const std::string &arg)
{
    switch (o.short_name) {
    case 'c': a.commands.push_back(arg); return;
    case 'r': a.read_only = true; return;
    case 'f': or_usage_error(granule_io::set_format(a.qemu, arg)); return;
    case 't': or_usage_error(granule_io::set_cache_mode(a.qemu, arg)); return;
    case 'n': or_usage_error(granule_io::set_cache_mode(a.qemu, "none")); return;
    case 'i': or_usage_error(granule_io::set_aio_mode(a.qemu, arg)); return;
    case 'k': or_usage_error(granule_io::set_aio_mode(a.qemu, "native")); return;
    case 'm': a.misalign = true; return;
    case 'C': case 'U': case 'T': return;  // accepted, see usage_text
    case 'd': or_usage_error(granule_io::check_discard_mode(arg)); return;
    case 's': or_usage_error(granule_io::refuse_snapshot()); return;
    case 'h': std::fputs(usage_text, stdout); std::exit(0);
    case 'V': std::printf("%s\n", granule_tools::version_line("granule-io").c_str()); std::exit(0);
    }
    if (o.long_name == "image-opts") {
        a.image_opts = true;
    } else if (o.long_name == "no-timing") {
        a.timing = false;
    } else if (o.long_name == "line-buffered") {
        a.line_buffered = true;
    } else if (o.long_name == "error-detail") {
        a.error_detail = true;
    }  // --object: accepted, unused
}

invocation_args parse_command_line(int argc, char **argv)
{
    invocation_args a;
    bool options_ended = false;
    for (int i = 1; i < argc; ++i) {
        std::string w = argv[i];
        auto next_arg = [&](std::string_view name) {
            if (i + 1 == argc) {
                usage_error("option '" + std::string(name) + "' needs an argument");
            }
            return std::string(argv[++i]);
        };
        if (options_ended || w.size() < 2 || w[0] != '-') {
            if (a.spec) {
                usage_error("only one SPEC may be given, got '" + *a.spec + "' and '" + w + "'");
            }
            a.spec = w;
        } else if (w == "--") {
            options_ended = true;
        } else if (w.starts_with("--")) {
            auto eq = w.find('=');
            std::string_view name = std::string_view(w).substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
            const option_spec *o = nullptr;
            for (const auto &s : option_specs) {
                if (s.long_name == name) {
                    o = &s;
                }
            }
            if (!o) {
                usage_error("unknown option '" + w + "'");
            }
            if (!o->takes_arg && eq != std::string::npos) {
                usage_error("option '--" + std::string(name) + "' takes no argument");
            }
            apply_option(a, *o, !o->takes_arg ? "" : eq != std::string::npos ? w.substr(eq + 1) : next_arg(w));
        } else {
            for (std::size_t k = 1; k < w.size(); ++k) {
                const option_spec *o = nullptr;
                for (const auto &s : option_specs) {
                    if (s.short_name && s.short_name == w[k]) {
                        o = &s;
                    }
                }
                if (!o) {
                    usage_error("unknown option '-" + std::string(1, w[k]) + "'" +
                                (k > 1 ? " in '" + w + "'" : ""));
                }
                if (o->takes_arg) {
                    apply_option(a, *o, k + 1 < w.size() ? w.substr(k + 1) : next_arg(w));
                    break;
                }
                apply_option(a, *o, "");
            }
        }
    }
    if (a.image_opts && !a.spec) {
        usage_error("--image-opts needs a SPEC");
    }
    return a;
}

// The whole open, so its error is reported the same way whether the options
// or the device failed.
granule::result<void> open_spec(granule_io::shell &sh, const invocation_args &a)
{
    granule::options opts;
    if (a.image_opts) {
        auto parsed = granule::parse_options(*a.spec);
        if (!parsed) {
            return parsed.error();
        }
        opts = std::move(*parsed);
    } else {
        opts["filename"] = *a.spec;
    }
    return sh.open(opts, a.read_only);
}

void run_stdin(granule_io::shell &sh)
{
    bool interactive = isatty(STDIN_FILENO);
    std::string line;
    while (true) {
        if (interactive) {
            sh.out().write("granule-io> ");
        }
        if (!std::getline(std::cin, line)) {
            if (interactive) {
                sh.out().write("\n");
            }
            return;
        }
        if (sh.execute(line) == granule_io::shell::outcome::quit) {
            return;
        }
    }
}

}  // namespace

int main(int argc, char **argv)
{
    invocation_args a = parse_command_line(argc, argv);
    granule_io::shell sh(a.timing);
    sh.qemu() = a.qemu;
    sh.out().set_line_buffered(a.line_buffered || isatty(STDOUT_FILENO));
    sh.set_error_detail(a.error_detail || isatty(STDERR_FILENO));
    if (a.misalign) {
        sh.set_default_misalign(granule_io::qemu_misalign);
    }
    if (a.spec) {
        if (auto r = open_spec(sh, a); !r) {
            std::fprintf(stderr, "granule-io: can't open device %s: %s\n", granule::redact_secrets(*a.spec).c_str(),
                         granule_io::error_text(r.error()).c_str());
            return 1;
        }
    }
    // As qemu-io's -f, -f raw names the format of the command line's image
    // only: an `open` command probes unless its options say driver=raw.
    sh.qemu().format.reset();
    if (!a.commands.empty()) {
        for (const auto &cmd : a.commands) {
            if (sh.execute(cmd) == granule_io::shell::outcome::quit) {
                break;
            }
        }
    } else {
        run_stdin(sh);
    }
    // Closing waits for aio requests, whose completions still print.
    sh.close();
    sh.out().flush();
    return sh.failed() ? 1 : 0;
}
