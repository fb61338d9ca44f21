// blkdebug: a filter over child "image" that forces limits, injects errors and
// suspends requests at named events, so tests can reproduce races (QEMU's
// blkdebug, iotest 077) and alignment corner cases on any backend.
#include "config_file.hpp"

#include <granule/driver.hpp>

#include <cstring>
#include <functional>
#include <map>
#include <mutex>

namespace {

using namespace granule::sdk;
using std::uint64_t;

constexpr std::string_view known_events[] = {
    // raised by blkdebug itself
    "read_aio", "write_aio", "flush_to_disk", "discard", "write_zeroes",
    // raised by the host through debug_event
    "pwritev_rmw_head", "pwritev_rmw_after_head", "pwritev_rmw_tail", "pwritev_rmw_after_tail",
    "pwritev", "pwritev_done"};

constexpr std::string_view inject_prefix = "inject-error.";

bool is_known_event(std::string_view e)
{
    return std::find(std::begin(known_events), std::end(known_events), e) !=
           std::end(known_events);
}

std::string known_event_list()
{
    std::string s;
    for (auto e : known_events)
        s += (s.empty() ? "" : ", ") + std::string(e);
    return s;
}

struct rule {
    std::string key;  // "inject-error.3", for messages
    std::string event;
    int error = EIO;
    bool once = false;
    std::optional<uint64_t> offset, length;

    // A rule with a range only matches events that carry an overlapping one;
    // offset alone means "the request covers this byte".
    bool matches(std::string_view e, uint64_t off, uint64_t len) const
    {
        if (e != event)
            return false;
        if (!offset && !length)
            return true;
        uint64_t start = offset.value_or(0);
        uint64_t end = length ? start + *length : (offset ? start + 1 : UINT64_MAX);
        return len > 0 && off < end && start < off + len;
    }
};

// inject-error.<N>.<field> keys, grouped by N in numeric order.
std::map<uint64_t, rule> parse_rules(const options_view &opts)
{
    std::map<uint64_t, rule> rules;
    for (const auto &o : opts) {
        std::string_view key = o.key, value = o.value ? o.value : "";
        if (!key.starts_with(inject_prefix))
            continue;
        auto rest = key.substr(inject_prefix.size());
        auto dot = rest.find('.');
        auto id = parse_size(rest.substr(0, dot));
        bool digits = dot != 0 && dot != std::string_view::npos &&
                      rest.substr(0, dot).find_first_not_of("0123456789") == std::string_view::npos;
        if (!digits || !id)
            fail(EINVAL, "option '" + std::string(key) +
                             "' must look like inject-error.<N>.<field>");
        auto field = rest.substr(dot + 1);
        rule &r = rules[*id];
        r.key = std::string(inject_prefix) + std::string(rest.substr(0, dot));
        auto bad = [&](const char *what) {
            fail(EINVAL, "option '" + std::string(key) + "': '" + std::string(value) +
                             "' " + what);
        };
        if (field == "event") {
            if (!is_known_event(value))
                bad(("is not an event (known: " + known_event_list() + ")").c_str());
            r.event = value;
        } else if (field == "errno") {
            auto n = parse_size(value);
            if (!n || *n == 0 || *n > 4095)
                bad("is not an errno number (1-4095)");
            r.error = static_cast<int>(*n);
        } else if (field == "once") {
            auto b = parse_bool(value);
            if (!b)
                bad("is not on/off");
            r.once = *b;
        } else if (field == "offset" || field == "length") {
            auto n = parse_size(value);
            if (!n)
                bad("is not a size");
            (field == "offset" ? r.offset : r.length) = *n;
        } else {
            fail(EINVAL, "unknown option '" + std::string(key) +
                             "' (fields: event, errno, once, offset, length)");
        }
    }
    for (const auto &[id, r] : rules)
        if (r.event.empty())
            fail(EINVAL, "option '" + r.key + ".event' is required");
    return rules;
}

class blkdebug_node {
public:
    static constexpr const char *name = "blkdebug";
    static constexpr const char *description =
        "filter forcing limits, injecting errors and suspending requests (tests)";
    static constexpr const char *const children[] = {"image", nullptr};
    static constexpr granule_option_desc options[] = {
        {"align", GRANULE_OPT_SIZE, 0, "request_alignment to force (default: the child's)"},
        {"max-transfer", GRANULE_OPT_SIZE, 0, "max_transfer to force (default: the child's)"},
        {"mem-align", GRANULE_OPT_SIZE, 0, "min_mem_alignment to force (default: the child's)"},
        {"inject-error.", GRANULE_OPT_STRING, GRANULE_OPTF_PREFIX,
         "inject-error.<N>.{event,errno,once,offset,length}: fail requests at an event"},
        {"config", GRANULE_OPT_STRING, 0,
         "a qemu blkdebug config file: its [inject-error] sections are rules too"},
    };

