// Header-only C++ helper for writing a Granule driver on top of the C ABI in
// driver_abi.h. A driver is a class T; make_driver<T>() builds the static
// granule_driver table and GRANULE_DEFINE_DRIVER(T) exports the entry point.
//
//   class my_node {
//   public:
//       static constexpr const char *name = "my";              // required
//       static constexpr const char *description = "...";      // required
//       static constexpr granule_option_desc options[] = {...}; // optional
//       static constexpr const char *const children[] = {"image", nullptr}; // optional
//       static constexpr const char *const prefixes[] = {"my://", nullptr};  // optional
//       static constexpr bool claims_plain_filenames = true;   // optional
//       explicit my_node(const granule::sdk::open_context &ctx);  // open: throw to fail
//       std::int64_t length();                                      // required
//       void submit(const granule_request &req, granule::sdk::completion &done); // required
//       // Optional; a missing one leaves its table slot NULL (= unsupported):
//       std::uint32_t node_flags() const;            // GRANULE_NODE_* reported by open
//       void refresh_limits(granule_limits &l);
//       void flush(completion &done);
//       void discard(std::uint64_t offset, std::uint64_t length, completion &done);
//       void write_zeroes(std::uint64_t offset, std::uint64_t length, completion &done);
//       void block_status(std::uint64_t offset, std::uint64_t length,
//                         granule_block_status &out, completion &done);
//       // each of these four may take std::uint32_t flags (GRANULE_REQ_*) after
//       // the range: write_zeroes(offset, length, flags, done),
//       // block_status(offset, length, flags, out, done). Flags reach a node
//       // only when node_flags() declares them (GRANULE_NODE_FUA, ...).
//       void reopen(const options_view &changed);
//       void truncate(std::uint64_t length);
//       std::string info();                          // "key: value" lines
//       void debug_event(std::string_view event, std::uint64_t offset,
//                        std::uint64_t length, completion &done);
//       void debug_breakpoint(std::string_view event, std::string_view tag);
//       int debug_remove_breakpoint(std::string_view tag);   // 0 or -errno
//       int debug_resume(std::string_view tag);              // 0 or -errno
//       bool debug_is_suspended(std::string_view tag);
//       int poll_fd() noexcept;   // with open_context::host_polls(): see driver_abi.h
//       void poll() noexcept;
//       void unplug() noexcept;   // with open_context::host_unplugs()
//   };
//   GRANULE_DEFINE_DRIVER(my_node)
//
// Errors: throw driver_error(errno, message) (or call fail()); every exception
// stops at the boundary and becomes -errno plus message: driver_error keeps its
// code, std::bad_alloc is -ENOMEM, std::system_error keeps a generic/system
// code, anything else is -EIO.
// Ownership: the node object is the ABI's per-node state; close deletes it.
// Completions: a hook receives `completion &done`. Call it (inline is fine) or
// move it out to finish later on any thread. If the hook throws while it still
// holds done, the boundary completes it with the error. A completion destroyed
// without being called completes with -EIO, so a request is never lost.
// Threads: submit, flush, discard, write_zeroes and block_status run on the
// device's thread (driver_abi.h); open and close run on the thread opening or
// closing the device; completions (and the driver's own threads) run anywhere.
// Units: offsets and lengths are bytes.
#pragma once

// Concepts, spans and coroutines: below C++20 this header cannot compile, and
// the errors would come from deep inside it.
#if __cplusplus < 202002L && !(defined(_MSVC_LANG) && _MSVC_LANG >= 202002L)
#error "granule/driver.hpp needs C++20: compile with -std=c++20 (CMake: link Granule::driver, which requires it)"
#endif

#include <granule/driver_abi.h>
#include <granule/value_parse.hpp>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <iterator>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace granule::sdk {

// Thrown by driver code; the boundary turns it into -code() plus what().
class driver_error : public std::exception {
public:
    driver_error(int code, std::string message) : code_(code), message_(std::move(message)) {}
    int code() const noexcept { return code_; }  // positive errno
    const char *what() const noexcept override { return message_.c_str(); }

private:
    int code_;
    std::string message_;
};

