// A device is what a program holds: the root of a node tree plus the request
// scheduler that turns byte-granularity I/O into aligned driver requests.
//
// Any offset, any length, any iovec: reads are rounded out to the alignment,
// unaligned writes read-modify-write their head and tail blocks, overlapping
// requests are serialised so no RMW writes back stale data, and the caller's
// memory is used directly when its alignment allows.
//
// Threads: each device runs its pipeline on one internal thread (its
// executor), so requests are tracked without locks, and the state that
// reopen and truncate change (limits, flags, the tree) is that thread's.
// - async_*: any thread; the completion handler runs on the device's
//   executor unless the token binds another.
// - the synchronous I/O and control functions (preadv ... reopen,
//   block_status, lift_throttle, debug_*): any thread but the device's
//   executor (there they would wait for themselves: EDEADLK); they block.
// - queries: length, get_stats, reset_stats read atomics, format_probe
//   what was fixed at open (any thread);
//   read_only, growable, get_limits, describe, description hop to the device's thread
//   and wait for the answer when called elsewhere (any thread, the
//   device's own included).
// - the destructor: not on the device's executor, and not while another
//   thread still calls into the device.
// Buffers must stay valid until the request completes.
#pragma once

// Concepts, spans and coroutines: below C++20 this header cannot compile, and
// the errors would come from deep inside it.
#if __cplusplus < 202002L && !(defined(_MSVC_LANG) && _MSVC_LANG >= 202002L)
#error "granule/device.hpp needs C++20: compile with -std=c++20 (CMake: link Granule::granule, which requires it)"
#endif

#include <granule/export.hpp>

#include <granule/error.hpp>
#include <granule/image_format.hpp>
#include <granule/limits.hpp>
#include <granule/options.hpp>
#include <granule/stats.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace granule {

// One element of a caller's scatter/gather list.
struct io_buffer {
    void *base = nullptr;
    std::size_t len = 0;
};

struct open_flags {
    bool read_only = false;
};

// Flags of one request, combined with |. Which request takes which flag:
// - fua: pwritev and pwrite_zeroes: the data is durable when the request
//   completes. Where the backend cannot do that per request (no
//   GRANULE_NODE_FUA), the device flushes after the request instead.
// - may_unmap: pwrite_zeroes may deallocate the range (reads still return
//   zeroes); ignored by a backend that cannot.
// - no_fallback: pwrite_zeroes fails at once with ENOTSUP rather than write
//   zero buffers, for any part it cannot zero efficiently (unaligned ends,
//   a backend without efficient zeroing, a backing node).
// Any other flag on a request is refused with EINVAL naming it.
enum class request_flags : std::uint32_t { none = 0, fua = 1, may_unmap = 2, no_fallback = 4 };
constexpr request_flags operator|(request_flags a, request_flags b)
{
    return static_cast<request_flags>(static_cast<std::uint32_t>(a) | static_cast<std::uint32_t>(b));
}
constexpr bool has(request_flags set, request_flags f)
{
    return (static_cast<std::uint32_t>(set) & static_cast<std::uint32_t>(f)) != 0;
}
// Whether set holds a bit that is no flag of the list above.
constexpr bool has_unknown(request_flags set)
{
    constexpr auto known = request_flags::fua | request_flags::may_unmap | request_flags::no_fallback;
    return (static_cast<std::uint32_t>(set) & ~static_cast<std::uint32_t>(known)) != 0;
}

// What block_status says about [offset, offset + bytes).
struct block_extent {
    std::uint64_t bytes = 0;  // how far from offset the answer holds (>= 1)
    bool zero = false;        // reads return zeroes (a hole, or past the end)
    bool data = false;        // allocated in the backend
    // The device's own (top) node determines these bytes: false only where
    // an overlay's hole shows its backing (qemu's "allocated").
    bool allocated = true;
};

// One node of a device's tree, as describe() prints it, for programs that
// want the tree structured (granule-img info --output=json).
struct node_description {
    std::string name;    // "" for the root, "backing" for the backing tree's
                         // root, else the child's name under its parent ("image")
    std::string driver;  // the driver's name
    // The node's own keys (not its children's), normalised as the driver
    // sees them (sizes in bytes, booleans on/off); a secret option's value
    // is "***" and credentials in a URL are redacted.
    options own_options;
    std::vector<std::string> info;  // the driver's info lines, in its order, none empty
    std::vector<node_description> children;  // in the driver's order
};

struct device_description {
    node_description root;
    // The read-only tree under an overlay (backing.* keys), when there is one.
    std::optional<node_description> backing;
    bool copy_on_read = false;             // with a backing tree
    std::uint64_t overlay_granularity = 0; // bytes; 0 without a backing tree
    // The throttle.* limits in force, keys without "throttle." in describe()'s
    // order (per second; burst-ms last); empty when nothing is limited.
    std::vector<std::pair<std::string, std::uint64_t>> throttle;
};

class device_impl;

class GRANULE_API device {
public:
    // spec: dotted options when it contains "driver=" or "filename=" at top
    // level, otherwise a filename shorthand (e.g. "d.img", "iscsi://...").
    // The core's own keys, at the root only: format=raw (the only value: the
    // image is meant as raw; without it the first bytes are probed, see
    // format_probe), throttle.*, backing.*, copy-on-read, overlay-granularity.
    static result<std::unique_ptr<device>> open(std::string_view spec, open_flags flags = {});
    static result<std::unique_ptr<device>> open(const options &opts, open_flags flags = {});

    // Waits for requests in flight, then closes every node.
    ~device();
    device(const device &) = delete;
    device &operator=(const device &) = delete;

    boost::asio::any_io_executor get_executor() const;

