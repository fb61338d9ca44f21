// granule-nbd's protocol code (tools/granule-nbd, the server library) fed
// what a hostile client sends: the input is the byte stream a client writes
// on a Unix socket pair, from the first byte of the handshake or, to reach
// the transmission phase quickly, after a prelude the harness sends first.
// The property is the issue's: no crash, no sanitizer report, no hang, no
// leak, whatever the client sends; the device it serves (blkdebug
// align=4096 over memory, so the core's read-modify-write runs) stays usable.
//
// First input byte (mod 3): 0 the raw handshake; 1 a fixed newstyle GO with
// simple replies; 2 structured replies and base:allocation, then GO. The
// rest is sent as is, then the client half-closes and reads every reply.
#include "fuzz_common.hpp"

#include "handshake.hpp"
#include "nbd_protocol.hpp"
#include "session.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <csignal>
#include <cstdint>
#include <string>
#include <thread>

#include <sys/socket.h>
#include <unistd.h>

namespace asio = boost::asio;
using namespace granule_nbd;

namespace {

std::string be(std::uint64_t v, int bytes)
{
    std::string s(bytes, '\0');
    for (int i = bytes - 1; i >= 0; --i, v >>= 8)
        s[i] = static_cast<char>(v & 0xff);
    return s;
}

std::string option(std::uint32_t opt, const std::string &data)
{
    return be(opt_magic, 8) + be(opt, 4) + be(data.size(), 4) + data;
}

std::string prelude(int mode)
{
    if (mode == 0)
        return {};
    std::string s = be(flag_c_fixed_newstyle | flag_c_no_zeroes, 4);
    if (mode == 2) {
        const std::string ctx = base_allocation_name;
        s += option(opt_structured_reply, "");
        s += option(opt_set_meta_context, be(0, 4) + be(1, 4) + be(ctx.size(), 4) + ctx);
    }
    return s + option(opt_go, be(0, 4) + be(0, 2));
}

export_table &exports()
{
    static export_table *table = [] {
        granule_fuzz::use_build_drivers();
        auto dev = granule::device::open(
            "driver=blkdebug,align=4096,image.driver=memory,image.size=1M,image.align=512");
        if (!dev)
            granule_fuzz::fail("cannot open the served device: " + dev.error().message);
        auto *t = new export_table;
        nbd_export e;
        e.dev = std::move(*dev);
        e.sizes = advertised_block_sizes(e.dev->get_limits());
        t->add(std::move(e));
        std::signal(SIGPIPE, SIG_IGN);  // the server writes to a client that may be gone
        return t;
    }();
    return *table;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    if (size == 0)
        return 0;
    auto &table = exports();
    const std::string input = prelude(data[0] % 3) + std::string(reinterpret_cast<const char *>(data) + 1, size - 1);

    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        granule_fuzz::fail("socketpair");
    // The client: everything at once (inputs are small: the socket buffer
    // takes them whole), then it reads replies until the server closes.
    std::thread client([fd = sv[1], &input] {
        std::size_t sent = 0;
        while (sent < input.size()) {
            const auto n = ::send(fd, input.data() + sent, input.size() - sent, MSG_NOSIGNAL);
            if (n <= 0)
                break;
            sent += static_cast<std::size_t>(n);
        }
        ::shutdown(fd, SHUT_WR);
        char sink[65536];
        while (::read(fd, sink, sizeof sink) > 0) {
        }
        ::close(fd);
    });

    asio::io_context ctx(1);
    nbd_stream::socket_type socket(ctx);
    socket.assign(asio::generic::stream_protocol(AF_UNIX, 0), sv[0]);
    buffer_pool pool(1u << 20, 4, 8u << 20);
    auto quiet = [](std::string) {};
    asio::co_spawn(
        ctx,
        [&]() -> asio::awaitable<void> {
            nbd_stream stream(std::move(socket));
            std::optional<negotiated> agreed;
            try {
                agreed = co_await handshake(stream, table, nullptr, quiet);
            } catch (const std::exception &) {
                // A broken stream during the handshake ends the connection.
            }
            if (!agreed) {
                stream.close();
                co_return;
            }
            session s(std::move(stream), *agreed, pool, quiet);
            co_await s.serve();
        },
        asio::detached);
    ctx.run();
    client.join();
    return 0;
}