[[noreturn]] inline void fail(int code, std::string message)
{
    throw driver_error(code, std::move(message));
}

// Copies msg into buf (the ABI's err/errlen or info buffer), truncating and
// always NUL-terminating. buf may be NULL or buflen 0.
inline void write_message(char *buf, std::size_t buflen, std::string_view msg) noexcept
{
    if (!buf || buflen == 0)
        return;
    std::size_t n = std::min(msg.size(), buflen - 1);
    std::memcpy(buf, msg.data(), n);
    buf[n] = '\0';
}

// The exception being handled, as errno + message. Fixed storage: it is used
// where allocating could throw again (out of memory).
struct caught_error {
    int code = EIO;
    char message[256] = {};
};

inline caught_error describe_current_exception() noexcept
{
    caught_error e;
    auto set = [&e](int code, const char *msg) {
        e.code = code > 0 ? code : EIO;
        write_message(e.message, sizeof e.message, msg);
    };
    try {
        throw;
    } catch (const driver_error &x) {
        set(x.code(), x.what());
    } catch (const std::bad_alloc &) {
        set(ENOMEM, "out of memory");
    } catch (const std::system_error &x) {
        bool errno_like = x.code().category() == std::generic_category() ||
                          x.code().category() == std::system_category();
        set(errno_like ? x.code().value() : EIO, x.what());
    } catch (const std::exception &x) {
        set(EIO, x.what());
    } catch (...) {
        set(EIO, "unknown exception in driver");
    }
    return e;
}

// The host's own value parsers (granule/value_parse.hpp): the host already
// normalises declared SIZE and BOOL options; these are for values a driver
// validates itself (PREFIX options).
inline std::optional<std::uint64_t> parse_size(std::string_view text) noexcept
{
    auto v = values::parse_size(text);
    return v ? std::optional<std::uint64_t>(v.value) : std::nullopt;
}

inline std::optional<bool> parse_bool(std::string_view text) noexcept
{
    auto v = values::parse_bool(text);
    return v ? std::optional<bool>(v.value) : std::nullopt;
}

// Read-only view of the options the host passed (valid during the call only:
// copy what you keep). Getters throw driver_error(EINVAL) naming the key.
class options_view {
public:
    options_view(const granule_option *opts, std::uint32_t n) noexcept
        : opts_(opts), n_(opts ? n : 0) {}

    const granule_option *begin() const noexcept { return opts_; }
    const granule_option *end() const noexcept { return opts_ + n_; }

    std::optional<std::string_view> find(std::string_view key) const noexcept
    {
        for (const auto &o : *this)
            if (o.key && key == o.key)
                return std::string_view(o.value ? o.value : "");
        return std::nullopt;
    }
    bool has(std::string_view key) const noexcept { return find(key).has_value(); }

    std::string get_string(std::string_view key, std::string_view fallback = {}) const
    {
        return std::string(find(key).value_or(fallback));
    }
    std::uint64_t get_size(std::string_view key, std::uint64_t fallback = 0) const
    {
        auto v = find(key);
        if (!v)
            return fallback;
        auto n = parse_size(*v);
        if (!n)
            fail(EINVAL, "option '" + std::string(key) + "': '" + std::string(*v) +
                             "' is not a size");
        return *n;
    }
    bool get_bool(std::string_view key, bool fallback = false) const
    {
        auto v = find(key);
        if (!v)
            return fallback;
        auto b = parse_bool(*v);
        if (!b)
            fail(EINVAL, "option '" + std::string(key) + "': '" + std::string(*v) +
                             "' is not on/off");
        return *b;
    }
    std::int64_t get_int(std::string_view key, std::int64_t fallback = 0) const
    {
        auto v = find(key);
        if (!v)
            return fallback;
        auto n = values::parse_int(*v);
        if (!n)
            fail(EINVAL, "option '" + std::string(key) + "': '" + std::string(*v) +
                             "' is not an integer");
        return n.value;
    }
    // get_int, refused with EINVAL naming the range unless lo <= value <= hi;
    // unit ("seconds") ends that message.
    std::int64_t get_int_in(std::string_view key, std::int64_t lo, std::int64_t hi,
                            std::int64_t fallback, std::string_view unit = {}) const
    {
        const auto n = get_int(key, fallback);
        if (has(key) && (n < lo || n > hi))
            fail(EINVAL, "option '" + std::string(key) + "': " + std::to_string(n) + " is not from " +
                             std::to_string(lo) + " to " + std::to_string(hi) +
                             (unit.empty() ? "" : " " + std::string(unit)));
        return n;
    }

private:
    const granule_option *opts_;
    std::uint32_t n_;
};

