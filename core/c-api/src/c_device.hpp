// What a granule_device handle is: the C++ device, the queue of its polled
// completions, and the strings granule_get_limits hands out.
#pragma once

#include "completion_queue.hpp"

#include <granule/device.hpp>

#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

struct granule_device {
    // Declared first, destroyed last: the device's destructor completes the
    // requests in flight, and those without a callback go to this queue.
    granule::c_api::completion_queue completions;
    std::unique_ptr<granule::device> dev;

    // A pointer to an equal string that lives until close: limits' sources
    // are few and repeat, so each is kept once.
    const char *intern(const std::string &s)
    {
        std::lock_guard lock(strings_mu_);
        return strings_.insert(s).first->c_str();
    }

private:
    std::mutex strings_mu_;
    std::set<std::string, std::less<>> strings_;
};

namespace granule::c_api {

// The device whose completion callback runs on this thread, if any: a
// callback must not wait for its own device (close, a blocking poll).
granule_device *&callback_device();

}  // namespace granule::c_api
