// Opening an NBD connection: one libnbd handle, connected and through the
// handshake, plus what the server said about the export (limits.hpp).
// libnbd's blocking nbd_connect_* would wait forever for a server that
// accepts the connection and then says nothing (a stopped nbdkit), so this
// drives the async connect with a deadline of `timeout` seconds instead.
// Threads: the handle is used by one thread at a time: the thread opening
// the device, then the event loop's thread (event_loop.cpp).
#pragma once

#include "config.hpp"
#include "limits.hpp"

#include <libnbd.h>

#include <memory>

namespace granule_nbd {

struct handle_closer {
    void operator()(nbd_handle *h) const noexcept { nbd_close(h); }
};
using handle_ptr = std::unique_ptr<nbd_handle, handle_closer>;

struct connection {
    handle_ptr handle;
    export_facts facts;
    // The server as messages name it from now on: nbd_get_uri when libnbd
    // can make one (same form for a URI and the dotted keys), else where().
    std::string server;
};

// Blocking, at open. Throws granule::sdk::driver_error naming the server:
// the errno libnbd reports (ENOENT, ECONNREFUSED, ...) with its message, or
// ETIMEDOUT after cfg.timeout_s seconds without a finished handshake, or
// EPROTO/ENOTSUP for an export the driver cannot use.
connection connect(const server_config &cfg);

// libnbd's last error on this thread, "unknown error" when it has none.
std::string last_error();
int last_errno(int fallback = EIO);

}  // namespace granule_nbd