    // Completion signature: void(std::exception_ptr, result<std::size_t>) for
    // reads and writes (bytes transferred == requested on success),
    // void(std::exception_ptr, result<block_extent>) for block status,
    // void(std::exception_ptr, result<void>) for the others. The exception is
    // only ever std::bad_alloc.
    template <class Token>
    auto async_preadv(std::uint64_t offset, std::vector<io_buffer> iov, Token &&token)
    {
        return boost::asio::co_spawn(get_executor(), co_preadv(offset, std::move(iov)),
                                     std::forward<Token>(token));
    }
    template <class Token>
    auto async_pwritev(std::uint64_t offset, std::vector<io_buffer> iov, Token &&token)
    {
        return boost::asio::co_spawn(get_executor(), co_pwritev(offset, std::move(iov)),
                                     std::forward<Token>(token));
    }
    template <class Token>
    auto async_pwritev(std::uint64_t offset, std::vector<io_buffer> iov, request_flags flags,
                       Token &&token)
    {
        return boost::asio::co_spawn(get_executor(), co_pwritev(offset, std::move(iov), flags),
                                     std::forward<Token>(token));
    }
    template <class Token>
    auto async_flush(Token &&token)
    {
        return boost::asio::co_spawn(get_executor(), co_flush(), std::forward<Token>(token));
    }
    template <class Token>
    auto async_pdiscard(std::uint64_t offset, std::uint64_t len, Token &&token)
    {
        return boost::asio::co_spawn(get_executor(), co_pdiscard(offset, len),
                                     std::forward<Token>(token));
    }
    template <class Token>
    auto async_pwrite_zeroes(std::uint64_t offset, std::uint64_t len, request_flags flags,
                             Token &&token)
    {
        return boost::asio::co_spawn(get_executor(), co_pwrite_zeroes(offset, len, flags),
                                     std::forward<Token>(token));
    }
    template <class Token>
    auto async_block_status(std::uint64_t offset, std::uint64_t len, Token &&token)
    {
        return boost::asio::co_spawn(get_executor(), co_block_status(offset, len),
                                     std::forward<Token>(token));
    }

    // Synchronous wrappers.
    result<std::size_t> preadv(std::uint64_t offset, std::span<const io_buffer> iov);
    result<std::size_t> pwritev(std::uint64_t offset, std::span<const io_buffer> iov,
                                request_flags flags = request_flags::none);
    result<std::size_t> pread(std::uint64_t offset, void *buf, std::size_t len);
    result<std::size_t> pwrite(std::uint64_t offset, const void *buf, std::size_t len,
                               request_flags flags = request_flags::none);
    result<void> flush();
    // Discard is advisory: the parts not covering whole pdiscard_alignment
    // blocks are left alone.
    result<void> pdiscard(std::uint64_t offset, std::uint64_t len);
    // Reads of the range return zeroes afterwards.
    result<void> pwrite_zeroes(std::uint64_t offset, std::uint64_t len,
                               request_flags flags = request_flags::none);
    result<void> truncate(std::uint64_t len);
    result<void> reopen(const options &changes);
    // Whether a range reads as zeroes without reading it (SEEK_DATA/HOLE on
    // files, for instance), for the first answer.bytes bytes from offset
    // (at most len). A backend that cannot tell says data, never zero.
    // Not ordered with writes in flight: ask once they completed.
    result<block_extent> block_status(std::uint64_t offset, std::uint64_t len);

    std::uint64_t length() const;
    // What the device's bytes were taken for at open, and why: format=raw
    // given (nothing checked); a container's signature in the first bytes
    // (every write, write_zeroes, discard and truncate fails with EPERM
    // naming the format; reads work); or none (a change that would put one
    // into the first format_probe_bytes fails with EPERM). Without format=raw
    // the open reads those bytes once, also read-only. Fixed at open; the
    // reference lives as long as the device.
    const format_decision &format_probe() const;
    bool read_only() const;
    bool growable() const;
    limits get_limits() const;
    stats get_stats() const;
    void reset_stats();
    // Turns the throttle.* limits off and lets every request they hold go
    // at once, like a reopen that removes them but without its barrier (a
    // reopen waits for the held requests first). For a program about to
    // wait for everything in flight, a shell's quit say, that must not sit
    // out the schedule; the destructor does the same. A later reopen with
    // throttle.* keys sets limits again. Any thread but the device's own.
    void lift_throttle();
    // The driver tree, one node per line, children indented; then each
    // node's driver info lines. describe() is description() as text.
    std::string describe() const;
    device_description description() const;

    // blkdebug breakpoints, addressed to the first node in the tree that
    // implements them.
    result<void> debug_breakpoint(std::string_view event, std::string_view tag);
    result<void> debug_remove_breakpoint(std::string_view tag);
    result<void> debug_resume(std::string_view tag);
    bool debug_is_suspended(std::string_view tag);

    // The coroutines behind async_*; they must run on get_executor().
    boost::asio::awaitable<result<std::size_t>> co_preadv(std::uint64_t offset,
                                                          std::vector<io_buffer> iov);
    boost::asio::awaitable<result<std::size_t>> co_pwritev(
        std::uint64_t offset, std::vector<io_buffer> iov,
        request_flags flags = request_flags::none);
    boost::asio::awaitable<result<void>> co_flush();
    boost::asio::awaitable<result<void>> co_pdiscard(std::uint64_t offset, std::uint64_t len);
    boost::asio::awaitable<result<void>> co_pwrite_zeroes(
        std::uint64_t offset, std::uint64_t len, request_flags flags = request_flags::none);
    boost::asio::awaitable<result<block_extent>> co_block_status(std::uint64_t offset,
                                                                 std::uint64_t len);

private:
    explicit device(std::unique_ptr<device_impl> impl);
    std::unique_ptr<device_impl> impl_;
};

}  // namespace granule