// The host's completion callback, owned: callable once, move-only.
// Copies the first n bytes between an iovec and one contiguous buffer:
// gather (iovec -> buf) for a bounced write, scatter (buf -> iovec) after a
// bounced read. n must not exceed the iovec's total.
inline void copy_iov(const granule_iovec *iov, std::size_t iovcnt, std::byte *buf,
                     std::uint64_t n, bool gather) noexcept
{
    for (std::size_t i = 0; i < iovcnt && n; ++i) {
        std::uint64_t step = std::min<std::uint64_t>(n, iov[i].len);
        if (gather)
            std::memcpy(buf, iov[i].base, step);
        else
            std::memcpy(iov[i].base, buf, step);
        buf += step;
        n -= step;
    }
}

class completion {
public:
    completion() noexcept = default;
    completion(granule_completion_fn fn, void *opaque) noexcept : fn_(fn), opaque_(opaque) {}
    completion(completion &&o) noexcept : fn_(std::exchange(o.fn_, nullptr)), opaque_(o.opaque_) {}
    completion &operator=(completion &&o) noexcept
    {
        if (this != &o) {
            drop();
            fn_ = std::exchange(o.fn_, nullptr);
            opaque_ = o.opaque_;
        }
        return *this;
    }
    completion(const completion &) = delete;
    completion &operator=(const completion &) = delete;
    ~completion() { drop(); }

    // True while the request still waits for its result.
    explicit operator bool() const noexcept { return fn_ != nullptr; }

    // result: bytes for read/write, 0 otherwise, or -errno. message may be NULL
    // and only needs to live during the call.
    void operator()(std::int64_t result, const char *message = nullptr) noexcept
    {
        if (auto fn = std::exchange(fn_, nullptr))
            fn(opaque_, result, message);
    }
    void fail(int code, const std::string &message) noexcept { (*this)(-code, message.c_str()); }

    // Hands the raw callback over (e.g. straight to a child); *this becomes empty.
    std::pair<granule_completion_fn, void *> release() noexcept
    {
        return {std::exchange(fn_, nullptr), opaque_};
    }

private:
    void drop() noexcept { (*this)(-EIO, "driver dropped the request without completing it"); }

    granule_completion_fn fn_ = nullptr;
    void *opaque_ = nullptr;
};

// A copy of a request whose iovec array the driver owns, for requests it
// finishes later (the buffers themselves stay the host's).
class owned_request {
public:
    explicit owned_request(const granule_request &r)
        : req_(r), iov_(r.iov, r.iov + (r.iov ? r.iovcnt : 0)) {}
    // The iov pointer inside stays valid while *this lives and is not modified.
    granule_request get() const noexcept
    {
        granule_request r = req_;
        r.iov = iov_.data();
        r.iovcnt = static_cast<std::uint32_t>(iov_.size());
        return r;
    }
    std::uint32_t op() const noexcept { return req_.op; }
    std::uint64_t offset() const noexcept { return req_.offset; }
    std::uint64_t length() const noexcept { return req_.length; }
    const std::vector<granule_iovec> &iov() const noexcept { return iov_; }

private:
    granule_request req_;
    std::vector<granule_iovec> iov_;
};