    explicit blkdebug_node(const open_context &ctx)
    {
        if (ctx.children().empty())
            fail(EINVAL, "child 'image' is missing");
        image_.emplace(ctx.children().front());
        apply(ctx.options());
    }

    // The child's flags, FUA and zeroing flags included: they pass through.
    uint32_t node_flags() const { return image_->flags(); }
    int64_t length() { return image_->length(); }

    void refresh_limits(granule_limits &l)
    {
        // Raise only; the host rejects non-powers of two with its own message.
        // An option left at 1 is no requirement: the child's value stays.
        if (align_ > 1)
            granule_limit_raise(&l.request_alignment, align_, "option align");
        if (mem_align_ > 1) {
            granule_limit_raise(&l.min_mem_alignment, mem_align_, "option mem-align");
            granule_limit_raise(&l.opt_mem_alignment, mem_align_, "option mem-align");
        }
        granule_limit_cap(&l.max_transfer, max_transfer_, "option max-transfer");
    }

    void submit(const granule_request &req, completion &done)
    {
        // The forced limits are checked here too: the child may be lenient
        // (buffered raw-posix), and a test forcing them wants proof.
        if (auto why = check(req); !why.empty())
            return done.fail(EINVAL, why);
        const char *event = req.op == GRANULE_OP_READ ? "read_aio" : "write_aio";
        // A copy: a suspended request outlives this call.
        raise(event, req.offset, req.length, std::move(done),
              [image = *image_, owned = owned_request(req)](completion d) {
                  image.submit(owned, std::move(d));
              });
    }

    void flush(completion &done)
    {
        raise("flush_to_disk", 0, 0, std::move(done),
              [image = *image_](completion d) { image.flush(std::move(d)); });
    }
    void discard(uint64_t off, uint64_t len, completion &done)
    {
        raise("discard", off, len, std::move(done),
              [image = *image_, off, len](completion d) { image.discard(off, len, std::move(d)); });
    }
    void write_zeroes(uint64_t off, uint64_t len, uint32_t flags, completion &done)
    {
        raise("write_zeroes", off, len, std::move(done),
              [image = *image_, off, len, flags](completion d) {
                  image.write_zeroes(off, len, std::move(d), flags);
              });
    }
    void block_status(uint64_t off, uint64_t len, granule_block_status &out, completion &done)
    {
        image_->block_status(off, len, out, std::move(done));
    }
    void truncate(uint64_t len) { image_->truncate(len); }
    void reopen(const options_view &o) { apply(o); }

    void debug_event(std::string_view event, uint64_t off, uint64_t len, completion &done)
    {
        raise(event, off, len, std::move(done), [](completion d) { d(0); });
    }

    void debug_breakpoint(std::string_view event, std::string_view tag)
    {
        // ENOENT, as qemu's blkdebug: no event of that name.
        if (!is_known_event(event))
            fail(ENOENT, "unknown event '" + std::string(event) +
                             "' (known: " + known_event_list() + ")");
        if (tag.empty())
            fail(EINVAL, "a breakpoint needs a tag");
        std::lock_guard lock(mutex_);
        breakpoints_.push_back({std::string(event), std::string(tag)});
    }

    // Removes the breakpoints with tag and resumes every request they suspended.
    int debug_remove_breakpoint(std::string_view tag)
    {
        std::vector<suspended> woken;
        bool found = false;
        {
            std::lock_guard lock(mutex_);
            found = std::erase_if(breakpoints_, [&](const auto &b) { return matches(b.tag, tag); }) > 0;
            woken = take_suspended(tag, SIZE_MAX);
        }
        found = found || !woken.empty();
        for (auto &s : woken)
            s.next(std::move(s.done));
        return found ? 0 : -ENOENT;
    }

    // Resumes the oldest request suspended with tag.
    int debug_resume(std::string_view tag)
    {
        std::vector<suspended> woken;
        {
            std::lock_guard lock(mutex_);
            woken = take_suspended(tag, 1);
        }
        if (woken.empty())
            return -ENOENT;
        woken.front().next(std::move(woken.front().done));
        return 0;
    }

    bool debug_is_suspended(std::string_view tag)
    {
        std::lock_guard lock(mutex_);
        return std::any_of(suspended_.begin(), suspended_.end(),
                           [&](const auto &s) { return s.tag == tag; });
    }

    std::string info()
    {
        std::lock_guard lock(mutex_);
        std::string s = "blkdebug: align " + (align_ > 1 ? std::to_string(align_) : "inherited");
        s += ", breakpoints:";
        for (const auto &b : breakpoints_)
            s += " " + b.tag + "@" + b.event;
        if (breakpoints_.empty())
            s += " none";
        s += ", suspended:";
        for (const auto &r : suspended_)
            s += " " + r.tag + "@" + r.event;
        if (suspended_.empty())
            s += " none";
        return s;
    }

private:
    using continuation = std::function<void(completion)>;
    struct breakpoint {
        std::string event, tag;
    };
    struct suspended {
        std::string tag, event;
        completion done;
        continuation next;
    };

