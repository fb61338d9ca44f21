#include "session.hpp"

#include <granule/platform/system_error.hpp>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <ctime>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace granule_iscsi {

using granule::platform::error_text;
using granule::sdk::driver_error;
using granule::sdk::fail;

namespace {

constexpr int max_unit_attention_retries = 8;

// libiscsi reports login failures as "Failed to log in to target. Status:
// <text>(<class << 8 | detail>)": returns the code (-1 if absent) and
// rewrites text to "<text> (iSCSI login status 0x0201)".
int login_status(std::string &text)
{
    auto status = text.find("Status: ");
    auto open = text.rfind('(');
    if (status == std::string::npos || open == std::string::npos || open < status)
        return -1;
    int code = -1;
    if (std::sscanf(text.c_str() + open, "(%d)", &code) != 1)
        return -1;
    char hex[16];
    std::snprintf(hex, sizeof hex, "0x%04x", static_cast<unsigned>(code));
    text = text.substr(status + 8, open - status - 8) + " (iSCSI login status " + hex + ")";
    return code;
}

}  // namespace

session::sigpipe_guard::sigpipe_guard()
{
    sigset_t pipe, old, pending;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, &old);
    was_blocked_ = sigismember(&old, SIGPIPE) == 1;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
}

session::sigpipe_guard::~sigpipe_guard()
{
    if (was_blocked_)
        return;
    sigset_t pipe, pending;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    sigpending(&pending);
    if (!was_pending_ && sigismember(&pending, SIGPIPE) == 1) {
        timespec zero{};
        sigtimedwait(&pipe, nullptr, &zero);
    }
    pthread_sigmask(SIG_UNBLOCK, &pipe, nullptr);
}

session::session(const target_config &cfg, waker w) : cfg_(cfg), waker_(w)
{
    ctx_ = iscsi_create_context(cfg_.initiator.c_str());
    if (!ctx_)
        fail(ENOMEM, "cannot create an iSCSI context for " + cfg_.where());
    // No automatic reconnect: libiscsi would replay the commands in flight on
    // the new connection, executing a write twice behind our back. With it
    // off, a broken connection cancels them; the event loop reconnects.
    iscsi_set_noautoreconnect(ctx_, 1);
    if (iscsi_set_targetname(ctx_, cfg_.target.c_str()) != 0 ||
        iscsi_set_session_type(ctx_, ISCSI_SESSION_NORMAL) != 0 ||
        iscsi_set_header_digest(ctx_, cfg_.digest) != 0)
        fail(EINVAL, "cannot configure the iSCSI context for " + cfg_.where() + ": " +
                         iscsi_get_error(ctx_));
    if (!cfg_.user.empty() &&
        iscsi_set_initiator_username_pwd(ctx_, cfg_.user.c_str(), cfg_.password.c_str()) != 0)
        fail(EINVAL, "cannot set CHAP user '" + cfg_.user + "' for " + cfg_.where());
}

session::~session()
{
    if (ctx_)
        iscsi_destroy_context(ctx_);
    if (step_task_)
        scsi_free_scsi_task(step_task_);
}

std::unique_ptr<session> session::open(const target_config &cfg, waker w)
{
    sigpipe_guard guard;
    std::unique_ptr<session> s(new session(cfg, w));
    s->connect_and_login();
    s->check_lun();
    return s;
}

session::clock::time_point session::deadline() const
{
    if (cfg_.timeout_s == 0)
        return clock::time_point::max();
    return clock::now() + std::chrono::seconds(cfg_.timeout_s);
}

void session::on_connect(iscsi_context *, int status, void *, void *self)
{
    auto *s = static_cast<session *>(self);
    if (s->connecting_) {
        s->connecting_ = false;
        s->step_status_ = status;
        s->step_done_ = true;
    } else {
        s->lost_ = true;  // libiscsi calls again when the connection breaks
    }
}

void session::on_login(iscsi_context *, int status, void *, void *self)
{
    auto *s = static_cast<session *>(self);
    s->step_status_ = status;
    s->step_done_ = true;
}

void session::on_task(iscsi_context *, int status, void *task, void *self)
{
    auto *s = static_cast<session *>(self);
    s->step_status_ = status;
    s->step_task_ = static_cast<scsi_task *>(task);
    s->step_done_ = true;
}

void session::connect_and_login()
{
    step_done_ = false;
    connecting_ = true;
    if (iscsi_connect_async(ctx_, cfg_.portal.c_str(), on_connect, this) != 0) {
        connecting_ = false;
        fail(EHOSTUNREACH, "cannot connect to " + cfg_.where() + ": " + iscsi_get_error(ctx_));
    }
    drive(step_done_, "connect", deadline());
    if (step_status_ != SCSI_STATUS_GOOD)
        fail(ECONNREFUSED, "cannot connect to " + cfg_.where() + ": " + iscsi_get_error(ctx_));
    connected_ = true;

    step_done_ = false;
    if (iscsi_login_async(ctx_, on_login, this) != 0)
        fail(EIO, "login to " + cfg_.where() + " failed: " + iscsi_get_error(ctx_));
    drive(step_done_, "login", deadline());
    if (step_status_ == SCSI_STATUS_GOOD)
        return;
    std::string text = iscsi_get_error(ctx_);
    switch (login_status(text)) {
    case 0x0201:  // authentication failure
        fail(EACCES, "login to " + cfg_.where() + " failed: " + text +
                         (cfg_.user.empty() ? ": the target wants CHAP (give 'user' and "
                                              "'password-file')"
                                            : ": check 'user' and 'password-file'"));
    case 0x0202:  // authorization failure
        fail(EACCES, "login to " + cfg_.where() + " failed: " + text + ": initiator '" +
                         cfg_.initiator + "' is not allowed");
    case 0x0203:  // not found
    case 0x0204:  // target removed
        fail(ENOENT, "login to " + cfg_.where() + " failed: " + text + ": no target named '" +
                         cfg_.target + "' at " + cfg_.portal);
    default:
        fail(EIO, "login to " + cfg_.where() + " failed: " + text);
    }
}