// A child node (filters), reached through the host's services. Every call
// completes done exactly once, also when the host lacks the service (-ENOTSUP).
class child {
public:
    child(const granule_host *host, granule_child *c) noexcept : child_(c)
    {
        // Same rule as the host applies to us: copy what it declared, zero the rest.
        if (host)
            std::memcpy(&host_, host, std::min<std::size_t>(host->struct_size, sizeof host_));
    }

    std::int64_t length() const { return host_.child_length ? host_.child_length(child_) : -ENOTSUP; }
    granule_limits limits() const
    {
        granule_limits l{};
        l.struct_size = sizeof l;
        if (host_.child_limits)
            host_.child_limits(child_, &l);
        return l;
    }
    std::uint32_t flags() const { return host_.child_flags ? host_.child_flags(child_) : 0; }

    // Passes req through as is: the host keeps req alive until done is called.
    void submit(const granule_request &req, completion done) const
    {
        if (!host_.child_submit)
            return done.fail(ENOTSUP, "host offers no child_submit");
        auto [fn, opaque] = done.release();
        int r = host_.child_submit(child_, &req, fn, opaque);
        if (r < 0)  // refused: the child will not call fn, so we must
            fn(opaque, r, "child refused the request");
    }
    // Keeps the copied request alive until the child completes it.
    void submit(owned_request req, completion done) const
    {
        struct state {
            owned_request owned;
            granule_request req;
            completion done;
        };
        auto s = std::make_unique<state>(state{std::move(req), {}, std::move(done)});
        s->req = s->owned.get();
        if (!host_.child_submit)
            return s->done.fail(ENOTSUP, "host offers no child_submit");
        auto on_done = [](void *p, std::int64_t result, const char *message) {
            std::unique_ptr<state> st(static_cast<state *>(p));
            st->done(result, message);
        };
        int r = host_.child_submit(child_, &s->req, on_done, s.get());
        if (r < 0)
            s->done(r, "child refused the request");
        else
            s.release();  // on_done owns it now
    }
    // flags: GRANULE_REQ_*, as the hooks get them (driver_abi.h, granule_host).
    void flush(completion done, std::uint32_t flags = 0) const
    {
        if (!host_.child_flush)
            return done.fail(ENOTSUP, "host offers no child_flush");
        auto [fn, opaque] = done.release();
        host_.child_flush(child_, flags, fn, opaque);
    }
    void discard(std::uint64_t offset, std::uint64_t length, completion done,
                 std::uint32_t flags = 0) const
    {
        if (!host_.child_discard)
            return done.fail(ENOTSUP, "host offers no child_discard");
        auto [fn, opaque] = done.release();
        host_.child_discard(child_, offset, length, flags, fn, opaque);
    }
    void write_zeroes(std::uint64_t offset, std::uint64_t length, completion done,
                      std::uint32_t flags = 0) const
    {
        if (!host_.child_write_zeroes)
            return done.fail(ENOTSUP, "host offers no child_write_zeroes");
        auto [fn, opaque] = done.release();
        host_.child_write_zeroes(child_, offset, length, flags, fn, opaque);
    }
    // out is the caller's (the host's) answer slot; it must outlive done.
    void block_status(std::uint64_t offset, std::uint64_t length, granule_block_status &out,
                      completion done, std::uint32_t flags = 0) const
    {
        if (!host_.child_block_status)
            return done.fail(ENOTSUP, "host offers no child_block_status");
        auto [fn, opaque] = done.release();
        host_.child_block_status(child_, offset, length, flags, &out, fn, opaque);
    }
    // Throws driver_error with the child's message.
    void truncate(std::uint64_t length) const
    {
        if (!host_.child_truncate)
            fail(ENOTSUP, "host offers no child_truncate");
        char err[256] = {};
        int r = host_.child_truncate(child_, length, err, sizeof err);
        if (r < 0)
            fail(-r, err[0] ? err : "child truncate failed");
    }

private:
    granule_host host_{};
    granule_child *child_;
};