    void apply(const options_view &given)
    {
        // config='s rules join the options' ones, numbered after them.
        std::vector<std::pair<std::string, std::string>> from_file;
        std::vector<granule_option> merged(given.begin(), given.end());
        if (auto path = given.find("config")) {
            const auto options_rules = parse_rules(given);
            const auto first = options_rules.empty() ? 0 : options_rules.rbegin()->first + 1;
            from_file = blkdebug_config::read_rules(std::string(*path), first);
            for (const auto &[key, value] : from_file)
                merged.push_back(granule_option{key.c_str(), value.c_str()});
        }
        const options_view o(merged.data(), static_cast<std::uint32_t>(merged.size()));
        auto rules = parse_rules(o);
        uint64_t align = std::max<uint64_t>(1, o.get_size("align", align_));
        uint64_t mem_align = std::max<uint64_t>(1, o.get_size("mem-align", mem_align_));
        uint64_t max_transfer = o.get_size("max-transfer", max_transfer_);
        std::lock_guard lock(mutex_);
        align_ = align;
        mem_align_ = mem_align;
        max_transfer_ = max_transfer;
        bool has_rules = std::any_of(o.begin(), o.end(), [](const granule_option &x) {
            return std::string_view(x.key).starts_with(inject_prefix);
        });
        if (has_rules || rules_.empty())
            rules_ = std::move(rules);
    }

    std::string check(const granule_request &req) const
    {
        auto at = [&] {
            return "blkdebug: " + std::string(req.op == GRANULE_OP_READ ? "read" : "write") +
                   " offset " + std::to_string(req.offset) + " length " +
                   std::to_string(req.length) + ": ";
        };
        // The ABI lets a request end exactly at the end of a node whose length
        // is not a multiple of the alignment (the last block is partial).
        bool at_end = static_cast<int64_t>(req.offset + req.length) == image_->length();
        if (req.offset % align_ || (req.length % align_ && !at_end))
            return at() + "not a multiple of align " + std::to_string(align_);
        if (max_transfer_ && req.length > max_transfer_)
            return at() + "exceeds max-transfer " + std::to_string(max_transfer_);
        // There the last iovec ends unaligned too: the lengths add up.
        for (uint32_t i = 0; i < req.iovcnt; ++i)
            if (reinterpret_cast<std::uintptr_t>(req.iov[i].base) % mem_align_ ||
                (req.iov[i].len % mem_align_ && !(at_end && i + 1 == req.iovcnt)))
                return at() + "iovec[" + std::to_string(i) + "] is not a multiple of mem-align " +
                       std::to_string(mem_align_);
        return {};
    }

    // Injection first, then breakpoints, else go on now. Neither the child nor
    // a completion is ever called with mutex_ held: both may re-enter us.
    void raise(std::string_view event, uint64_t off, uint64_t len, completion done,
               continuation next)
    {
        std::unique_lock lock(mutex_);
        for (auto it = rules_.begin(); it != rules_.end(); ++it) {
            if (!it->second.matches(event, off, len))
                continue;
            int error = it->second.error;
            std::string msg = "blkdebug: injected error " + std::to_string(error) + " (" +
                              std::strerror(error) + ") at " + std::string(event) + ", " +
                              std::to_string(len) + " bytes at offset " + std::to_string(off) +
                              " (" + it->second.key + ")";
            if (it->second.once)
                rules_.erase(it);
            lock.unlock();
            return done.fail(error, msg);
        }
        auto bp = std::find_if(breakpoints_.begin(), breakpoints_.end(),
                               [&](const auto &b) { return b.event == event; });
        if (bp != breakpoints_.end()) {
            // One-shot, as in QEMU: the next request at this event runs through.
            suspended_.push_back({bp->tag, std::string(event), std::move(done), std::move(next)});
            breakpoints_.erase(bp);
            return;
        }
        lock.unlock();
        next(std::move(done));
    }

    // "*" is the host's "everything" (used when a device closes).
    static bool matches(std::string_view have, std::string_view want)
    {
        return want == "*" || have == want;
    }

    std::vector<suspended> take_suspended(std::string_view tag, std::size_t max)
    {
        std::vector<suspended> out;
        for (auto it = suspended_.begin(); it != suspended_.end() && out.size() < max;) {
            if (matches(it->tag, tag)) {
                out.push_back(std::move(*it));
                it = suspended_.erase(it);
            } else {
                ++it;
            }
        }
        return out;
    }

    std::optional<child> image_;
    // Guards everything below: resume and remove_breakpoint may come from a
    // thread other than the device's.
    std::mutex mutex_;
    uint64_t align_ = 1;
    uint64_t mem_align_ = 1;
    uint64_t max_transfer_ = 0;
    std::map<uint64_t, rule> rules_;
    std::vector<breakpoint> breakpoints_;
    std::vector<suspended> suspended_;
};

}  // namespace

GRANULE_DEFINE_DRIVER(blkdebug_node)
