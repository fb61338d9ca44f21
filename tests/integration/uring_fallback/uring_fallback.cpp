// raw-posix falls back to its thread pool when io_uring is forbidden: a
// seccomp filter makes io_uring_setup fail with ENOSYS, as a container
// runtime's default profile or kernel.io_uring_disabled would.
#include <granule/device.hpp>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace {

int failures = 0;

void check(bool ok, const std::string &what)
{
    std::printf("%s: %s\n", ok ? "ok" : "FAIL", what.c_str());
    failures += !ok;
}

bool forbid_io_uring()
{
    sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog prog{static_cast<unsigned short>(std::size(filter)), filter};
    return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
           prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0;
}

}  // namespace

int main()
{
    // Before any thread exists: every later thread inherits the filter.
    if (!forbid_io_uring()) {
        std::printf("cannot install a seccomp filter: %s\n", std::strerror(errno));
        return 1;
    }
    auto dir = std::filesystem::temp_directory_path() / ("granule-uring-fallback-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    auto file = (dir / "img").string();
    { std::FILE *f = std::fopen(file.c_str(), "w"); if (f) std::fclose(f); }

    auto dev = granule::device::open("driver=raw-posix,filename=" + file + ",cache.direct=on,growable=on");
    check(bool(dev), "default aio opens without io_uring");
    if (dev) {
        auto tree = (*dev)->describe();
        check(tree.find("aio: threads (io_uring unavailable: io_uring_setup:") != std::string::npos,
              "info names the fallback and why:\n" + tree);
        std::vector<char> out(5000, 'x'), in(5000);
        auto w = (*dev)->pwrite(1234, out.data(), out.size());
        auto f = (*dev)->flush();
        auto r = (*dev)->pread(1234, in.data(), in.size());
        check(w && f && r && in == out, "unaligned O_DIRECT write and read through the thread pool");
    }
    auto forced = granule::device::open("driver=raw-posix,filename=" + file + ",aio=io_uring");
    check(!forced && forced.error().message.find("io_uring is not available") != std::string::npos,
          "aio=io_uring refused: " + (forced ? std::string("opened!") : forced.error().message));
    std::filesystem::remove_all(dir);
    return failures ? 1 : 0;
}
