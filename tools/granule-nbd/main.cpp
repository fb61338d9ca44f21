// granule-nbd: serves Granule devices to NBD clients (qemu, qemu-img, nbdcopy,
// nbdinfo, the Linux kernel's nbd-client, nbdkit's nbd plugin...).
//
//   granule-nbd [OPTIONS]... [SPEC]
//
// Runs in the foreground until SIGINT or SIGTERM, then ends every
// connection the way NBD_CMD_DISC would, flushes every writable export and
// exits 0 (1 if a flush failed). Exit 1: an export would not open or a
// listener would not bind; 2: a usage error.
#include "export_table.hpp"
#include "server.hpp"
#include "tls.hpp"
#include "version_line.hpp"

#include <granule/options.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <unistd.h>

namespace asio = boost::asio;
using namespace granule_nbd;

namespace {

constexpr const char *usage_text =
    "usage: granule-nbd [OPTIONS]... [SPEC]\n"
    "\n"
    "Serves SPEC (and every --export) over NBD until SIGINT or SIGTERM.\n"
    "\n"
    "  SPEC                    what granule-io opens: a filename, a URL\n"
    "                          (iscsi://...), or with --image-opts dotted options;\n"
    "                          served as the export named by -x (default \"\")\n"
    "  --export NAME=SPEC      one more export; may be repeated\n"
    "  -x, --export-name NAME  the name of SPEC's export\n"
    "  -D, --description TEXT  SPEC's export's description (NBD_INFO_DESCRIPTION)\n"
    "  --image-opts            every SPEC is dotted options\n"
    "  -r, --read-only         export read-only (devices are opened read-only)\n"
    "  -k, --socket PATH       listen on a Unix socket (no TCP unless -b or -p)\n"
    "  -b, --bind ADDRESS      listen on TCP at ADDRESS (default 127.0.0.1 only;\n"
    "                          any other address must be given here)\n"
    "  -p, --port PORT         TCP port (default 10809; 0 picks a free one)\n"
    "  --print-uri             print each listener's NBD URI on stdout once listening\n"
    "  --pid-file PATH         write the process id there once listening; removed\n"
    "                          at exit\n"
    "  --tls-certs DIR         require TLS, with DIR/server-cert.pem and\n"
    "                          DIR/server-key.pem (X.509)\n"
    "  --tls-psk FILE          require TLS, with the pre-shared keys in FILE\n"
    "                          (USERNAME:HEXKEY lines, as psktool writes them)\n"
    "  -v, --verbose           log connections, not only errors\n"
    "  -h, --help              this text\n"
    "  -V, --version           versions of granule-nbd, the library and the ABI\n";

struct export_arg {
    std::string name;
    std::string spec;
    std::string description;
};

struct invocation {
    std::vector<export_arg> exports;
    bool image_opts = false;
    bool read_only = false;
    bool print_uri = false;
    bool verbose = false;
    std::optional<std::string> pid_file;
    std::optional<std::string> tls_certs;
    std::optional<std::string> tls_psk;
    listen_settings listen;
};

[[noreturn]] void usage_error(const std::string &why)
{
    std::cerr << "granule-nbd: " << why << "\nTry 'granule-nbd --help'.\n";
    std::exit(2);
}

invocation parse(int argc, char **argv)
{
    invocation inv;
    std::optional<std::string> spec, name, description;
    bool port_given = false;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        std::optional<std::string> inline_value;
        if (arg.rfind("--", 0) == 0 && arg.find('=') != std::string::npos) {
            inline_value = arg.substr(arg.find('=') + 1);
            arg = arg.substr(0, arg.find('='));
        }
        auto value = [&]() -> std::string {
            if (inline_value)
                return *inline_value;
            if (i + 1 >= argc)
                usage_error("option " + arg + " needs a value");
            return argv[++i];
        };
        if (arg == "-h" || arg == "--help") {
            std::cout << usage_text;
            std::exit(0);
        } else if (arg == "-V" || arg == "--version") {
            std::cout << granule_tools::version_line("granule-nbd") << "\n";
            std::exit(0);
        } else if (arg == "--export") {
            const auto v = value();
            const auto eq = v.find('=');
            if (eq == std::string::npos)
                usage_error("--export " + v + ": expected NAME=SPEC");
            inv.exports.push_back({v.substr(0, eq), v.substr(eq + 1), {}});
        } else if (arg == "-x" || arg == "--export-name") {
            name = value();
        } else if (arg == "-D" || arg == "--description") {
            description = value();
        } else if (arg == "--image-opts") {
            inv.image_opts = true;
        } else if (arg == "-r" || arg == "--read-only") {
            inv.read_only = true;
        } else if (arg == "-k" || arg == "--socket") {
            inv.listen.socket_path = value();
        } else if (arg == "-b" || arg == "--bind") {
            inv.listen.address = value();
        } else if (arg == "-p" || arg == "--port") {
            const auto v = value();
            char *end = nullptr;
            const auto port = std::strtoul(v.c_str(), &end, 10);
            if (v.empty() || *end || port > 65535)
                usage_error("--port " + v + ": not a port number (0-65535)");
            inv.listen.port = static_cast<std::uint16_t>(port);
            port_given = true;
        } else if (arg == "--print-uri") {
            inv.print_uri = true;
        } else if (arg == "--pid-file") {
            inv.pid_file = value();
        } else if (arg == "--tls-certs") {
            inv.tls_certs = value();
        } else if (arg == "--tls-psk") {
            inv.tls_psk = value();
        } else if (arg == "-v" || arg == "--verbose") {
            inv.verbose = true;
        } else if (arg.size() > 1 && arg[0] == '-') {
            usage_error("unknown option " + arg);
        } else if (spec) {
            usage_error("more than one SPEC (" + *spec + ", " + arg + "); use --export NAME=SPEC");
        } else {
            spec = arg;
        }
    }
    if (spec)
        inv.exports.insert(inv.exports.begin(), {name.value_or(""), *spec, description.value_or("")});
    else if (name || description)
        usage_error("-x and -D name SPEC's export, and there is no SPEC");
    if (inv.exports.empty())
        usage_error("nothing to serve: give a SPEC or --export NAME=SPEC");
    for (std::size_t i = 0; i < inv.exports.size(); ++i)
        for (std::size_t j = 0; j < i; ++j)
            if (inv.exports[i].name == inv.exports[j].name)
                usage_error("two exports named '" + inv.exports[i].name + "'");
    if (inv.tls_certs && inv.tls_psk)
        usage_error("--tls-certs and --tls-psk: one or the other");
    inv.listen.tcp = !inv.listen.socket_path || inv.listen.address || port_given;
    return inv;
}

}  // namespace

