// A node is one opened driver instance: its options, flags, limits and
// children. Nodes form a tree opened bottom-up from dotted options; the
// tree is owned by a device and torn down top-down.
#pragma once

#include "registry.hpp"

#include <granule/device.hpp>
#include <granule/limits.hpp>
#include <granule/options.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace granule {
class node;
}

// The opaque handle drivers use to reach a child node.
struct granule_child {
    granule::node *node;
    std::uint32_t caller_abi;  // the parent driver's abi_version: what it may see
};

namespace granule {

class node {
public:
    // path: the key prefix of this node in the user's options ("" for the
    // root, "image." for blkdebug's child), so errors name the full key.
    static result<std::unique_ptr<node>> open(const options &opts, bool read_only,
                                              const std::string &path = "");
    ~node();

    const granule_driver &driver() const { return driver_->table; }
    void *state() const { return state_; }
    const limits &get_limits() const { return limits_; }
    std::uint32_t flags() const { return flags_; }
    std::int64_t length() const { return driver_->table.length(state_); }
    const std::vector<std::unique_ptr<node>> &children() const { return children_; }
    // This node's own keys as its driver validated them (normalised values).
    const options &own_options() const { return own_options_; }

    // Recomputes limits bottom-up (children first), as after a reopen.
    result<void> refresh_limits();
    // Applies option changes to this node (keys without prefix) and to
    // children ("image.cache.direct"), then refreshes limits.
    result<void> reopen(const options &changes);

    // Called after a parent driver submitted to this node (child_submit), so
    // the device can unplug: a filter may submit outside the device's own
    // driver calls (blkdebug resuming a suspended request).
    void set_submit_hook(const std::function<void()> &hook)
    {
        submit_hook_ = hook;
        for (auto &c : children_)
            c->set_submit_hook(hook);
    }
    void after_submit() const
    {
        if (submit_hook_)
            submit_hook_();
    }

    // The first node (pre-order) that implements debug hooks, or nullptr.
    node *debug_node();
    // This node and its children as device::description() shows them.
    node_description description(const std::string &name) const;

private:
    node() = default;
    result<void> refresh_own_limits();

    const driver_entry *driver_ = nullptr;
    void *state_ = nullptr;
    bool opened_ = false;
    std::uint32_t flags_ = 0;
    limits limits_;
    std::string path_;
    options own_options_;
    std::vector<std::unique_ptr<node>> children_;
    std::vector<std::string> child_names_;
    std::vector<std::unique_ptr<granule_child>> child_handles_;
    std::function<void()> submit_hook_;
};

const granule_host &host_table();

}  // namespace granule
