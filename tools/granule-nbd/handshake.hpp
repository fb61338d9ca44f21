// The fixed newstyle handshake: option haggling up to NBD_OPT_GO (or the
// old NBD_OPT_EXPORT_NAME), answering INFO, LIST, STRUCTURED_REPLY and the
// meta context options in between.
#pragma once

#include "export_table.hpp"
#include "nbd_stream.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace granule_nbd {

// What a client and the server agreed on for the transmission phase.
struct negotiated {
    nbd_export *exp = nullptr;
    bool structured_replies = false;
    // base:allocation was selected for this export (block status allowed).
    bool base_allocation = false;
};

// The only meta context, and the id the server gives it.
inline constexpr const char *base_allocation_name = "base:allocation";
inline constexpr std::uint32_t base_allocation_id = 1;

class tls_credentials;

// nullopt: the client aborted, or broke the protocol in a way the protocol
// answers with a disconnect (say() has been told why). A broken stream
// throws, as every nbd_stream call does. With tls, TLS is required: only
// NBD_OPT_STARTTLS (then the TLS handshake) and NBD_OPT_ABORT are answered
// before it.
boost::asio::awaitable<std::optional<negotiated>> handshake(
    nbd_stream &stream, export_table &exports, tls_credentials *tls,
    const std::function<void(std::string)> &say);

}  // namespace granule_nbd
