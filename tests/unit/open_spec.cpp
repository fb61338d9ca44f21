// open_spec SPEC: opens SPEC with granule::device::open and prints the
// outcome. The driver registry scans its directories once per process, so
// tst_loader runs each GRANULE_DRIVER_PATH case in a fresh process of this.
// Exit 0: "ok length N"; exit 1: "error CODE: MESSAGE"; exit 2: usage.
#include <granule/device.hpp>

#include <cstdio>

int main(int argc, char **argv)
{
    if (argc != 2) {
        std::fprintf(stderr, "usage: open_spec SPEC\n");
        return 2;
    }
    auto dev = granule::device::open(argv[1]);
    if (!dev) {
        std::printf("error %d: %s\n", dev.error().code, dev.error().message.c_str());
        return 1;
    }
    std::printf("ok length %llu\n", static_cast<unsigned long long>((*dev)->length()));
    return 0;
}
