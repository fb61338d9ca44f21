// stdout shared by the command loop and aio completions, which run on the
// device's executor thread. Each write() is one whole block of lines, so a
// completion never lands in the middle of a hexdump, and it is flushed at
// once so golden outputs and interactive users see lines in completion order.
#pragma once

#include <cstdio>
#include <mutex>
#include <string_view>

namespace granule_io {

class output {
public:
    void write(std::string_view text)
    {
        std::lock_guard lock(mutex_);
        std::fwrite(text.data(), 1, text.size(), stdout);
        std::fflush(stdout);
    }

private:
    std::mutex mutex_;
};

}  // namespace granule_io
