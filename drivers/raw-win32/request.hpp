// One Granule read or write as overlapped ReadFile/WriteFile calls completed
// through the node's I/O completion port. ReadFile and WriteFile take one
// buffer and a DWORD length, so a request becomes pieces:
//   - zero-copy, one piece per iovec element (its file offset is known), when
//     every element's length is a multiple of the request alignment: with
//     FILE_FLAG_NO_BUFFERING each call's offset and length must be aligned,
//     not just the request's (unlike Linux preadv, which checks the total);
//   - otherwise through one aligned bounce buffer;
//   and no piece longer than 1 GiB. All pieces are in flight at once; the
//   Granule completion runs once, after the last, from whichever thread
//   finished it (the completion thread, or the submitting thread when a call
//   failed at once).
// Hence any iovec count and any length work: the node leaves max_iov and
// max_transfer unlimited. GRANULE_REQ_FUA never arrives (the node does not
// declare GRANULE_NODE_FUA: Windows has no per-request FUA), the core
// flushes after a FUA write instead.
#pragma once

#include "iocp.hpp"

#include <granule/driver.hpp>
#include <granule/driver_thread_pool.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace raw_win32 {

// Runs blocking calls (FlushFileBuffers has no overlapped form) in FIFO
// order on a thread of its own, so neither the device thread nor the
// completion thread waits for a disk cache flush (the node's flush).
using blocking_worker = granule::sdk::thread_pool;

// What a request needs of its node. The node changes it only in reopen,
// when no request is in flight.
struct io_target {
    HANDLE handle = INVALID_HANDLE_VALUE;
    std::string filename;
    std::uint64_t request_alignment = 1;  // offset/length rule of each call
    std::uint64_t bounce_alignment = 4096;
};

// Starts req on t; done is called exactly once with the bytes transferred
// (a read is short only at end of file) or -errno and a message naming the
// file, offset and length.
void start_request(const io_target &t, const granule_request &req, granule::sdk::completion done);

}  // namespace raw_win32
