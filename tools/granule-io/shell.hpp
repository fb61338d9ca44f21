// The shell's state: at most one open device, the aio requests in flight,
// and whether any command has failed (the exit status).
//
// Threads: commands run on one "command thread" (main). Blocking device calls
// run on a short-lived worker so the command thread can notice a request
// parked at a blkdebug breakpoint, which would otherwise hang the script.
// aio completions run on the device's executor and only print, set the
// failure flag and end their tracking.
#pragma once

#include "aio_tracker.hpp"
#include "output.hpp"
#include "qemu_compat.hpp"

#include <granule/device.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace granule_io {

class shell {
public:
    explicit shell(bool timing) : timing_(timing) {}
    ~shell() { close(); }
    shell(const shell &) = delete;
    shell &operator=(const shell &) = delete;

    enum class outcome { ok, failed, quit };
    // One command line: blank lines and "# comments" are ok and do nothing.
    outcome execute(std::string_view line);

    // Opens a device (the shell must have none). opts may name the image as
    // qemu-io does (qemu_compat.hpp), modes are the -f/-t/-i settings (the
    // invocation's unless open's own options changed them).
    granule::result<void> open(const granule::options &opts, bool read_only,
                               const qemu_settings &modes);
    granule::result<void> open(const granule::options &opts, bool read_only)
    {
        return open(opts, read_only, qemu_);
    }
    // qemu-io's reopen -r/-w/-c: the device opened again as it was, with
    // read_only and the cache mode changed (aio requests complete first;
    // breakpoints go with the old device).
    granule::result<void> reopen_with(std::optional<bool> read_only,
                                      std::optional<std::string_view> cache_mode);
    qemu_settings &qemu() { return qemu_; }
    // Where data buffers start past an aligned address when a command has
    // no -m (qemu-io -m: qemu_misalign).
    std::size_t default_misalign() const { return default_misalign_; }
    void set_default_misalign(std::size_t m) { default_misalign_ = m; }
    // Waits for every aio request, then destroys the device. A request
    // parked at a breakpoint is resumed (and the run marked failed), since
    // nothing else could ever resume it.
    void close();

    granule::device *dev() const { return device_.get(); }
    output &out() { return out_; }
    aio_tracker &aio() { return aio_; }
    bool timing() const { return timing_; }
    // Whether a failed command's Granule explanation follows qemu-io's
    // "<cmd> failed: <strerror>" line (on stderr): --error-detail.
    bool error_detail() const { return error_detail_; }
    void set_error_detail(bool on) { error_detail_ = on; }
    // qemu-io's failure line, prefix + strerror ("read failed: " + "Input/
    // output error"), on stdout; then, with error_detail, Granule's message
    // on stderr when it says more.
    void report_failure(std::string_view prefix, const granule::error &e);
    bool failed() const { return failed_; }
    void mark_failed() { failed_ = true; }
    void request_quit() { quit_ = true; }

    // Tags given to `break`: the only places a request can be parked, so the
    // only ones worth checking when a wait stops making progress.
    void remember_breakpoint(std::string_view tag);
    // The blkdebug lines (debug_commands.cpp): whether tag's parked request
    // is news (true once per suspension), and that it went on.
    bool note_suspended(const std::string &tag) { return announced_.insert(tag).second; }
    void note_resumed(const std::string &tag) { announced_.erase(tag); }
    std::optional<std::string> suspended_tag() const;

    // Runs fn() (a blocking device call) on a worker thread and returns its
    // result. If it is still waiting after sync_stall_limit while a request is
    // parked at a breakpoint, that request is resumed with a message (a
    // synchronous command can't be interleaved: use the aio_ commands).
    template <class F>
    auto run_blocking(std::string_view cmd, F &&fn);

    // For aio_flush: waits for every aio request. Fails (with a message, and
    // without resuming anything) if they stop completing while a request is
    // parked at a breakpoint: the script must `resume` it first.
    bool wait_aio(std::string_view cmd);

    static constexpr std::chrono::seconds sync_stall_limit{10};
    static constexpr std::chrono::seconds aio_stall_limit{1};

private:
    void rescue_stalled(std::string_view cmd);
    bool drain_aio(const std::function<bool(const std::string &tag)> &on_stall);

    output out_;
    qemu_settings qemu_;
    std::size_t default_misalign_ = 0;
    std::set<std::string> announced_;
    aio_tracker aio_;
    std::unique_ptr<granule::device> device_;
    std::vector<std::string> breakpoint_tags_;
    std::atomic<bool> failed_ = false;
    // What the current device was opened with, for reopen_with.
    granule::options opened_opts_;
    bool opened_read_only_ = false;
    qemu_settings opened_modes_;
    bool timing_;
    bool error_detail_ = false;
    bool quit_ = false;
};

template <class F>
auto shell::run_blocking(std::string_view cmd, F &&fn)
{
    auto task = std::async(std::launch::async, std::forward<F>(fn));
    auto since = std::chrono::steady_clock::now();
    while (task.wait_for(std::chrono::milliseconds(10)) != std::future_status::ready) {
        if (std::chrono::steady_clock::now() - since >= sync_stall_limit) {
            rescue_stalled(cmd);
            since = std::chrono::steady_clock::now();
        }
    }
    return task.get();
}

}  // namespace granule_io
