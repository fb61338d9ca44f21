// Requests per second through the C++ API (granule/device.hpp), the
// baseline bench/api_overhead.sh compares the C API and Python with.
//   api_overhead_cpp SPEC sync|async COUNT [DEPTH]
// 4096-byte reads of aligned memory at aligned offsets: no padding, no
// bounce, so what is measured is the API's own cost per request.
#include <granule/device.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <string>
#include <vector>

namespace {

constexpr std::size_t block = 4096;

struct async_run {
    granule::device &dev;
    std::uint64_t count, length;
    char *buffers;
    std::uint64_t issued = 0, done = 0;  // the device's thread only
    std::promise<void> finished;

    void submit(std::size_t slot)
    {
        std::uint64_t offset = issued++ * block % length;
        dev.async_preadv(offset, {{buffers + slot * block, block}},
                         [this, slot](std::exception_ptr, granule::result<std::size_t> r) {
                             if (!r) {
                                 std::fprintf(stderr, "read: %s\n", r.error().message.c_str());
                                 std::exit(1);
                             }
                             if (++done == count)
                                 finished.set_value();
                             else if (issued < count)
                                 submit(slot);
                         });
    }
};

}  // namespace

int main(int argc, char **argv)
{
    if (argc < 4) {
        std::fprintf(stderr, "usage: %s SPEC sync|async COUNT [DEPTH]\n", argv[0]);
        return 2;
    }
    std::string mode = argv[2];
    std::uint64_t count = std::strtoull(argv[3], nullptr, 10);
    std::size_t depth = argc > 4 ? std::strtoul(argv[4], nullptr, 10) : 1;
    auto dev = granule::device::open(argv[1]);
    if (!dev) {
        std::fprintf(stderr, "open: %s\n", dev.error().message.c_str());
        return 1;
    }
    std::uint64_t length = (*dev)->length();
    auto *buffers = static_cast<char *>(std::aligned_alloc(block, block * depth));
    auto t0 = std::chrono::steady_clock::now();
    if (mode == "sync") {
        for (std::uint64_t i = 0; i < count; ++i)
            if (auto r = (*dev)->pread(i * block % length, buffers, block); !r) {
                std::fprintf(stderr, "read: %s\n", r.error().message.c_str());
                return 1;
            }
    } else {
        async_run run{**dev, count, length, buffers};
        auto finished = run.finished.get_future();
        // The first submissions go from this thread, as a caller's would.
        for (std::size_t slot = 0; slot < depth && slot < count; ++slot)
            boost::asio::post((*dev)->get_executor(), [&run, slot] { run.submit(slot); });
        finished.wait();
    }
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("%.0f\n", count / s);
    std::free(buffers);
}