// What open receives: options, flags and children. Valid during open only
// (the child objects may be copied and kept).
class open_context {
public:
    explicit open_context(const granule_open_args &a)
        : options_(a.options, a.n_options), flags_(a.flags)
    {
        // An older host may not have passed the later members.
        auto has = [&a](std::size_t end) { return a.struct_size >= end; };
        if (has(offsetof(granule_open_args, host) + sizeof a.host))
            host_ = a.host;
        if (has(offsetof(granule_open_args, children) + sizeof a.children) && a.children)
            for (std::uint32_t i = 0; i < a.n_children; ++i)
                children_.emplace_back(host_, a.children[i]);
    }
    const options_view &options() const noexcept { return options_; }
    std::uint32_t flags() const noexcept { return flags_; }
    bool read_only() const noexcept { return flags_ & GRANULE_OPEN_READ_ONLY; }
    // The host will call poll() when poll_fd() is readable (see driver_abi.h).
    bool host_polls() const noexcept { return flags_ & GRANULE_OPEN_HOST_POLLS; }
    // The host will call unplug() after a burst of submits.
    bool host_unplugs() const noexcept { return flags_ & GRANULE_OPEN_HOST_UNPLUGS; }
    const std::vector<child> &children() const noexcept { return children_; }
    const granule_host *host() const noexcept { return host_; }

private:
    options_view options_;
    std::uint32_t flags_;
    const granule_host *host_ = nullptr;
    std::vector<child> children_;
};

// The C entry points for T. Each one stops every exception.
template <class T>
struct thunks {
    using u64 = std::uint64_t;
    static T &self(void *s) noexcept { return *static_cast<T *>(s); }
    static const char *str(const char *s) noexcept { return s ? s : ""; }

    // Hooks that report through err/errlen: 0, or -errno with the message.
    template <class F>
    static int with_err(char *err, std::size_t errlen, F &&f) noexcept
    {
        try {
            f();
            return 0;
        } catch (...) {
            caught_error e = describe_current_exception();
            write_message(err, errlen, e.message);
            return -e.code;
        }
    }
    // Hooks that return a status or a value: -errno on exception.
    template <class F>
    static auto with_status(F &&f) noexcept -> decltype(f())
    {
        try {
            return f();
        } catch (...) {
            return -describe_current_exception().code;
        }
    }
    // Hooks that answer through a completion. If the hook throws while it still
    // holds done, done carries the error; if it had handed done on, nothing happens.
    template <class F>
    static void with_completion(granule_completion_fn cb, void *opaque, F &&f) noexcept
    {
        completion done(cb, opaque);
        try {
            f(done);
        } catch (...) {
            caught_error e = describe_current_exception();
            done(-e.code, e.message);
        }
    }

