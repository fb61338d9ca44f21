#include "node.hpp"

#include <granule/value_parse.hpp>

#include <granule/platform/system_error.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

namespace granule {

namespace {

constexpr std::size_t errlen = 512;

const granule_option_desc *find_desc(const granule_driver &d, const std::string &key)
{
    for (std::uint32_t i = 0; i < d.n_options; ++i) {
        const auto &o = d.options[i];
        if (key == o.name)
            return &o;
        if ((o.flags & GRANULE_OPTF_PREFIX) && key.rfind(o.name, 0) == 0 &&
            key.size() > std::strlen(o.name))
            return &o;
    }
    return nullptr;
}

std::string known_options(const granule_driver &d)
{
    std::string s;
    for (std::uint32_t i = 0; i < d.n_options; ++i) {
        s += s.empty() ? "" : ", ";
        s += d.options[i].name;
        if (d.options[i].flags & GRANULE_OPTF_PREFIX)
            s += "*";
    }
    for (auto c = d.children; c && *c; ++c)
        s += std::string(s.empty() ? "" : ", ") + *c + ".*";
    return s.empty() ? "none" : s;
}

// Checks every key against the driver's declarations and normalises values
// (sizes to decimal bytes, booleans to on/off) so drivers parse trivially.
result<options> validate_options(const granule_driver &d, const options &own,
                                 const std::string &path, bool require_all = true)
{
    options out;
    const std::string who = std::string(d.name) + ": ";
    for (const auto &[key, value] : own) {
        const auto *desc = find_desc(d, key);
        if (!desc)
            return make_error(EINVAL, who + "unknown option '" + path + key + "' (known: " +
                                          known_options(d) + ")");
        const std::string what = who + "option '" + path + key + "'";
        switch (desc->type) {
        case GRANULE_OPT_SIZE: {
            auto v = parse_size(value, what);
            if (!v)
                return v.error();
            out[key] = std::to_string(*v);
            break;
        }
        case GRANULE_OPT_BOOL: {
            auto v = parse_bool(value, what);
            if (!v)
                return v.error();
            out[key] = *v ? "on" : "off";
            break;
        }
        case GRANULE_OPT_INT: {
            if (auto v = values::parse_int(value); !v)
                return make_error(EINVAL, what + ": invalid value '" + value + "': " + v.error);
            out[key] = value;
            break;
        }
        default:
            out[key] = value;
        }
    }
    for (std::uint32_t i = 0; i < d.n_options; ++i) {
        const auto &o = d.options[i];
        if (require_all && (o.flags & GRANULE_OPTF_REQUIRED) && !(o.flags & GRANULE_OPTF_PREFIX) &&
            !out.count(o.name))
            return make_error(EINVAL, who + "missing required option '" + path + o.name + "'");
    }
    return out;
}

std::vector<granule_option> abi_options(const options &opts)
{
    std::vector<granule_option> v;
    for (const auto &[k, val] : opts)
        v.push_back({k.c_str(), val.c_str()});
    return v;
}

std::string message_or(const char *err, int rc)
{
    if (err && *err)
        return err;
    return platform::error_text(-rc);
}

// Host services handed to drivers; each forwards to the child's driver.
// Flags follow the child's declarations (driver_abi.h, granule_host): a
// flag it did not declare never reaches it.
const char *undeclared_fua(granule_child *c)
{
    static thread_local std::string msg;
    msg = std::string("FUA passed to child '") + c->node->driver().name +
          "', which does not declare GRANULE_NODE_FUA (a filter declares FUA only when its "
          "child does)";
    return msg.c_str();
}

int host_child_submit(granule_child *c, const granule_request *req, granule_completion_fn cb,
                      void *opaque)
{
    if ((req->flags & GRANULE_REQ_FUA) && !(c->node->flags() & GRANULE_NODE_FUA)) {
        cb(opaque, -EINVAL, undeclared_fua(c));
        return 0;
    }
    if (req->flags & ~GRANULE_REQ_FUA) {
        cb(opaque, -EINVAL, "child_submit: unknown request flags");
        return 0;
    }
    int rc = c->node->driver().submit(c->node->state(), req, cb, opaque);
    c->node->after_submit();
    return rc;
}
int64_t host_child_length(granule_child *c) { return c->node->length(); }
void host_child_limits(granule_child *c, granule_limits *out)
{
    // Sources point into the child's limits, valid until they are refreshed.
    auto all = to_abi(c->node->get_limits());
    // To a filter built for 1.0, max_iov is reserved space: zero.
    if (GRANULE_ABI_MINOR_OF(c->caller_abi) < 1)
        all.max_iov = {};
    const auto size = out->struct_size;
    std::memcpy(out, &all, std::min<std::size_t>(size, sizeof all));
    out->struct_size = size;
}
void host_child_flush(granule_child *c, uint32_t flags, granule_completion_fn cb, void *opaque)
{
    if (flags)
        return cb(opaque, -EINVAL, "child_flush: flush takes no flags");
    if (auto f = c->node->driver().flush)
        return f(c->node->state(), 0, cb, opaque);
    cb(opaque, 0, nullptr);
}
void host_child_discard(granule_child *c, uint64_t off, uint64_t len, uint32_t flags,
                        granule_completion_fn cb, void *opaque)
{
    if (flags)
        return cb(opaque, -EINVAL, "child_discard: discard takes no flags");
    if (auto f = c->node->driver().discard)
        return f(c->node->state(), off, len, 0, cb, opaque);
    cb(opaque, -ENOTSUP, nullptr);
}
void host_child_write_zeroes(granule_child *c, uint64_t off, uint64_t len, uint32_t flags,
                             granule_completion_fn cb, void *opaque)
{
    const auto declared = c->node->flags();
    if ((flags & GRANULE_REQ_FUA) && !(declared & GRANULE_NODE_FUA))
        return cb(opaque, -EINVAL, undeclared_fua(c));
    if ((flags & GRANULE_REQ_NO_FALLBACK) && !(declared & GRANULE_NODE_ZERO_NO_FALLBACK))
        return cb(opaque, -ENOTSUP, "the child cannot promise zeroing without a fallback");
    if (!(declared & GRANULE_NODE_ZERO_MAY_UNMAP))
        flags &= ~GRANULE_REQ_MAY_UNMAP;  // a permission: without it the child just zeroes
    if (flags & ~(GRANULE_REQ_FUA | GRANULE_REQ_MAY_UNMAP | GRANULE_REQ_NO_FALLBACK))
        return cb(opaque, -EINVAL, "child_write_zeroes: unknown flags");
    if (auto f = c->node->driver().write_zeroes)
        return f(c->node->state(), off, len, flags, cb, opaque);
    cb(opaque, -ENOTSUP, nullptr);
}
void host_child_block_status(granule_child *c, uint64_t off, uint64_t len, uint32_t flags,
                             granule_block_status *out, granule_completion_fn cb, void *opaque)
{
    if (flags)
        return cb(opaque, -EINVAL, "child_block_status: block_status takes no flags");
    if (auto f = c->node->driver().block_status)
        return f(c->node->state(), off, len, 0, out, cb, opaque);
    out->bytes = len;
    out->status = GRANULE_BLOCK_DATA;
    cb(opaque, 0, nullptr);
}
int host_child_truncate(granule_child *c, uint64_t len, char *err, size_t n)
{
    if (auto f = c->node->driver().truncate)
        return f(c->node->state(), len, err, n);
    std::snprintf(err, n, "%s: cannot be resized", c->node->driver().name);
    return -ENOTSUP;
}
uint32_t host_child_flags(granule_child *c) { return c->node->flags(); }

}  // namespace

const granule_host &host_table()
{
    static const granule_host host = [] {
        granule_host h{};
        h.struct_size = sizeof h;
        h.abi_version = GRANULE_DRIVER_ABI_VERSION;
        h.child_submit = host_child_submit;
        h.child_length = host_child_length;
        h.child_limits = host_child_limits;
        h.child_flush = host_child_flush;
        h.child_discard = host_child_discard;
        h.child_write_zeroes = host_child_write_zeroes;
        h.child_block_status = host_child_block_status;
        h.child_truncate = host_child_truncate;
        h.child_flags = host_child_flags;
        return h;
    }();
    return host;
}

result<std::unique_ptr<node>> node::open(const options &opts, bool read_only,
                                         const std::string &path)
{
    auto &registry = driver_registry::instance();
    const driver_entry *entry = nullptr;
    if (auto it = opts.find("driver"); it != opts.end()) {
        auto found = registry.find(it->second);
        if (!found)
            return make_error(found.error().code,
                              "option '" + path + "driver': " + found.error().message);
        entry = *found;
    } else if (auto f = opts.find("filename"); f != opts.end()) {
        auto found = registry.for_filename(f->second);
        if (!found)
            return make_error(found.error().code,
                              "option '" + path + "filename': " + found.error().message);
        entry = *found;
    } else {
        return make_error(EINVAL, "missing option '" + path + "driver' (or '" + path +
                                      "filename')");
    }
    const auto &d = entry->table;

    std::unique_ptr<node> n(new node());
    n->driver_ = entry;
    n->path_ = path;
    if (auto ro = opts.find("read-only"); ro != opts.end()) {
        auto v = parse_bool(ro->second, "option '" + path + "read-only'");
        if (!v)
            return v.error();
        read_only = read_only || *v;
    }

    // Children first: a filter's open may already talk to its child.
    options own;
    for (const auto &[k, v] : opts)
        if (k != "driver" && k != "read-only")
            own.emplace(k, v);
    for (auto c = d.children; c && *c; ++c) {
        std::string name = *c;
        auto child_opts = sub_options(opts, name);
        if (auto it = opts.find(name); it != opts.end())  // "image=d.img" shorthand
            child_opts.emplace("filename", it->second);
        std::erase_if(own, [&](const auto &kv) {
            return kv.first == name || kv.first.rfind(name + ".", 0) == 0;
        });
        if (child_opts.empty())
            return make_error(EINVAL, std::string(d.name) + ": missing child '" + path + name +
                                          "' (give " + path + name + ".driver=... or " + path +
                                          name + ".filename=...)");
        auto child = node::open(child_opts, read_only, path + name + ".");
        if (!child)
            return child.error();
        n->child_handles_.push_back(
            std::make_unique<granule_child>(granule_child{child->get(), d.abi_version}));
        n->children_.push_back(std::move(*child));
        n->child_names_.push_back(name);
    }

    auto validated = validate_options(d, own, path);
    if (!validated)
        return validated.error();
    n->own_options_ = *validated;
    auto abi_opts = abi_options(n->own_options_);
    std::vector<granule_child *> handles;
    for (auto &h : n->child_handles_)
        handles.push_back(h.get());

    granule_open_args args{};
    args.struct_size = sizeof args;
    // The device watches poll_fd() of every node (device_impl::watch_polls).
    args.flags = (read_only ? GRANULE_OPEN_READ_ONLY : 0) | GRANULE_OPEN_HOST_POLLS |
                 GRANULE_OPEN_HOST_UNPLUGS;
    args.options = abi_opts.data();
    args.n_options = static_cast<std::uint32_t>(abi_opts.size());
    args.children = handles.data();
    args.n_children = static_cast<std::uint32_t>(handles.size());
    args.host = &host_table();
    granule_open_result out{};
    out.struct_size = sizeof out;
    char err[errlen] = "";
    int rc = d.open(&args, &out, err, sizeof err);
    if (rc < 0)
        return make_error(-rc, std::string(d.name) + ": " + message_or(err, rc));
    n->state_ = out.state;
    n->opened_ = true;
    n->flags_ = out.flags | (read_only ? GRANULE_NODE_READ_ONLY : 0);
    auto refreshed = n->refresh_own_limits();
    if (!refreshed)
        return refreshed.error();  // ~node closes the driver
    return n;
}

node::~node()
{
    if (opened_)
        driver_->table.close(state_);
}

result<void> node::refresh_own_limits()
{
    limits inherited;
    for (const auto &c : children_)
        inherited = inherit(inherited, c->get_limits());
    const auto &d = driver();
    limits reported = inherited;
    if (d.refresh_limits) {
        const auto sent = to_abi(inherited);  // its sources point into inherited
        auto l = sent;
        // To a driver built for 1.0, max_iov is reserved space: zero on the
        // way in, and the children's value on the way out.
        const bool knows_max_iov = GRANULE_ABI_MINOR_OF(d.abi_version) >= 1;
        if (!knows_max_iov)
            l.max_iov = {};
        char err[errlen] = "";
        int rc = d.refresh_limits(state_, &l, err, sizeof err);
        if (rc < 0)
            return make_error(-rc, std::string(d.name) + ": " + message_or(err, rc));
        if (!knows_max_iov)
            l.max_iov = sent.max_iov;
        reported = from_driver(l, sent, inherited, d.name);
    }
    // A driver may add requirements but never drop its children's.
    limits mine = inherit(reported, inherited);
    if (auto bad = normalise_and_check(mine))
        return make_error(EINVAL, std::string(d.name) + ": driver reported " + *bad);
    limits_ = mine;
    return {};
}

result<void> node::refresh_limits()
{
    for (auto &c : children_)
        if (auto r = c->refresh_limits(); !r)
            return r;
    return refresh_own_limits();
}

result<void> node::reopen(const options &changes)
{
    options own;
    for (const auto &[k, v] : changes) {
        bool for_child = false;
        for (std::size_t i = 0; i < child_names_.size(); ++i) {
            if (k.rfind(child_names_[i] + ".", 0) == 0) {
                for_child = true;
                break;
            }
        }
        if (!for_child)
            own.emplace(k, v);
    }
    for (std::size_t i = 0; i < children_.size(); ++i) {
        auto sub = sub_options(changes, child_names_[i]);
        if (!sub.empty())
            if (auto r = children_[i]->reopen(sub); !r)
                return r;
    }
    if (!own.empty()) {
        const auto &d = driver();
        // A reopen names only what changes.
        auto validated = validate_options(d, own, path_, false);
        if (!validated)
            return validated.error();
        if (!d.reopen)
            return make_error(ENOTSUP, std::string(d.name) + ": does not support reopen");
        auto abi_opts = abi_options(*validated);
        char err[errlen] = "";
        int rc = d.reopen(state_, abi_opts.data(), static_cast<std::uint32_t>(abi_opts.size()),
                          err, sizeof err);
        if (rc < 0)
            return make_error(-rc, std::string(d.name) + ": " + message_or(err, rc));
        options previous;
        for (const auto &[k, v] : *validated)
            if (auto it = own_options_.find(k); it != own_options_.end())
                previous.emplace(k, it->second);
        auto refreshed = refresh_own_limits();
        if (!refreshed) {
            // Put back what the user had set, so the driver does not enforce
            // limits the device refused. (A key that was at its default
            // cannot be put back: the ABI has no "unset".)
            auto old = abi_options(previous);
            char ignored[errlen] = "";
            if (!old.empty())
                d.reopen(state_, old.data(), static_cast<std::uint32_t>(old.size()), ignored,
                         sizeof ignored);
            (void)refresh_own_limits();
            return refreshed;
        }
        for (const auto &[k, v] : *validated)
            own_options_[k] = v;
        return refreshed;
    }
    return refresh_own_limits();
}

node *node::debug_node()
{
    if (driver().debug_event)
        return this;
    for (auto &c : children_)
        if (auto *n = c->debug_node())
            return n;
    return nullptr;
}

node_description node::description(const std::string &name) const
{
    node_description d;
    d.name = name;
    d.driver = driver().name;
    for (const auto &[k, v] : own_options_) {
        const auto *desc = find_desc(driver(), k);
        d.own_options[k] = desc && (desc->flags & GRANULE_OPTF_SECRET) ? "***" : redact_secrets(v);
    }
    if (driver().info) {
        char buf[2048] = "";
        driver().info(state_, buf, sizeof buf);
        std::string_view lines(buf);
        while (!lines.empty()) {
            auto nl = lines.find('\n');
            auto line = lines.substr(0, nl);
            if (!line.empty())
                d.info.emplace_back(line);
            if (nl == std::string_view::npos)
                break;
            lines.remove_prefix(nl + 1);
        }
    }
    for (std::size_t i = 0; i < children_.size(); ++i)
        d.children.push_back(children_[i]->description(child_names_[i]));
    return d;
}

}  // namespace granule
