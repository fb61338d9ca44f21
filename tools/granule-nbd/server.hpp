// Listening sockets and the connections they accept, all on the server's
// own io_context (one thread): accepting, the handshake and each session's
// socket I/O. Requests run on their export's device thread.
#pragma once

#include "export_table.hpp"
#include "nbd_stream.hpp"

#include <granule/platform/buffer_pool.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/basic_socket_acceptor.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace granule_nbd {

class session;
class tls_credentials;

struct listen_settings {
    std::optional<std::string> socket_path;  // a Unix socket
    std::optional<std::string> address;      // TCP; with neither, 127.0.0.1
    std::uint16_t port = 10809;
    bool tcp = false;                        // listen on TCP (address or port given, or no socket)
};

class server {
public:
    using logger = std::function<void(const std::string &)>;
    // tls: null, or the credentials every client must use (TLS required).
    server(boost::asio::io_context &ctx, export_table &exports, logger log, bool verbose,
           std::shared_ptr<tls_credentials> tls);
    ~server();

    // Binds every listener; the error names the address. The URIs clients
    // use come back (nbd://..., nbd+unix://...).
    bool listen(const listen_settings &s, std::vector<std::string> &uris, std::string &error);
    void start();
    // Stops accepting, and ends every connection as NBD_CMD_DISC would
    // (requests already received complete and are answered). done() runs
    // on the server's context once the last connection has closed. A
    // connection whose replies cannot go out (its client stopped reading)
    // is closed after shutdown_grace.
    static constexpr std::chrono::seconds shutdown_grace{10};
    void stop(std::function<void()> done);

private:
    boost::asio::awaitable<void> accept_loop(std::size_t listener);
    boost::asio::awaitable<void> connection(nbd_stream::socket_type socket, std::uint64_t id);
    void connection_ended();

    boost::asio::io_context &ctx_;
    export_table &exports_;
    logger log_;
    bool verbose_;
    std::shared_ptr<tls_credentials> tls_;
    using acceptor = boost::asio::basic_socket_acceptor<boost::asio::generic::stream_protocol>;
    std::vector<acceptor> acceptors_;
    std::optional<std::string> socket_path_;
    std::uint64_t next_id_ = 1;
    bool stopping_ = false;
    std::function<void()> done_;
    std::size_t connections_ = 0;
    std::list<nbd_stream *> handshaking_;
    std::list<session *> sessions_;
    boost::asio::steady_timer shutdown_grace_;
    // Every session's data buffers: what a full queue of the largest
    // requests holds is kept for reuse.
    granule::platform::buffer_pool buffers_{32u << 20, 64, 128u << 20};
};

}  // namespace granule_nbd
