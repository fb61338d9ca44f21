#include "progress.hpp"

#include <algorithm>
#include <string>

namespace granule_img {

namespace {

constexpr int bar_width = 50;

}  // namespace

progress_meter::progress_meter(std::FILE *out, bool terminal, std::uint64_t total)
    : out_(out), terminal_(terminal), total_(total)
{
    if (terminal_)
        bar(0);
    else
        record(0);
}

void progress_meter::update(std::uint64_t done)
{
    const double percent =
        total_ ? std::min(100.0, 100.0 * static_cast<double>(done) / static_cast<double>(total_)) : 0;
    if (percent >= 100)
        return;  // finish() says 100 once
    if (terminal_) {
        if (std::chrono::steady_clock::now() - last_draw_ >= bar_interval && percent != last_)
            bar(percent);
    } else if (percent > last_ + 1.0) {  // qemu's min_skip of 1 %
        record(percent);
    }
}

void progress_meter::finish(bool complete)
{
    if (complete) {
        if (terminal_)
            bar(100);
        else
            record(100);
    }
    std::fputc('\n', out_);
    std::fflush(out_);
}

void progress_meter::record(double percent)
{
    std::fprintf(out_, "    (%3.2f/100%%)\r", percent);
    std::fflush(out_);
    last_ = percent;
}

void progress_meter::bar(double percent)
{
    const int filled = static_cast<int>(percent / 100.0 * bar_width);
    std::fprintf(out_, "\r    [%s%s] %6.2f%%", std::string(static_cast<std::size_t>(filled), '#').c_str(),
                 std::string(static_cast<std::size_t>(bar_width - filled), '.').c_str(), percent);
    std::fflush(out_);
    last_ = percent;
    last_draw_ = std::chrono::steady_clock::now();
}

}  // namespace granule_img
