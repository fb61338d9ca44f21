// How many threads this process has: the one OS-specific helper of the unit
// tests, for checking that closing a device joins every thread it started.
#pragma once

#include <cstddef>

#ifdef _WIN32
#include <windows.h>
#include <tlhelp32.h>
#else
#include <filesystem>
#endif

namespace granule_test {

inline std::size_t thread_count()
{
    std::size_t n = 0;
#ifdef _WIN32
    HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0);
    if (snap == INVALID_HANDLE_VALUE)
        return 0;
    THREADENTRY32 te{};
    te.dwSize = sizeof te;
    for (BOOL ok = Thread32First(snap, &te); ok; ok = Thread32Next(snap, &te))
        if (te.th32OwnerProcessID == GetCurrentProcessId())
            ++n;
    CloseHandle(snap);
#else
    for ([[maybe_unused]] const auto &e : std::filesystem::directory_iterator("/proc/self/task"))
        ++n;
#endif
    return n;
}

}  // namespace granule_test