    static int open(const granule_open_args *args, granule_open_result *out, char *err,
                    std::size_t errlen) noexcept
    {
        return with_err(err, errlen, [&] {
            open_context ctx(*args);
            auto node = std::make_unique<T>(ctx);
            std::uint32_t flags = 0;
            if constexpr (requires(const T &t) { t.node_flags(); })
                flags = node->node_flags();
            out->flags = flags;
            out->state = node.release();
        });
    }
    static void close(void *s) noexcept { delete static_cast<T *>(s); }
    static std::int64_t length(void *s) noexcept
    {
        return with_status([&]() -> std::int64_t { return self(s).length(); });
    }
    static int refresh_limits(void *s, granule_limits *l, char *err, std::size_t errlen) noexcept
    {
        return with_err(err, errlen, [&] { self(s).refresh_limits(*l); });
    }
    // Errors go through the completion, which carries a message, so a request
    // that reached the driver is always "accepted".
    static int submit(void *s, const granule_request *req, granule_completion_fn cb,
                      void *opaque) noexcept
    {
        with_completion(cb, opaque, [&](completion &done) { self(s).submit(*req, done); });
        return 0;
    }
    // Hooks may take the flags (last before done) or not: the host passes only
    // flags the node declared, so a hook without them gets none.
    using f32 = std::uint32_t;
    static void flush(void *s, f32 flags, granule_completion_fn cb, void *opaque) noexcept
    {
        with_completion(cb, opaque, [&](completion &done) {
            if constexpr (requires(T &t) { t.flush(flags, done); })
                self(s).flush(flags, done);
            else
                self(s).flush(done);
        });
    }
    static void discard(void *s, u64 off, u64 len, f32 flags, granule_completion_fn cb,
                        void *opaque) noexcept
    {
        with_completion(cb, opaque, [&](completion &done) {
            if constexpr (requires(T &t) { t.discard(off, len, flags, done); })
                self(s).discard(off, len, flags, done);
            else
                self(s).discard(off, len, done);
        });
    }
    static void write_zeroes(void *s, u64 off, u64 len, f32 flags, granule_completion_fn cb,
                             void *opaque) noexcept
    {
        with_completion(cb, opaque, [&](completion &done) {
            if constexpr (requires(T &t) { t.write_zeroes(off, len, flags, done); })
                self(s).write_zeroes(off, len, flags, done);
            else
                self(s).write_zeroes(off, len, done);
        });
    }
    static void block_status(void *s, u64 off, u64 len, f32 flags, granule_block_status *out,
                             granule_completion_fn cb, void *opaque) noexcept
    {
        with_completion(cb, opaque, [&](completion &done) {
            if constexpr (requires(T &t) { t.block_status(off, len, flags, *out, done); })
                self(s).block_status(off, len, flags, *out, done);
            else
                self(s).block_status(off, len, *out, done);
        });
    }
    static int reopen(void *s, const granule_option *opts, std::uint32_t n, char *err,
                      std::size_t errlen) noexcept
    {
        return with_err(err, errlen, [&] { self(s).reopen(options_view(opts, n)); });
    }
    static int truncate(void *s, u64 len, char *err, std::size_t errlen) noexcept
    {
        return with_err(err, errlen, [&] { self(s).truncate(len); });
    }
    static void info(void *s, char *buf, std::size_t buflen) noexcept
    {
        with_err(buf, buflen, [&] { write_message(buf, buflen, self(s).info()); });
    }
    static void debug_event(void *s, const char *event, u64 off, u64 len, granule_completion_fn cb,
                            void *opaque) noexcept
    {
        with_completion(cb, opaque,
                        [&](completion &done) { self(s).debug_event(str(event), off, len, done); });
    }
    static int debug_breakpoint(void *s, const char *event, const char *tag, char *err,
                                std::size_t errlen) noexcept
    {
        return with_err(err, errlen, [&] { self(s).debug_breakpoint(str(event), str(tag)); });
    }
    static int debug_remove_breakpoint(void *s, const char *tag) noexcept
    {
        return with_status([&]() -> int { return self(s).debug_remove_breakpoint(str(tag)); });
    }
    static int debug_resume(void *s, const char *tag) noexcept
    {
        return with_status([&]() -> int { return self(s).debug_resume(str(tag)); });
    }
    static int debug_is_suspended(void *s, const char *tag) noexcept
    {
        return with_status([&]() -> int { return self(s).debug_is_suspended(str(tag)) ? 1 : 0; });
    }
    static int poll_fd(void *s) noexcept { return self(s).poll_fd(); }
    static void poll(void *s) noexcept { self(s).poll(); }
    static void unplug(void *s) noexcept { self(s).unplug(); }
};

