// granule-io: a qemu-io-style shell over granule::device.
//
//   granule-io [-c CMD]... [--image-opts] [-r|--read-only] [--no-timing] [SPEC]
//
// Commands come from each -c in order, else from stdin (a prompt when it is
// a terminal). Exit status: 0 all commands succeeded, 1 some failed (the run
// goes on after a failure, like qemu-io), 2 usage error or SPEC won't open.
#include "data_request.hpp"
#include "shell.hpp"

#include <granule/options.hpp>

#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <unistd.h>

namespace {

constexpr const char *usage_text =
    "usage: granule-io [-c CMD]... [--image-opts] [-r|--read-only] [--no-timing] [SPEC]\n"
    "\n"
    "  SPEC            a filename shorthand (d.img, /dev/sdb, iscsi://host/iqn/lun), or\n"
    "                  with --image-opts dotted options (driver=memory,size=1M)\n"
    "  -c, --cmd CMD   run CMD; may be repeated, in order; stdin is not read then\n"
    "  -r, --read-only open SPEC read-only\n"
    "  --image-opts    SPEC is dotted options\n"
    "  --no-timing     omit the timing lines, so outputs compare exactly\n"
    "  -h, --help      this text; `help` inside the shell lists the commands\n"
    "\n"
    "Exit status: 0 success, 1 a command or -P verification failed, 2 usage error\n"
    "or SPEC could not be opened.\n";

struct invocation_args {
    std::vector<std::string> commands;
    std::optional<std::string> spec;
    bool image_opts = false;
    bool read_only = false;
    bool timing = true;
};

[[noreturn]] void usage_error(const std::string &why)
{
    std::fprintf(stderr, "granule-io: %s\nTry 'granule-io --help' for more information.\n",
                 why.c_str());
    std::exit(2);
}

invocation_args parse_command_line(int argc, char **argv)
{
    invocation_args a;
    bool options_ended = false;
    for (int i = 1; i < argc; ++i) {
        std::string w = argv[i];
        if (options_ended || w.size() < 2 || w[0] != '-') {
            if (a.spec) {
                usage_error("only one SPEC may be given, got '" + *a.spec + "' and '" + w + "'");
            }
            a.spec = w;
        } else if (w == "--") {
            options_ended = true;
        } else if (w == "-c" || w == "--cmd") {
            if (i + 1 == argc) {
                usage_error("option '" + w + "' needs a command");
            }
            a.commands.emplace_back(argv[++i]);
        } else if (w.starts_with("--cmd=")) {
            a.commands.push_back(w.substr(6));
        } else if (w.starts_with("-c")) {
            a.commands.push_back(w.substr(2));
        } else if (w == "-r" || w == "--read-only") {
            a.read_only = true;
        } else if (w == "--image-opts") {
            a.image_opts = true;
        } else if (w == "--no-timing") {
            a.timing = false;
        } else if (w == "-h" || w == "--help") {
            std::fputs(usage_text, stdout);
            std::exit(0);
        } else {
            usage_error("unknown option '" + w + "'");
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
    if (a.spec) {
        if (auto r = open_spec(sh, a); !r) {
            std::fprintf(stderr, "granule-io: can't open device %s: %s\n", granule::redact_secrets(*a.spec).c_str(),
                         granule_io::error_text(r.error()).c_str());
            return 2;
        }
    }
    if (!a.commands.empty()) {
        for (const auto &cmd : a.commands) {
            if (sh.execute(cmd) == granule_io::shell::outcome::quit) {
                break;
            }
        }
    } else {
        run_stdin(sh);
    }
    // Closing waits for aio requests, whose completions may still fail.
    sh.close();
    return sh.failed() ? 1 : 0;
}
