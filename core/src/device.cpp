// The public face of the device: opening, the synchronous wrappers, and
// the executor thread.
#include "backing.hpp"
#include "device_impl.hpp"
#include "format_guard.hpp"

#include <granule/platform/system_error.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_future.hpp>

#include <cerrno>

namespace granule {

namespace asio = boost::asio;

stats atomic_stats::snapshot() const
{
    stats s;
#define GRANULE_SNAPSHOT_(name) s.name = name.load(std::memory_order_relaxed);
    GRANULE_STATS_FIELDS(GRANULE_SNAPSHOT_)
#undef GRANULE_SNAPSHOT_
    return s;
}

void atomic_stats::reset()
{
#define GRANULE_RESET_(name) name.store(0, std::memory_order_relaxed);
    GRANULE_STATS_FIELDS(GRANULE_RESET_)
#undef GRANULE_RESET_
}

device_impl::device_impl(std::unique_ptr<node> root, const throttle_config &throttling,
                         backing_node backing)
    : work_(ctx_.get_executor()), root_(std::move(root)), backing_(std::move(backing))
{
    configure_throttle(throttling);
    debug_node_ = root_->debug_node();
    if (!debug_node_ && backing_.n)
        debug_node_ = backing_.n->debug_node();
    refresh_limits();
    auto len = visible_length();
    length_.store(len > 0 ? static_cast<std::uint64_t>(len) : 0);
    collect_driver_hooks(*root_);
    root_->set_submit_hook([this] { schedule_unplug(); });
    if (backing_.n) {
        collect_driver_hooks(*backing_.n);
        backing_.n->set_submit_hook([this] { schedule_unplug(); });
    }
    for (std::size_t i = 0; i < polls_.size(); ++i)
        arm(i);
    thread_ = std::thread([this] { ctx_.run(); });
}

void device_impl::schedule_unplug()
{
    if (unplug_nodes_.empty() || unplug_scheduled_)
        return;
    unplug_scheduled_ = true;
    boost::asio::post(ctx_, [this] {
        unplug_scheduled_ = false;
        for (auto *n : unplug_nodes_)
            n->driver().unplug(n->state());
    });
}

void device_impl::collect_driver_hooks(node &n)
{
    const auto &d = n.driver();
    if (d.unplug)
        unplug_nodes_.push_back(&n);
    if (d.poll_fd && d.poll && platform::readiness_watch::available()) {
        int fd = d.poll_fd(n.state());
        if (fd >= 0)
            polls_.push_back({&n, std::make_unique<platform::readiness_watch>(executor(), fd)});
    }
    for (const auto &c : n.children())
        collect_driver_hooks(*c);
}

// Completions run inline on this thread: no completion thread, no hand-off.
void device_impl::arm(std::size_t i)
{
    polls_[i].watch->async_wait([this, i](std::error_code ec) {
        if (ec)
            return;  // cancelled: the device is closing
        polls_[i].n->driver().poll(polls_[i].n->state());
        arm(i);
    });
}

void device_impl::stop_polls()
{
    for (auto &p : polls_)
        p.watch->cancel();
}

device_impl::~device_impl()
{
    // A request suspended at a forgotten breakpoint would never drain.
    if (debug_node_ && debug_node_->driver().debug_remove_breakpoint) {
        auto *n = debug_node_;
        boost::asio::post(ctx_, [n] { n->driver().debug_remove_breakpoint(n->state(), "*"); });
    }
    // The poll watches never end by themselves: stop them once no driver
    // call is left (at once, or when the last one completes).
    boost::asio::post(ctx_, [this] {
        closing_ = true;
        lift_throttle();  // a closing device does not keep its callers waiting
        if (driver_calls_ == 0)
            stop_polls();
    });
    // run() returns once no request is in flight: each driver call holds work.
    work_.reset();
    thread_.join();
    root_.reset();
    backing_.n.reset();
}

namespace {

bool in_device_thread(device_impl &impl)
{
    return impl.executor().target<asio::io_context::executor_type>()->running_in_this_thread();
}

// Blocks the calling thread until the coroutine ran on the device executor.
template <class T>
result<T> run_sync(device_impl &impl, asio::awaitable<result<T>> op)
{
    if (in_device_thread(impl))
        return make_error(EDEADLK, "synchronous call on the device's own thread would deadlock; "
                                   "use the async_* functions there");
    return asio::co_spawn(impl.executor(), std::move(op), asio::use_future).get();
}

}  // namespace

result<std::unique_ptr<device>> device::open(std::string_view spec, open_flags flags)
{
    if (spec.empty())
        return make_error(EINVAL, "empty device specification");
    if (looks_like_options(spec)) {
        auto opts = parse_options(spec);
        if (!opts)
            return opts.error();
        return open(*opts, flags);
    }
    return open(options{{"filename", std::string(spec)}}, flags);
}

result<std::unique_ptr<device>> device::open(const options &opts, open_flags flags)
{
    options node_opts = opts;
    // format, throttle.* and backing.* keys are the core's, never a driver's.
    auto given_raw = take_format_option(node_opts);
    if (!given_raw)
        return given_raw.error();
    auto throttling = parse_throttle(take_sub_options(node_opts, "throttle"));
    if (!throttling)
        return throttling.error();
    auto backing_opts = take_backing_options(node_opts);
    if (!backing_opts)
        return backing_opts.error();
    auto root = node::open(node_opts, flags.read_only);
    if (!root)
        return root.error();
    auto len = (*root)->length();
    if (len < 0)
        return make_error(static_cast<int>(-len), std::string((*root)->driver().name) +
                                                      ": cannot get length: " +
                                                      platform::error_text(static_cast<int>(-len)));
    auto backing = open_backing(*backing_opts, **root, flags.read_only);
    if (!backing)
        return backing.error();
    auto subject = image_subject(**root);
    auto impl = std::make_unique<device_impl>(std::move(*root), *throttling, std::move(*backing));
    // Also read-only: granule-img info names the format, convert refuses a
    // container as its source.
    if (auto r = run_sync(*impl, impl->probe_format(*given_raw, std::move(subject))); !r)
        return r.error();
    return std::unique_ptr<device>(new device(std::move(impl)));
}

device::device(std::unique_ptr<device_impl> impl) : impl_(std::move(impl)) {}
device::~device() = default;

asio::any_io_executor device::get_executor() const { return impl_->executor(); }

asio::awaitable<result<std::size_t>> device::co_preadv(std::uint64_t offset,
                                                       std::vector<io_buffer> iov)
{
    co_return co_await impl_->preadv(offset, iov);
}

asio::awaitable<result<std::size_t>> device::co_pwritev(std::uint64_t offset,
                                                        std::vector<io_buffer> iov,
                                                        request_flags flags)
{
    co_return co_await impl_->pwritev(offset, iov, flags);
}

asio::awaitable<result<void>> device::co_flush() { co_return co_await impl_->flush(); }
asio::awaitable<result<void>> device::co_pdiscard(std::uint64_t offset, std::uint64_t len)
{
    co_return co_await impl_->pdiscard(offset, len);
}
asio::awaitable<result<void>> device::co_pwrite_zeroes(std::uint64_t offset, std::uint64_t len,
                                                       request_flags flags)
{
    co_return co_await impl_->pwrite_zeroes(offset, len, flags);
}
asio::awaitable<result<block_extent>> device::co_block_status(std::uint64_t offset,
                                                              std::uint64_t len)
{
    co_return co_await impl_->block_status(offset, len);
}

result<std::size_t> device::preadv(std::uint64_t offset, std::span<const io_buffer> iov)
{
    return run_sync(*impl_, impl_->preadv(offset, iov));
}

result<std::size_t> device::pwritev(std::uint64_t offset, std::span<const io_buffer> iov,
                                    request_flags flags)
{
    return run_sync(*impl_, impl_->pwritev(offset, iov, flags));
}

result<std::size_t> device::pread(std::uint64_t offset, void *buf, std::size_t len)
{
    io_buffer b{buf, len};
    return preadv(offset, {&b, 1});
}

result<std::size_t> device::pwrite(std::uint64_t offset, const void *buf, std::size_t len,
                                   request_flags flags)
{
    // The write path never modifies the caller's buffer.
    io_buffer b{const_cast<void *>(buf), len};
    return pwritev(offset, {&b, 1}, flags);
}

result<void> device::flush() { return run_sync(*impl_, impl_->flush()); }
result<void> device::pdiscard(std::uint64_t offset, std::uint64_t len)
{
    return run_sync(*impl_, impl_->pdiscard(offset, len));
}
result<void> device::pwrite_zeroes(std::uint64_t offset, std::uint64_t len, request_flags flags)
{
    return run_sync(*impl_, impl_->pwrite_zeroes(offset, len, flags));
}
result<void> device::truncate(std::uint64_t len) { return run_sync(*impl_, impl_->truncate(len)); }
result<block_extent> device::block_status(std::uint64_t offset, std::uint64_t len)
{
    return run_sync(*impl_, impl_->block_status(offset, len));
}
result<void> device::reopen(const options &changes)
{
    return run_sync(*impl_, impl_->reopen(changes));
}

namespace {

// Debug hooks run on the device's executor, like the requests they resume.
template <class F>
auto on_device(device_impl &impl, F f) -> decltype(f())
{
    using T = decltype(f());
    return asio::co_spawn(
               impl.executor(), [f = std::move(f)]() mutable -> asio::awaitable<T> { co_return f(); },
               asio::use_future)
        .get();
}

// What reopen and truncate change (limits, node flags, the tree's info) is
// the device thread's: queries from other threads hop there (issue 9: they
// read it while a reopen wrote it); the device thread reads it directly.
template <class F>
auto on_device_thread(device_impl &impl, F f) -> decltype(f())
{
    if (in_device_thread(impl))
        return f();
    return on_device(impl, std::move(f));
}

}  // namespace

std::uint64_t device::length() const { return impl_->length(); }
const format_decision &device::format_probe() const { return impl_->format(); }
bool device::read_only() const
{
    return on_device_thread(*impl_, [this] { return impl_->read_only(); });
}
bool device::growable() const
{
    return on_device_thread(*impl_, [this] { return impl_->growable(); });
}
limits device::get_limits() const
{
    return on_device_thread(*impl_, [this] { return impl_->lim(); });
}
stats device::get_stats() const { return impl_->counters.snapshot(); }
void device::reset_stats() { impl_->counters.reset(); }

device_description device::description() const
{
    return on_device_thread(*impl_, [this] {
        device_description d;
        d.root = impl_->root().description("");
        if (const auto &b = impl_->backing(); b.n) {
            d.backing = b.n->description("backing");
            d.copy_on_read = b.copy_on_read;
            d.overlay_granularity = b.granularity;
        }
        d.throttle = impl_->throttle_settings();
        return d;
    });
}

namespace {

void describe_node(std::string &out, const node_description &n, int depth)
{
    std::string indent(static_cast<std::size_t>(depth) * 2, ' ');
    out += indent + (n.name.empty() ? "" : n.name + ": ") + n.driver;
    if (!n.own_options.empty())
        out += " (" + format_options(n.own_options) + ")";
    out += "\n";
    for (const auto &line : n.info)
        out += indent + "  " + line + "\n";
    for (const auto &c : n.children)
        describe_node(out, c, depth + 1);
}

}  // namespace

std::string device::describe() const
{
    const device_description d = description();
    std::string out;
    describe_node(out, d.root, 0);
    if (d.backing) {
        describe_node(out, *d.backing, 0);
        out += std::string("copy-on-read: ") + (d.copy_on_read ? "on" : "off") +
               " (overlay-granularity " + std::to_string(d.overlay_granularity) + ")\n";
    }
    if (!d.throttle.empty()) {
        out += "throttle: ";
        for (std::size_t i = 0; i < d.throttle.size(); ++i)
            out += (i ? "," : "") + d.throttle[i].first + "=" + std::to_string(d.throttle[i].second);
        out += "\n";
    }
    return out;
}

namespace {

result<void> debug_call(device_impl &impl, const char *what, std::string_view tag,
                        int (*call)(void *, const char *))
{
    node *n = impl.debug_node();
    if (!n || !call)
        return make_error(ENOTSUP, std::string(what) + ": no node in this device supports "
                                                       "breakpoints (use driver=blkdebug)");
    std::string t(tag);
    int rc = on_device(impl, [&] { return call(n->state(), t.c_str()); });
    if (rc < 0)
        return make_error(-rc, std::string(what) + " '" + t + "': " +
                                   (rc == -ENOENT ? "no such breakpoint or suspended request"
                                                  : platform::error_text(-rc)));
    return {};
}

}  // namespace

result<void> device::debug_breakpoint(std::string_view event, std::string_view tag)
{
    node *n = impl_->debug_node();
    if (!n || !n->driver().debug_breakpoint)
        return make_error(ENOTSUP, "break: no node in this device supports breakpoints "
                                   "(use driver=blkdebug)");
    std::string e(event), t(tag);
    char err[256] = "";
    int rc = on_device(*impl_, [&] {
        return n->driver().debug_breakpoint(n->state(), e.c_str(), t.c_str(), err, sizeof err);
    });
    if (rc < 0)
        return make_error(-rc, "break " + e + " " + t + ": " +
                                   (*err ? std::string(err) : platform::error_text(-rc)));
    return {};
}

result<void> device::debug_remove_breakpoint(std::string_view tag)
{
    node *n = impl_->debug_node();
    return debug_call(*impl_, "remove_break", tag, n ? n->driver().debug_remove_breakpoint : nullptr);
}

result<void> device::debug_resume(std::string_view tag)
{
    node *n = impl_->debug_node();
    return debug_call(*impl_, "resume", tag, n ? n->driver().debug_resume : nullptr);
}

bool device::debug_is_suspended(std::string_view tag)
{
    node *n = impl_->debug_node();
    if (!n || !n->driver().debug_is_suspended)
        return false;
    std::string t(tag);
    return on_device(*impl_, [&] { return n->driver().debug_is_suspended(n->state(), t.c_str()); }) > 0;
}

void device::lift_throttle()
{
    on_device(*impl_, [this] {
        impl_->lift_throttle();
        return 0;
    });
}

}  // namespace granule