void session::check_lun()
{
    // A fresh login reports UNIT ATTENTION (power on / bus reset) once or twice.
    for (int attempt = 0;; ++attempt) {
        auto t = run("TEST UNIT READY", [&](iscsi_context *c, iscsi_command_cb cb, void *p) {
            return iscsi_testunitready_task(c, cfg_.lun, cb, p);
        });
        if (t->status == SCSI_STATUS_GOOD)
            return;
        if (status_retryable(t->status, t.get()) && attempt < max_unit_attention_retries)
            continue;
        int e = status_errno(t->status, t.get());
        if (e == ENXIO)
            fail(ENXIO, "no such LUN: " + cfg_.where() + " (target answers " +
                            status_text(t->status, t.get()) + ")");
        fail(e, "LUN not ready: " + cfg_.where() + ": TEST UNIT READY: " +
                    status_text(t->status, t.get()));
    }
}

task_ptr session::run(const char *what, const start_fn &start)
{
    sigpipe_guard guard;
    if (!ctx_)
        fail(ENOTCONN, std::string(what) + ": not connected to " + cfg_.where());
    step_done_ = false;
    step_task_ = nullptr;
    if (!start(ctx_, on_task, this))
        fail(EIO, std::string(what) + " to " + cfg_.where() + ": " + iscsi_get_error(ctx_));
    drive(step_done_, what, deadline());
    task_ptr t(std::exchange(step_task_, nullptr));
    if (!t)
        fail(EIO, std::string(what) + " to " + cfg_.where() + ": no task returned");
    if (t->status == SCSI_STATUS_CANCELLED || t->status == SCSI_STATUS_ERROR ||
        t->status == SCSI_STATUS_TIMEOUT)
        fail(status_errno(t->status, t.get()), std::string(what) + " to " + cfg_.where() +
                                                   ": " + status_text(t->status, t.get()) +
                                                   ": " + iscsi_get_error(ctx_));
    return t;
}

void session::drive(const bool &done, const std::string &what, clock::time_point until)
{
    while (!done) {
        if (waker_.stop && waker_.stop->load())
            fail(ECANCELED, what + " to " + cfg_.where() + ": the node is closing");
        auto now = clock::now();
        if (now >= until)
            fail(ETIMEDOUT, what + ": no answer from " + cfg_.where() + " within " +
                                std::to_string(cfg_.timeout_s) + " s");
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count();
        int wait_ms = static_cast<int>(std::clamp<long long>(left + 1, 1, 1000));
        pollfd p[2] = {{iscsi_get_fd(ctx_), static_cast<short>(iscsi_which_events(ctx_)), 0},
                       {waker_.fd, POLLIN, 0}};
        int n = poll(p, waker_.fd >= 0 ? 2 : 1, wait_ms);
        if (n < 0 && errno != EINTR)
            fail(errno, what + ": poll: " + error_text(errno));
        if (n <= 0)
            continue;
        if (waker_.fd >= 0 && (p[1].revents & POLLIN)) {
            std::uint64_t drain;
            [[maybe_unused]] auto r = ::read(waker_.fd, &drain, sizeof drain);
            if (waker_.stop && waker_.stop->load())
                fail(ECANCELED, what + " to " + cfg_.where() + ": the node is closing");
        }
        short rev = p[0].revents;
        if (!rev)
            continue;
        if (connecting_ && (rev & (POLLERR | POLLHUP))) {
            // libiscsi's own text for this is "Can not reconnect right now":
            // the socket knows the real reason.
            int err = 0;
            socklen_t len = sizeof err;
            getsockopt(p[0].fd, SOL_SOCKET, SO_ERROR, &err, &len);
            if (err)
                fail(err, "cannot connect to " + cfg_.where() + ": " + error_text(err));
        }
        if (iscsi_service(ctx_, rev) < 0 && !done)
            fail(connected_ ? ECONNRESET : ECONNREFUSED,
                 what + " to " + cfg_.where() + " failed: " + iscsi_get_error(ctx_));
        if (lost_ && !done)
            fail(ECONNRESET, what + " to " + cfg_.where() + ": connection lost");
    }
}

void session::logout() noexcept
{
    if (!ctx_ || !iscsi_is_logged_in(ctx_))
        return;
    try {
        sigpipe_guard guard;
        step_done_ = false;
        if (iscsi_logout_async(ctx_, on_login, this) != 0)
            return;
        drive(step_done_, "logout", clock::now() + std::chrono::seconds(1));
    } catch (...) {
        // The target may be gone: closing the socket is enough.
    }
}

}  // namespace granule_iscsi