int main(int argc, char **argv)
{
    const auto inv = parse(argc, argv);
    std::mutex log_lock;
    auto log = [&log_lock](const std::string &line) {
        std::lock_guard lock(log_lock);
        std::fprintf(stderr, "granule-nbd: %s\n", line.c_str());
    };
#ifdef SIGPIPE
    // A client that vanishes must cost its connection, not the server.
    std::signal(SIGPIPE, SIG_IGN);
#endif

    std::shared_ptr<tls_credentials> tls;
    if (inv.tls_certs || inv.tls_psk) {
        std::string error;
        tls = inv.tls_certs ? tls_credentials::x509(*inv.tls_certs, error)
                            : tls_credentials::psk(*inv.tls_psk, error);
        if (!tls) {
            log(error);
            return 1;
        }
    }

    export_table exports;
    for (const auto &e : inv.exports) {
        granule::open_flags flags{inv.read_only};
        auto dev = [&]() -> granule::result<std::unique_ptr<granule::device>> {
            if (!inv.image_opts)
                return granule::device::open(e.spec, flags);
            auto opts = granule::parse_options(e.spec);
            if (!opts)
                return opts.error();
            return granule::device::open(*opts, flags);
        }();
        if (!dev) {
            log("export '" + e.name + "': " + dev.error().message);
            return 1;
        }
        nbd_export x;
        x.name = e.name;
        x.description = e.description;
        x.dev = std::move(*dev);
        x.read_only = x.dev->read_only() || x.dev->format_probe().refuses_writes();
        x.sizes = advertised_block_sizes(x.dev->get_limits());
        if (inv.verbose)
            log("export '" + x.name + "': " + std::to_string(x.dev->length()) + " bytes, block sizes " +
                std::to_string(x.sizes.minimum) + "/" + std::to_string(x.sizes.preferred) + "/" +
                std::to_string(x.sizes.maximum) + (x.read_only ? ", read-only" : ""));
        exports.add(std::move(x));
    }

    asio::io_context ctx(1);
    server srv(ctx, exports, log, inv.verbose, tls);
    std::vector<std::string> uris;
    std::string error;
    if (!srv.listen(inv.listen, uris, error)) {
        log(error);
        return 1;
    }
    if (inv.print_uri) {
        for (const auto &u : uris)
            std::cout << u << "\n";
        std::cout.flush();
    }
    if (inv.pid_file) {
        std::ofstream(*inv.pid_file) << getpid() << "\n";
    }

    asio::signal_set signals(ctx, SIGINT, SIGTERM);
    std::function<void(boost::system::error_code, int)> on_signal =
        [&](boost::system::error_code ec, int signo) {
            if (ec)
                return;
            if (inv.verbose)
                log("signal " + std::to_string(signo) + ": finishing the requests received, then exiting");
            // Once every connection has closed nothing is left to run, and
            // ctx.run() returns.
            srv.stop([&] { signals.cancel(); });
            // A second signal does not wait for a device that hangs.
            signals.async_wait([&](boost::system::error_code ec2, int) {
                if (ec2)
                    return;
                log("second signal: exiting without waiting for requests in flight");
                std::_Exit(1);
            });
        };
    signals.async_wait(on_signal);
    srv.start();
    ctx.run();

    int rc = 0;
    for (auto &e : exports.all()) {
        if (e.read_only)
            continue;
        if (auto r = e.dev->flush(); !r) {
            log("export '" + e.name + "': flush at exit: " + r.error().message);
            rc = 1;
        }
    }
    if (inv.pid_file)
        std::remove(inv.pid_file->c_str());
    return rc;
}