// The driver table for T; hooks T does not define stay NULL.
template <class T>
constexpr granule_driver make_driver() noexcept
{
    using th = thunks<T>;
    using u64 = std::uint64_t;
    granule_driver d{};
    d.struct_size = sizeof(granule_driver);
    d.abi_version = GRANULE_DRIVER_ABI_VERSION;
    d.name = T::name;
    d.description = T::description;
    if constexpr (requires { T::options; }) {
        d.options = std::data(T::options);
        d.n_options = static_cast<std::uint32_t>(std::size(T::options));
    }
    if constexpr (requires { T::children; })
        d.children = T::children;
    if constexpr (requires { T::prefixes; })
        d.prefixes = T::prefixes;
    if constexpr (requires { T::claims_plain_filenames; })
        d.claims_plain_filenames = T::claims_plain_filenames ? 1 : 0;
    d.open = &th::open;
    d.close = &th::close;
    d.length = &th::length;
    d.submit = &th::submit;
    if constexpr (requires(T &t, granule_limits &l) { t.refresh_limits(l); })
        d.refresh_limits = &th::refresh_limits;
    using f32 = std::uint32_t;
    if constexpr (requires(T &t, f32 f, completion &c) { t.flush(c); } ||
                  requires(T &t, f32 f, completion &c) { t.flush(f, c); })
        d.flush = &th::flush;
    if constexpr (requires(T &t, u64 o, completion &c) { t.discard(o, o, c); } ||
                  requires(T &t, u64 o, f32 f, completion &c) { t.discard(o, o, f, c); })
        d.discard = &th::discard;
    if constexpr (requires(T &t, u64 o, completion &c) { t.write_zeroes(o, o, c); } ||
                  requires(T &t, u64 o, f32 f, completion &c) { t.write_zeroes(o, o, f, c); })
        d.write_zeroes = &th::write_zeroes;
    if constexpr (requires(T &t, u64 o, granule_block_status &b, completion &c) {
                      t.block_status(o, o, b, c);
                  } || requires(T &t, u64 o, f32 f, granule_block_status &b, completion &c) {
                      t.block_status(o, o, f, b, c);
                  })
        d.block_status = &th::block_status;
    if constexpr (requires(T &t, const options_view &o) { t.reopen(o); })
        d.reopen = &th::reopen;
    if constexpr (requires(T &t, u64 n) { t.truncate(n); })
        d.truncate = &th::truncate;
    if constexpr (requires(T &t) { t.info(); })
        d.info = &th::info;
    if constexpr (requires(T &t, std::string_view e, u64 o, completion &c) {
                      t.debug_event(e, o, o, c);
                  })
        d.debug_event = &th::debug_event;
    if constexpr (requires(T &t, std::string_view e) { t.debug_breakpoint(e, e); })
        d.debug_breakpoint = &th::debug_breakpoint;
    if constexpr (requires(T &t, std::string_view e) { t.debug_remove_breakpoint(e); })
        d.debug_remove_breakpoint = &th::debug_remove_breakpoint;
    if constexpr (requires(T &t, std::string_view e) { t.debug_resume(e); })
        d.debug_resume = &th::debug_resume;
    if constexpr (requires(T &t, std::string_view e) { t.debug_is_suspended(e); })
        d.debug_is_suspended = &th::debug_is_suspended;
    if constexpr (requires(T &t) {
                      { t.poll_fd() } noexcept;
                      { t.poll() } noexcept;
                  }) {
        d.poll_fd = &th::poll_fd;
        d.poll = &th::poll;
    }
    if constexpr (requires(T &t) {
                      { t.unplug() } noexcept;
                  })
        d.unplug = &th::unplug;
    return d;
}

// Constant-initialised: the table exists before any code of the plugin runs.
template <class T>
inline constexpr granule_driver driver_table = make_driver<T>();

}  // namespace granule::sdk

// Defines the one exported symbol, returning T's table. Use once per plugin,
// at namespace scope.
#define GRANULE_DEFINE_DRIVER(T)                                                       \
    extern "C" GRANULE_DRIVER_EXPORT const struct granule_driver *granule_driver_entry(void) \
    {                                                                                  \
        return &::granule::sdk::driver_table<T>;                                       \
    }
