// granule-img: image and device utilities over granule::device.
//
//   granule-img info [--image-opts] [-r] [--output=FMT] SPEC
//                                                 driver tree, length, limits + sources
//   granule-img probe [-r] [--no-write] [--write-test] [--output=FMT] FILE|DEVICE
//                                                 every O_DIRECT probe vs trial truth
//
//   granule-img bench [options] [--image-opts] SPEC  load generator (like qemu-img bench)
//   granule-img convert [-n] [-p] [-S SPARSE] SRC DST  copy between any two backends
//   granule-img drivers [NAME]                    the driver plugins and their options
//   granule-img -V|--version                      the tool's, library's, driver ABI's versions
//
// Adding a subcommand: write NAME.cpp with `int NAME_command(int argc, char
// **argv)` (argv[0] is "NAME"; return the exit status) and declare it in
// subcommands.hpp; the CMake glob picks the file up. Then add ONE line to
// `subcommands` below.
#include "subcommands.hpp"
#include "version_line.hpp"

#include <cstdio>
#include <cstring>
#include <string_view>

namespace {

struct subcommand {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *args;
    const char *help;
};

constexpr subcommand subcommands[] = {
    {"info", info_command, "[--image-opts] [-r] [--output=FMT] SPEC",
     "driver tree, length and every limit with its source"},
    {"probe", probe_command, "[-r] [--no-write] [--write-test] [--output=FMT] FILE|DEVICE",
     "every O_DIRECT probing method next to the trial-verified truth"},
    {"bench", bench_command, "[-c N] [-d DEPTH] [-s SIZE] [-w] [-r] [-m MISALIGN] [--output=FMT] SPEC",
     "load generator like qemu-img bench: ops/s, MB/s, latency, device counters"},
    {"convert", convert_command, "[-n] [-p] [-S SPARSE] [-c CHUNK] [-m DEPTH] SRC DST",
     "copies SRC to DST (any backends, any lengths), zero runs as holes or zeroes"},
    {"drivers", drivers_command, "[NAME]",
     "every driver plugin found: file, ABI, claimed filenames, options; files skipped"},
};

void usage(std::FILE *out)
{
    std::fputs("usage: granule-img COMMAND [ARGS]\n"
               "       granule-img -V|--version\n"
               "       granule-img -h|--help\n\ncommands:\n",
               out);
    for (const auto &c : subcommands)
        std::fprintf(out, "  %-7s %s\n          %s\n", c.name, c.args, c.help);
    std::fputs("\n'granule-img COMMAND --help' describes one command; -V, --version prints the\n"
               "versions of granule-img, of the Granule library it runs with and of the driver ABI.\n"
               "Exit status: 0 success, 1 failure (probe: a chosen value below the truth),\n"
               "2 usage error, 3 (probe) a chosen value above the truth.\n",
               out);
}

}  // namespace

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    std::string_view cmd = argv[1];
    if (cmd == "-h" || cmd == "--help" || cmd == "help") {
        usage(stdout);
        return 0;
    }
    if (cmd == "-V" || cmd == "--version") {
        std::printf("%s\n", granule_tools::version_line("granule-img").c_str());
        return 0;
    }
    for (const auto &c : subcommands)
        if (cmd == c.name)
            return c.run(argc - 1, argv + 1);
    std::fprintf(stderr, "granule-img: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
