#include "server.hpp"

#include "handshake.hpp"
#include "session.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>

namespace asio = boost::asio;

namespace granule_nbd {

namespace {
// A client that connects and never finishes the handshake would hold its
// socket for good; after this it is closed.
constexpr auto handshake_timeout = std::chrono::seconds(60);
}  // namespace

server::server(asio::io_context &ctx, export_table &exports, logger log, bool verbose,
               std::shared_ptr<tls_credentials> tls)
    : ctx_(ctx),
      exports_(exports),
      log_(std::move(log)),
      verbose_(verbose),
      tls_(std::move(tls)),
      shutdown_grace_(ctx)
{
}

server::~server()
{
    if (socket_path_)
        std::remove(socket_path_->c_str());
}

bool server::listen(const listen_settings &s, std::vector<std::string> &uris, std::string &error)
{
    using generic = asio::generic::stream_protocol;
    auto open = [&](const generic::endpoint &ep, const std::string &what) {
        boost::system::error_code ec;
        acceptor a(ctx_);
        a.open(ep.protocol(), ec);
        if (!ec && ep.protocol().family() != AF_UNIX)
            a.set_option(asio::socket_base::reuse_address(true), ec);
        if (!ec)
            a.bind(ep, ec);
        if (!ec)
            a.listen(asio::socket_base::max_listen_connections, ec);
        if (ec) {
            error = "cannot listen on " + what + ": " + ec.message();
            return false;
        }
        acceptors_.push_back(std::move(a));
        return true;
    };
    if (s.socket_path) {
#if defined(BOOST_ASIO_HAS_LOCAL_SOCKETS)
        if (!open(generic::endpoint(asio::local::stream_protocol::endpoint(*s.socket_path)),
                  "Unix socket " + *s.socket_path))
            return false;
        socket_path_ = s.socket_path;
        uris.push_back("nbd+unix:///?socket=" + *s.socket_path);
#else
        error = "Unix sockets are not available on this platform";
        return false;
#endif
    }
    if (s.tcp) {
        boost::system::error_code ec;
        const auto address = asio::ip::make_address(s.address.value_or("127.0.0.1"), ec);
        if (ec) {
            error = "--bind " + s.address.value_or("") + ": not an IP address";
            return false;
        }
        const asio::ip::tcp::endpoint ep(address, s.port);
        if (!open(generic::endpoint(ep), "TCP " + address.to_string() + " port " + std::to_string(s.port)))
            return false;
        // Port 0 chose one: name the real one.
        asio::ip::tcp::endpoint bound;
        std::memcpy(bound.data(), acceptors_.back().local_endpoint().data(),
                    acceptors_.back().local_endpoint().size());
        const auto host = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
        uris.push_back("nbd://" + host + ":" + std::to_string(bound.port()) + "/");
    }
    return true;
}

void server::start()
{
    for (std::size_t i = 0; i < acceptors_.size(); ++i)
        asio::co_spawn(ctx_, accept_loop(i), asio::detached);
}

asio::awaitable<void> server::accept_loop(std::size_t listener)
{
    auto &acceptor = acceptors_[listener];
    while (!stopping_) {
        boost::system::error_code ec;
        auto socket = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
        if (stopping_)
            break;
        if (ec) {
            // Out of descriptors, say: the listener stays, the client goes.
            log_("accepting a connection: " + ec.message());
            asio::steady_timer pause(ctx_, std::chrono::milliseconds(100));
            co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            continue;
        }
        ++connections_;
        asio::co_spawn(ctx_, connection(std::move(socket), next_id_++), asio::detached);
    }
}

asio::awaitable<void> server::connection(nbd_stream::socket_type socket, std::uint64_t id)
{
    auto say = [log = log_, id](std::string m) { log("client " + std::to_string(id) + ": " + m); };
    if (verbose_)
        say("connected");
    nbd_stream stream(std::move(socket));
    handshaking_.push_back(&stream);
    const auto me = std::prev(handshaking_.end());
    asio::steady_timer deadline(ctx_, handshake_timeout);
    deadline.async_wait([&stream, say](boost::system::error_code ec) {
        if (ec)
            return;
        say("handshake not finished after 60 s; disconnecting");
        stream.close();
    });
    std::optional<negotiated> agreed;
    const std::function<void(std::string)> tell = say;
    try {
        agreed = co_await handshake(stream, exports_, tls_.get(), tell);
    } catch (const boost::system::system_error &e) {
        // A client hanging up (nbdinfo --list after NBD_OPT_ABORT, say) is
        // no error of the server's.
        const auto c = e.code();
        if (verbose_ || (c != asio::error::eof && c != asio::error::operation_aborted &&
                         c != asio::error::broken_pipe && c != asio::error::connection_reset))
            say("handshake ended: " + c.message());
    } catch (const std::exception &e) {
        say(std::string("handshake ended: ") + e.what());  // TLS
    }
    deadline.cancel();
    handshaking_.erase(me);
    if (!agreed || stopping_) {
        stream.close();
        connection_ended();
        co_return;
    }
    if (verbose_)
        say("serving export '" + agreed->exp->name + "'");
    auto s = std::make_shared<session>(std::move(stream), *agreed, buffers_, tell);
    sessions_.push_back(s.get());
    asio::co_spawn(
        ctx_, [s]() -> asio::awaitable<void> { co_await s->serve(); },
        [this, s, say, verbose = verbose_](std::exception_ptr e) {
            if (e) {
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception &x) {
                    say(std::string("connection failed: ") + x.what());
                }
            }
            sessions_.remove(s.get());
            if (verbose)
                say("disconnected");
            connection_ended();
        });
}

void server::connection_ended()
{
    --connections_;
    if (stopping_ && connections_ == 0 && done_) {
        shutdown_grace_.cancel();
        std::exchange(done_, nullptr)();
    }
}

void server::stop(std::function<void()> done)
{
    stopping_ = true;
    done_ = std::move(done);
    for (auto &a : acceptors_) {
        boost::system::error_code ignored;
        a.close(ignored);
    }
    for (auto *s : handshaking_)
        s->close();
    for (auto *s : sessions_)
        s->stop();
    if (connections_ == 0) {
        asio::post(ctx_, [this] {
            if (done_)
                std::exchange(done_, nullptr)();
        });
        return;
    }
    // A client that does not read its replies would hold the exit for good.
    shutdown_grace_.expires_after(shutdown_grace);
    shutdown_grace_.async_wait([this](boost::system::error_code ec) {
        if (ec || sessions_.empty())
            return;
        log_(std::to_string(sessions_.size()) + " connection(s) still sending replies after " +
             std::to_string(shutdown_grace.count()) + " s; closing them");
        for (auto *s : sessions_)
            s->abort();
    });
}

}  // namespace granule_nbd
